#!/usr/bin/env node
/*
 * Checks a running backend of the out-of-tree install test: the Residency API refuses a
 * call without a token, answers with a real guest token, and decides the demo entities:
 * payments-api (signed by the EU-sovereign key, with provenance and SBOM) is compliant,
 * ledger-worker (unsigned image) is not.
 * Usage: node check-backend.js <backend base url>
 */
'use strict';

const base = process.argv[2];
const deadline = Date.now() + 120_000;
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function call(path, { token, method = 'GET' } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'x-requested-with': 'XMLHttpRequest',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/** Retries `attempt` until it returns a value or the deadline passes. */
async function until(what, attempt) {
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(1000);
  }
  throw new Error(
    `timed out waiting for ${what}${last ? `: ${last.message}` : ''}`,
  );
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`  ok  ${message}`);
}

async function decisionOf(token, name) {
  const refresh = await call(
    `/api/residency/entities/component/default/${name}/refresh`,
    {
      token,
      method: 'POST',
    },
  );
  // The catalog may not have read the entity yet: retry until the refresh is accepted.
  if (refresh.status >= 300) return undefined;
  const status = await call(
    `/api/residency/entities/component/default/${name}/status`,
    {
      token,
    },
  );
  if (status.status !== 200) return undefined;
  const decisions = (status.body.images ?? []).map(i => i.decision);
  return decisions.length ? decisions : undefined;
}

async function main() {
  const token = await until('guest sign-in', async () => {
    const res = await call('/api/auth/guest/refresh');
    return res.status === 200 ? res.body.backstageIdentity?.token : undefined;
  });
  expect(
    typeof token === 'string' && token.split('.').length === 3,
    'guest sign-in gave a JWT',
  );

  const anonymous = await call('/api/residency/entities');
  expect(
    anonymous.status === 401,
    `GET /api/residency/entities without a token: ${anonymous.status}`,
  );

  const listed = await call('/api/residency/entities', { token });
  expect(
    listed.status === 200 && Array.isArray(listed.body.items),
    `GET /api/residency/entities with the token: ${listed.status}`,
  );

  const resident = await until('a decision for payments-api', () =>
    decisionOf(token, 'payments-api'),
  );
  expect(
    resident.every(d => d === 'compliant'),
    `payments-api (EU-sovereign key, provenance, SBOM) decided ${resident.join(
      ',',
    )}`,
  );
  const unsigned = await until('a decision for ledger-worker', () =>
    decisionOf(token, 'ledger-worker'),
  );
  expect(
    unsigned.length > 0 && unsigned.every(d => d !== 'compliant'),
    `ledger-worker (unsigned image) decided ${unsigned.join(',')}`,
  );
}

main().catch(error => {
  console.error(`FAIL ${error.message}`);
  process.exit(1);
});
