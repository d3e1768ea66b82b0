#!/usr/bin/env node
/*
 * Wraps valid.statement.json in a Sigstore bundle (v0.3, DSSE, key-based) with
 * sigstore-js: @sigstore/sign's DSSEBundleBuilder computes the PAE and the bundle
 * layout; the signer is portal.key through node:crypto. No Residency code runs.
 * Writes valid.sigstore.json. Run by generate.sh.
 */
// @ts-check
const { readFileSync, writeFileSync } = require('node:fs');
const { createHash, createPrivateKey, createPublicKey, sign } = require('node:crypto');
const { join } = require('node:path');
const { DSSEBundleBuilder } = require('@sigstore/sign');

const here = __dirname;
const privateKey = createPrivateKey(readFileSync(join(here, 'portal.key')));
const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
const hint = createHash('sha256')
  .update(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }))
  .digest('hex');

/** @type {import('@sigstore/sign').Signer} */
const signer = {
  async sign(data) {
    return {
      signature: sign('sha256', data, privateKey),
      key: { $case: 'publicKey', publicKey: publicPem, hint },
    };
  },
};

async function main() {
  const bundle = await new DSSEBundleBuilder({ signer, witnesses: [] }).create({
    data: readFileSync(join(here, 'valid.statement.json')),
    type: 'application/vnd.in-toto+json',
  });
  const { bundleToJSON } = require('@sigstore/bundle');
  writeFileSync(
    join(here, 'valid.sigstore.json'),
    `${JSON.stringify(bundleToJSON(bundle), null, 2)}\n`,
  );
  console.log('valid.sigstore.json: sigstore-js DSSE bundle of valid.statement.json');
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
