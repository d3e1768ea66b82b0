/*
 * Residency backend: initial schema.
 *
 * - residency_entity_status: current status per catalog entity;
 * - residency_image_results: verified results per image digest, for incremental reuse;
 * - residency_evidence: the append-only, hash-chained evidence log (one chain per entity);
 * - residency_refresh_claims: expiring leases that let several replicas split a refresh cycle.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('residency_entity_status', table => {
    table.comment(
      'Current residency status of each catalog entity that lists images',
    );
    table
      .string('entity_ref', 512)
      .notNullable()
      .comment('Stringified entity ref, e.g. component:default/payments');
    table.string('title', 512).nullable().comment('Entity title for display');
    table
      .string('tenant', 255)
      .nullable()
      .comment('Tenant id from the residency.dev/tenant annotation');
    table
      .string('declared_region', 255)
      .nullable()
      .comment('Region from the residency.dev/region annotation');
    table
      .string('decision', 32)
      .notNullable()
      .comment(
        'compliant, non_compliant, unknown or invalid (of the evidence shown)',
      );
    table
      .boolean('stale')
      .notNullable()
      .defaultTo(false)
      .comment(
        'True when the latest check could not decide and the last good evidence is shown',
      );
    table
      .text('reason_codes')
      .notNullable()
      .comment('JSON array of the reason codes of the decision');
    table
      .text('images')
      .notNullable()
      .comment('JSON array of the image references');
    table
      .string('inputs_hash', 64)
      .notNullable()
      .comment(
        'SHA-256 of the annotations the status was computed from (images, tenant, region)',
      );
    table
      .string('evidence_key', 64)
      .nullable()
      .comment(
        'SHA-256 of the decision and its inputs; a new evidence record is written when it changes',
      );
    table
      .string('evidence_id', 64)
      .nullable()
      .comment('Id of the evidence record behind the status');
    table
      .text('detail')
      .notNullable()
      .comment('JSON of the full EntityResult shown');
    table
      .text('last_attempt')
      .nullable()
      .comment(
        'JSON of the latest check that could not decide (decision, reasons, checkedAt)',
      );
    table
      .string('checked_at', 32)
      .notNullable()
      .comment('ISO time the decision shown was made');
    table
      .timestamp('last_verified_at', { useTz: true })
      .nullable()
      .comment('Database time the decision shown was last confirmed');
    table
      .timestamp('updated_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now())
      .comment('Database time of the last change to this row');
    table.primary(['entity_ref'], 'residency_entity_status_pkey');
    table.index(['decision'], 'residency_entity_status_decision_idx');
    table.index(['tenant'], 'residency_entity_status_tenant_idx');
  });

  await knex.schema.createTable('residency_image_results', table => {
    table.comment(
      'Latest fetched signed material and result per image digest, reused until revalidateAfter (decided again under the current trust and policy)',
    );
    table
      .string('digest', 128)
      .notNullable()
      .comment('Image manifest digest, e.g. sha256:<hex>');
    table
      .string('trust_hash', 64)
      .notNullable()
      .comment(
        'SHA-256 of the trust configuration the stored result was decided under (informational)',
      );
    table
      .string('policy_hash', 64)
      .notNullable()
      .comment(
        'SHA-256 of the tenant policy the stored result was decided under (informational)',
      );
    table
      .timestamp('verified_at', { useTz: true })
      .notNullable()
      .comment('Database time the signatures were fetched and verified');
    table.text('result').notNullable().comment('JSON of the ImageResult');
    table
      .text('material')
      .notNullable()
      .comment('JSON of the ImageMaterial (raw signed material)');
    table.primary(['digest'], 'residency_image_results_pkey');
    table.index(['verified_at'], 'residency_image_results_verified_at_idx');
  });

  await knex.schema.createTable('residency_evidence', table => {
    table.comment(
      'Append-only evidence log; each entity has its own hash chain',
    );
    table
      .string('id', 64)
      .notNullable()
      .comment(
        'Deterministic id derived from entity ref, sequence and record hash',
      );
    table
      .string('entity_ref', 512)
      .notNullable()
      .comment('Entity the record is about');
    table
      .integer('sequence')
      .notNullable()
      .comment('Position in the entity chain, starting at 1');
    table
      .string('previous_hash', 64)
      .nullable()
      .comment(
        'record_hash of the previous record of the entity, null for the first',
      );
    table
      .string('record_hash', 64)
      .notNullable()
      .comment(
        'SHA-256 hex of canonical JSON of {sequence, previousHash, record}',
      );
    table.string('decision', 32).notNullable().comment('Decision recorded');
    table
      .text('reason_codes')
      .notNullable()
      .comment('JSON array of reason codes recorded');
    table
      .boolean('checkpoint')
      .notNullable()
      .defaultTo(false)
      .comment('True for a checkpoint record written by retention');
    table.text('record').notNullable().comment('JSON of the EvidenceRecord');
    table
      .timestamp('created_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now())
      .comment('Database time the record was appended');
    table.primary(['id'], 'residency_evidence_pkey');
    table.unique(['entity_ref', 'sequence'], {
      indexName: 'residency_evidence_entity_sequence_uniq',
    });
  });

  await knex.schema.createTable('residency_refresh_claims', table => {
    table.comment(
      'Leases on entities during a refresh cycle, shared by all replicas',
    );
    table.string('entity_ref', 512).notNullable().comment('Claimed entity');
    table
      .string('lane', 16)
      .notNullable()
      .comment('full (scheduled cycle) or delta (annotation changes)');
    table
      .string('cycle_id', 128)
      .notNullable()
      .comment('Cycle the claim belongs to');
    table
      .string('claimed_by', 128)
      .notNullable()
      .comment('Id of the claiming refresher instance');
    table
      .timestamp('lease_expires_at', { useTz: true })
      .notNullable()
      .comment(
        'Database time after which another replica may take the claim over',
      );
    table
      .boolean('done')
      .notNullable()
      .defaultTo(false)
      .comment('True once the entity was evaluated in the cycle');
    table.primary(['entity_ref', 'lane'], 'residency_refresh_claims_pkey');
    table.index(['cycle_id'], 'residency_refresh_claims_cycle_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('residency_refresh_claims');
  await knex.schema.dropTable('residency_evidence');
  await knex.schema.dropTable('residency_image_results');
  await knex.schema.dropTable('residency_entity_status');
};
