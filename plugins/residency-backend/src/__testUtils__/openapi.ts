import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const spec = parse(
  readFileSync(join(__dirname, '..', 'schema', 'openapi.yaml'), 'utf8'),
);

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'spec');

/**
 * Errors of validating a response body against the schema that
 * `src/schema/openapi.yaml` gives for that operation and status (none = conforms).
 */
export function specErrors(options: {
  method: 'get' | 'post';
  path: string;
  status: number;
  body: unknown;
}): string[] {
  const operation = spec.paths?.[options.path]?.[options.method];
  const response = operation?.responses?.[String(options.status)];
  if (!response) {
    return [
      `no response ${options.status} for ${options.method} ${options.path}`,
    ];
  }
  const resolved = response.$ref
    ? spec.components.responses[response.$ref.split('/').pop()]
    : response;
  const schema = resolved.content?.['application/json']?.schema;
  if (!schema) {
    return [`no JSON schema for ${options.status}`];
  }
  const rewritten = JSON.parse(
    JSON.stringify(schema).replace(/"#\/components\//g, '"spec#/components/'),
  );
  const validate = ajv.compile(rewritten);
  return validate(options.body)
    ? []
    : (validate.errors ?? []).map(e => `${e.instancePath} ${e.message}`);
}
