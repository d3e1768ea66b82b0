/*
 * Residency backend: signed verification summaries (SLSA VSA v1), one per evidence
 * record and image digest, stored beside the evidence they summarise.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('residency_vsa', table => {
    table.comment(
      'Signed SLSA verification summaries (VSA v1) issued for the decided images of an evidence record',
    );
    table
      .string('evidence_id', 64)
      .notNullable()
      .comment(
        'Id of the evidence record the VSA summarises (residency_evidence.id)',
      );
    table
      .string('digest', 160)
      .notNullable()
      .comment('Image digest the VSA is about (its only subject)');
    table
      .string('entity_ref', 512)
      .notNullable()
      .comment('Entity of the evidence record');
    table
      .string('tenant', 255)
      .notNullable()
      .comment('Tenant whose policy was applied');
    table
      .string('verification_result', 16)
      .notNullable()
      .comment('PASSED or FAILED');
    table
      .string('time_verified', 40)
      .notNullable()
      .comment(
        'timeVerified of the VSA (ISO 8601); re-issued when a decision is confirmed',
      );
    table
      .string('key_fingerprint', 64)
      .notNullable()
      .comment('SHA-256 of the DER public key of the signing key');
    table
      .text('envelope')
      .notNullable()
      .comment('DSSE envelope JSON, as cosign attest writes it');
    table
      .text('bundle')
      .notNullable()
      .comment('Sigstore bundle v0.3 JSON with a public-key hint');
    table
      .timestamp('created_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now())
      .comment('When this VSA was (re-)issued');
    table.primary(['evidence_id', 'digest'], 'residency_vsa_pkey');
    table.index(['digest', 'tenant'], 'residency_vsa_digest_tenant_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('residency_vsa');
};
