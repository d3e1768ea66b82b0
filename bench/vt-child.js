/*
 * Section 7 in a fresh process (spawned by run.js): the same verificationThroughput
 * over the same material, with nothing of sections 1-6 in this process. Input: a JSON
 * file { config, material, refs, publicKeyPem }; prints one JSON line.
 */
'use strict';

const { readFileSync } = require('node:fs');
const { settingsOf } = require('./lib');
const { verificationThroughput } = require('./backend');

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const r = verificationThroughput(
  settingsOf(input.config),
  input.material,
  input.refs,
  input.publicKeyPem,
);
delete r.rounds;
process.stdout.write(`${JSON.stringify(r)}\n`);
