#!/usr/bin/env node
/*
 * Checks the package.json and contents of each packed tarball (`npm pack` output) the way a
 * registry user gets them: entry points exist and point into dist/, no workspace-only path
 * (src/, ../) is left, `files` is set, a package with a config.d.ts ships its compiled
 * config.schema.json, `engines.node` is set, and every module the built code requires or
 * imports is a Node built-in, the package itself, or a declared dependency/peer dependency
 * (a devDependency needed at run time is a failure). A require on a line marked
 * `// source checkout only` is skipped.
 * Usage: node check-tarballs.js <dir with *.tgz>
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { builtinModules } = require('node:module');

const dir = process.argv[2];
const problems = [];
const tarballs = fs.readdirSync(dir).filter(f => f.endsWith('.tgz'));
if (tarballs.length === 0) problems.push(`no tarballs in ${dir}`);

function entryTargets(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') {
    return Object.values(value).flatMap(entryTargets);
  }
  return [];
}

function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

for (const tarball of tarballs) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'residency-tgz-'));
  execFileSync('tar', ['xzf', path.join(dir, tarball), '-C', tmp]);
  const root = path.join(tmp, 'package');
  const pkg = JSON.parse(
    fs.readFileSync(path.join(root, 'package.json'), 'utf8'),
  );
  const fail = msg => problems.push(`${pkg.name}: ${msg}`);

  if (!Array.isArray(pkg.files) || pkg.files.length === 0) fail('no "files"');
  if (!pkg.engines?.node) fail('no engines.node');
  if (pkg.private) fail('marked private');
  if (!pkg.license) fail('no license');
  const entries = [
    pkg.main,
    pkg.module,
    pkg.types,
    ...entryTargets(pkg.exports),
  ]
    .concat(Object.values(pkg.bin ?? {}))
    .filter(e => typeof e === 'string' && !e.startsWith('@backstage/'));
  if (!pkg.main && !pkg.exports) fail('neither main nor exports');
  for (const entry of entries) {
    if (/(^|\/)src\//.test(entry) || entry.startsWith('..')) {
      fail(`workspace-only path "${entry}"`);
    } else if (!fs.existsSync(path.join(root, entry))) {
      fail(`entry "${entry}" is missing from the tarball`);
    }
  }
  if (pkg.backstage?.role?.startsWith('backend-plugin') && !pkg.types) {
    fail('no types');
  }
  if (typeof pkg.configSchema === 'string') {
    if (!fs.existsSync(path.join(root, pkg.configSchema))) {
      fail(`configSchema "${pkg.configSchema}" is missing`);
    } else if (pkg.configSchema.endsWith('.d.ts')) {
      fail('configSchema is TypeScript source, not the compiled JSON schema');
    }
  }
  for (const ws of ['workspace:', 'file:', 'link:']) {
    for (const field of ['dependencies', 'peerDependencies']) {
      for (const [name, range] of Object.entries(pkg[field] ?? {})) {
        if (String(range).startsWith(ws))
          fail(`${field}.${name} is "${range}"`);
      }
    }
  }

  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ]);
  const builtins = new Set(builtinModules.flatMap(m => [m, `node:${m}`]));
  const walk = d =>
    fs
      .readdirSync(d, { withFileTypes: true })
      .flatMap(e =>
        e.isDirectory()
          ? walk(path.join(d, e.name))
          : /\.(c|m)?js$/.test(e.name) ||
            (e.name !== 'package.json' && !e.name.includes('.'))
          ? [path.join(d, e.name)]
          : [],
      );
  const code = walk(root).filter(
    f => !f.includes(`${path.sep}node_modules${path.sep}`),
  );
  const pattern =
    /(?:require\(\s*|\bfrom\s+|\bimport\(\s*|^\s*import\s+)['"]([^'"./][^'"]*)['"]/gm;
  for (const file of code) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(pattern)) {
      const spec = match[1];
      const lineEnd = text.indexOf('\n', match.index);
      const line = text.slice(match.index, lineEnd < 0 ? undefined : lineEnd);
      // A require that only runs in a source checkout (the CLI launcher's TS transform).
      if (line.includes('// source checkout only')) continue;
      if (builtins.has(spec) || builtins.has(spec.split('/')[0])) continue;
      if (!declared.has(packageOf(spec))) {
        fail(`${path.relative(root, file)} needs "${spec}", not a dependency`);
      }
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`checked ${tarball}`);
}

if (problems.length) {
  for (const p of problems) console.error(`FAIL ${p}`);
  process.exit(1);
}
console.log(
  `${tarballs.length} tarballs: package.json complete, no undeclared run-time import`,
);
