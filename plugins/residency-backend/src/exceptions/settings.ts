import { InputError } from '@backstage/errors';
import type { Config } from '@backstage/config';

/** Exception and alert settings (`residency.exceptions`, `residency.alerts`). */
export interface ExceptionSettings {
  /** Longest window in days for tenants without their own. */
  maxDays: number;
  /** Per-tenant longest windows (never above `maxDays`). */
  tenantMaxDays: Record<string, number>;
  /** Extra notification recipients per tenant (entity refs). */
  recipients: Record<string, string[]>;
  /** Portal base URL for links (empty: relative links). */
  baseUrl: string;
}

export const DEFAULT_EXCEPTION_MAX_DAYS = 7;
const ABSOLUTE_MAX_DAYS = 90;

function days(c: Config, key: string, path: string, max: number): number {
  const v = c.getOptional(key);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw new InputError(`${path} must be a number of days in (0, ${max}]`);
  }
  return v;
}

export function readExceptionSettings(config: Config): ExceptionSettings {
  const ex = config.getOptionalConfig('residency.exceptions');
  const maxDays = ex?.has('maxDays')
    ? days(ex, 'maxDays', 'residency.exceptions.maxDays', ABSOLUTE_MAX_DAYS)
    : DEFAULT_EXCEPTION_MAX_DAYS;
  const tenantMaxDays: Record<string, number> = {};
  const tenants = ex?.getOptionalConfig('tenants');
  for (const t of tenants?.keys() ?? []) {
    const tc = tenants!.getConfig(t);
    if (tc.has('maxDays'))
      tenantMaxDays[t] = days(
        tc,
        'maxDays',
        `residency.exceptions.tenants.${t}.maxDays`,
        maxDays,
      );
  }
  const alerts = config.getOptionalConfig('residency.alerts');
  const recipients: Record<string, string[]> = {};
  const rc = alerts?.getOptionalConfig('recipients');
  for (const t of rc?.keys() ?? []) {
    recipients[t] = rc!.getStringArray(t);
  }
  return {
    maxDays,
    tenantMaxDays,
    recipients,
    baseUrl: (alerts?.getOptionalString('baseUrl') ?? '').replace(/\/+$/, ''),
  };
}
