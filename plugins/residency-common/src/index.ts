/**
 * Isomorphic types, permissions, reason codes and the evidence schema of Residency.
 *
 * @packageDocumentation
 */
export * from './reasons';
export * from './types';
export * from './evidence';
export * from './report';
export * from './permissions';
export * from './entity';
export * from './exceptions';
export * from './signals';
