#!/usr/bin/env node
/*
 * Generates the Residency demo (keys, signed images in OCI layouts, catalog and
 * app-config.demo.yaml). Usage: node packages/signing-kit/bin/generate-demo.js [--dir <dir>]
 * From a source checkout it registers Backstage's TypeScript transform and runs src/.
 */
'use strict';

const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const fromSource = fs.existsSync(path.join(root, 'src', 'demo.ts'));
if (fromSource) {
  require('@backstage/cli-node/config/nodeTransform.cjs');
}
const { generateDemo } = require(fromSource
  ? '../src/demo.ts'
  : '../dist/index.cjs.js');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir' && argv[i + 1]) out.dir = argv[++i];
    else if (a.startsWith('--dir=')) out.dir = a.slice('--dir='.length);
    else if (a === '--quiet') out.quiet = true;
    else if (a === '-h' || a === '--help') out.help = true;
    else throw new Error(`unknown argument: ${a}`);
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write('usage: generate-demo.js [--dir <dir>] [--quiet]\n');
    return 0;
  }
  const log = args.quiet
    ? () => {}
    : m => process.stderr.write(`[demo] ${m}\n`);
  const res = await generateDemo({
    dir: args.dir,
    repoRoot: path.resolve(root, '..', '..'),
    log,
  });
  log(`${res.created ? 'created' : 'up to date'}: ${res.configFile}`);
  return 0;
}

main().then(
  code => {
    process.exitCode = code;
  },
  error => {
    process.stderr.write(
      `generate-demo: ${error && error.message ? error.message : error}\n`,
    );
    process.exitCode = 1;
  },
);
