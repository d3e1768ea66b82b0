import type { LoggerService } from '@backstage/backend-plugin-api';
import { ServiceUnavailableError } from '@backstage/errors';
import type { ErrorRequestHandler } from 'express';

/** Seconds a client is asked to wait before retrying while the database is out. */
export const DATABASE_RETRY_AFTER_SECONDS = 30;

/** Socket-level codes of a connection that failed or broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
]);

/**
 * True when an error means the database cannot be reached or is going away,
 * not that a query was wrong: network errors, knex's pool timeout, and the
 * PostgreSQL classes 08 (connection exception) and 57P (operator intervention:
 * shutdown, crash, cannot connect now), or the pg driver's "Connection terminated".
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: any = error, depth = 0; e && depth < 5; e = e.cause, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (NETWORK_CODES.has(code)) return true;
    if (/^08|^57P0[1-3]$/.test(code)) return true;
    if (e.name === 'KnexTimeoutError') return true;
    if (
      typeof e.message === 'string' &&
      /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/.test(
        e.message,
      )
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Turns a database outage into 503 with Retry-After and a generic message. The
 * driver's message names the database host, port and error number: it goes to
 * the log only, never into the response.
 */
export function databaseUnavailableHandler(options: {
  logger: LoggerService;
}): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (!isDatabaseUnavailable(error)) {
      next(error);
      return;
    }
    options.logger.error(
      `Residency database unavailable on ${req.method} ${req.baseUrl}${req.path}`,
      error,
    );
    res.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
    next(
      new ServiceUnavailableError(
        'The residency database is unavailable; retry later.',
      ),
    );
  };
}
