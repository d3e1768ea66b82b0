/*
 * Issue 12 item 7, siblings in the CLI: every file a command reads from its arguments
 * (evidence bundles, Sigstore bundles, keys, catalog files, the VSA key) is read as the
 * engine reads files named in configuration: regular files only, size-capped, the
 * descriptor checked after open. `/dev/zero` used to be read until memory ran out
 * (`verify-vsa --key`), and a FIFO hung the command.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '@residency-dev/signing-kit';
import { run } from '../cli';
import { memoryIo } from '../io';

jest.setTimeout(30_000);

describe('files named on the command line are regular, bounded files (issue 12 item 7, siblings)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-reads-'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    writeFileSync(join(dir, 'key.pub'), generateKey('ecdsa-p256').publicKeyPem);
    writeFileSync(join(dir, 'artifact.bin'), 'x');
    writeFileSync(
      join(dir, 'app-config.yaml'),
      'residency:\n  boundaries: { eu: [eu-central-1] }\n  tenants: { t: { boundary: eu } }\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]) {
    const io = memoryIo({ cwd: dir });
    const started = Date.now();
    const code = await run(args, { io });
    return { code, err: io.err, ms: Date.now() - started };
  }

  const cases: [string, (f: string) => string[]][] = [
    ['verify-evidence <bundle>', f => ['verify-evidence', f]],
    [
      'verify-evidence --previous',
      f => ['verify-evidence', 'ok.json', '--previous', f],
    ],
    [
      'verify-bundle <bundle>',
      f => [
        'verify-bundle',
        f,
        '--artifact',
        'artifact.bin',
        '--key',
        'key.pub',
      ],
    ],
    [
      'verify-bundle --key',
      f => [
        'verify-bundle',
        'ok.json',
        '--artifact',
        'artifact.bin',
        '--key',
        f,
      ],
    ],
    [
      'verify --entity-file',
      f => ['verify', '-c', 'app-config.yaml', '-t', 't', '--entity-file', f],
    ],
    [
      'verify-vsa --key',
      f => [
        'verify-vsa',
        `oci:/nonexistent@sha256:${'a'.repeat(64)}`,
        '--key',
        f,
      ],
    ],
  ];

  beforeAll(() => {
    writeFileSync(
      join(dir, 'ok.json'),
      JSON.stringify({
        schema: 'https://residency.dev/evidence-bundle/v1',
        evidence: { record: {} },
      }),
    );
  });

  it.each(cases)(
    '%s: /dev/zero, a FIFO and a directory are refused at once (exit 3)',
    async (_name, args) => {
      for (const f of ['/dev/zero', join(dir, 'fifo'), dir]) {
        const r = await cli(...args(f));
        expect({ file: f, code: r.code }).toEqual({ file: f, code: 3 });
        expect(r.err).toMatch(/not a regular file|cannot read|EISDIR/);
        expect(r.ms).toBeLessThan(10_000);
      }
    },
  );
});
