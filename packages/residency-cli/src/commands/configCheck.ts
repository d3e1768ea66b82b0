import { EXIT, type ExitCode } from '../errors';
import type { CliIo } from '../io';
import type { EngineApi, ResidencySettings } from '../engine';
import { keyValueRows, safe, table } from '../format/text';
import { loadSettingsFromFiles } from './settings';

export interface ConfigCheckOptions {
  files: string[];
  json?: boolean;
}

/** The `--json` document of `residency config check` (see README). */
export function configSummary(settings: ResidencySettings, files: string[]) {
  return {
    ok: true as const,
    files,
    boundaries: settings.boundaries,
    registries: settings.registries.map(r => ({
      host: r.host,
      region: r.region,
      insecure: r.insecure,
      authenticated: r.credentials !== undefined,
    })),
    layouts: (settings.layouts ?? []).map(l => ({
      path: l.path,
      region: l.region,
    })),
    trustedRoots: (settings.trustedRoots ?? []).map(t => ({
      name: t.name,
      sha256: t.sha256,
    })),
    keys: settings.keys.map(k => ({
      id: k.id,
      region: k.region,
      regionSource: k.regionSource,
      algorithm: k.algorithm,
      fingerprint: k.fingerprint,
      validFrom: k.validFrom,
      validUntil: k.validUntil,
      revoked: k.revoked,
    })),
    tenants: Object.fromEntries(
      Object.entries(settings.tenants).map(([id, t]) => [
        id,
        {
          boundary: t.boundary,
          regions: settings.boundaries[t.boundary] ?? [],
          require: t.require,
          allowedHosts: t.allowedHosts,
          rules: t.rules.map(r => ({ id: r.id, message: r.message })),
          identities: (t.identities ?? []).map(i => ({
            subject: i.subject,
            subjectRegExp: i.subjectRegExp,
            issuer: i.issuer,
            region: i.region,
          })),
        },
      ]),
    ),
    limits: settings.limits,
  };
}

function validity(k: ResidencySettings['keys'][number]): string {
  if (!k.validFrom && !k.validUntil) return 'always';
  return `${k.validFrom ?? '…'} .. ${k.validUntil ?? '…'}`;
}

/** `residency config check <file>...`: load, validate, and show what was understood. */
export async function configCheckCommand(
  options: ConfigCheckOptions,
  io: CliIo,
  engine: EngineApi,
): Promise<ExitCode> {
  const { settings, loaded } = await loadSettingsFromFiles(
    options.files,
    io,
    engine,
  );
  const summary = configSummary(settings, loaded.files);
  if (options.json) {
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    return EXIT.OK;
  }
  const out: string[] = [];
  out.push(`Configuration OK: ${loaded.files.join(' + ')}`);
  out.push('');
  out.push('Boundaries');
  const boundaryNames = Object.keys(settings.boundaries);
  out.push(
    boundaryNames.length === 0
      ? '  (none)'
      : keyValueRows(
          boundaryNames.map(n => [n, settings.boundaries[n].join(', ')]),
        ),
  );
  out.push('');
  out.push('Registries (the only hosts ever contacted)');
  out.push(
    settings.registries.length === 0
      ? '  (none)'
      : indent(
          table(
            ['HOST', 'REGION', 'TRANSPORT', 'AUTH'],
            summary.registries.map(r => [
              safe(r.host),
              r.region,
              r.insecure ? 'plain http (insecure)' : 'https',
              r.authenticated ? 'credentials' : 'anonymous',
            ]),
          ),
        ),
  );
  if (summary.layouts.length > 0) {
    out.push('');
    out.push('OCI layouts on disk');
    out.push(
      indent(
        table(
          ['PATH', 'REGION'],
          summary.layouts.map(l => [safe(l.path, 200), l.region]),
        ),
      ),
    );
  }
  if (summary.trustedRoots.length > 0) {
    out.push('');
    out.push('Trusted roots (keyless)');
    out.push(
      indent(
        table(
          ['NAME', 'SHA-256'],
          summary.trustedRoots.map(t => [safe(t.name), t.sha256]),
        ),
      ),
    );
  }
  out.push('');
  out.push('Keys');
  out.push(
    settings.keys.length === 0
      ? '  (none)'
      : indent(
          table(
            [
              'ID',
              'REGION',
              'REGION FROM',
              'ALGORITHM',
              'FINGERPRINT (SPKI SHA-256)',
              'VALID',
              'STATUS',
            ],
            settings.keys.map(k => [
              safe(k.id, 120),
              k.region,
              k.regionSource === 'id' ? 'key id' : 'explicit',
              k.algorithm,
              k.fingerprint,
              validity(k),
              k.revoked ? 'REVOKED' : 'active',
            ]),
          ),
        ),
  );
  out.push('');
  out.push('Tenants');
  const tenantIds = Object.keys(summary.tenants);
  if (tenantIds.length === 0) out.push('  (none)');
  for (const id of tenantIds) {
    const t = summary.tenants[id];
    const inside = (region: string) => t.regions.includes(region);
    out.push(`  ${id}`);
    out.push(
      keyValueRows(
        [
          ['boundary', `${t.boundary} [${t.regions.join(', ')}]`],
          ['requires', t.require.join(', ') || '(nothing)'],
          ['allowed hosts', t.allowedHosts.join(', ') || undefined],
          [
            'rules',
            t.rules.length ? t.rules.map(r => r.id).join(', ') : undefined,
          ],
          [
            'keyless identities',
            t.identities.length
              ? t.identities
                  .map(
                    i =>
                      `${safe(i.subject ?? `/${i.subjectRegExp}/`)} via ${safe(
                        i.issuer,
                      )} [${i.region}]`,
                  )
                  .join('; ')
              : undefined,
          ],
          [
            'registries inside',
            settings.registries
              .filter(r => inside(r.region))
              .map(r => r.host)
              .join(', ') || '(none)',
          ],
          [
            'keys inside',
            settings.keys
              .filter(k => inside(k.region) && !k.revoked)
              .map(k => safe(k.id, 120))
              .join(', ') || '(none)',
          ],
        ],
        '    ',
      ),
    );
  }
  io.stdout(`${out.join('\n')}\n`);
  return EXIT.OK;
}

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map(l => by + l)
    .join('\n');
}
