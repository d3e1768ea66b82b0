/*
 * Residency exceptions: signed, short-lived waivers of named reason codes.
 */
export { buildExceptionStatement } from './statement';
export type { ExceptionPredicate, ExceptionStatement } from './statement';
export { signException } from './sign';
export type { SignedException } from './sign';
export { checkException, exceptionKeyFromPem } from './verify';
export type { ExceptionCheck, ExceptionCheckCode } from './verify';
export { buildExceptionEventRecord, exceptionEventProblems } from './events';
