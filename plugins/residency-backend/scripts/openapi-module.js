#!/usr/bin/env node
/*
 * Writes src/schema/openapi.generated.ts, the spec of src/schema/openapi.yaml as a
 * TypeScript constant for createValidatedOpenApiRouter. Backstage's repo-tools
 * generator does the same but needs a Java jar; this needs only `yaml`.
 * src/schema/openapi.test.ts fails when the module is older than the yaml.
 *
 * Usage: node scripts/openapi-module.js [--print]
 */
// @ts-check
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');
const prettier = require('prettier');

const schemaDir = join(__dirname, '..', 'src', 'schema');

const moduleFile = join(schemaDir, 'openapi.generated.ts');

/**
 * The module text for a spec text, formatted with the repository's prettier
 * settings so that `prettier --check` in npm test agrees with a fresh run.
 */
function openapiModule(yamlText) {
  const spec = parse(yamlText);
  const text = [
    '// GENERATED from openapi.yaml by scripts/openapi-module.js; do not edit.',
    '// Run `node scripts/openapi-module.js` in plugins/residency-backend after',
    '// changing the yaml (openapi.test.ts checks the two agree).',
    '',
    '/* eslint-disable */',
    `export const spec = ${JSON.stringify(spec, null, 2)} as const;`,
    '',
  ].join('\n');
  const options = prettier.resolveConfig.sync(moduleFile) ?? {};
  return prettier.format(text, { ...options, filepath: moduleFile });
}

module.exports = { openapiModule };

if (require.main === module) {
  const text = openapiModule(
    readFileSync(join(schemaDir, 'openapi.yaml'), 'utf8'),
  );
  if (process.argv.includes('--print')) {
    process.stdout.write(text);
  } else {
    writeFileSync(moduleFile, text);
  }
}
