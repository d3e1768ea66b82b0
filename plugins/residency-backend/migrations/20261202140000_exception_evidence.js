/*
 * Residency backend: exception events join the entity's evidence chain. Each
 * evidence record gets a kind (`decision`, or an exception event such as
 * `exception.approved`); the separate exception event chain is dropped (its
 * events were never exported; new events are evidence records). An approved
 * exception keeps the public key that signed it, for the evidence of waivers.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('residency_evidence', table => {
    table
      .string('kind', 40)
      .notNullable()
      .defaultTo('decision')
      .comment(
        'decision, or the exception event (exception.requested, exception.approved, exception.rejected, exception.revoked, exception.expired, exception.applied)',
      );
  });
  await knex.schema.dropTable('residency_exception_events');
  await knex.schema.alterTable('residency_exceptions', table => {
    table
      .text('public_key_pem')
      .nullable()
      .comment('SPKI PEM of the key that signed the envelope');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('residency_exceptions', table => {
    table.dropColumn('public_key_pem');
  });
  await knex.schema.createTable('residency_exception_events', table => {
    table.comment(
      'Hash-chained exception events per entity, anchored to its evidence head',
    );
    table.string('entity_ref', 512).notNullable().comment('Entity');
    table
      .integer('sequence')
      .notNullable()
      .comment('1-based position in the entity exception chain');
    table.string('exception_id', 64).notNullable().comment('Exception');
    table
      .string('kind', 16)
      .notNullable()
      .comment('requested, approved, rejected, revoked, expired');
    table
      .text('record')
      .notNullable()
      .comment('Canonical JSON of the event record');
    table
      .string('record_hash', 64)
      .notNullable()
      .comment('SHA-256 of the canonical record');
    table
      .string('previous_hash', 64)
      .nullable()
      .comment('record_hash of the previous event of the entity');
    table
      .timestamp('created_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now())
      .comment('When the event was recorded');
    table.primary(
      ['entity_ref', 'sequence'],
      'residency_exception_events_pkey',
    );
  });
  // Exception event records stay in the chains (deleting them would break every
  // later link); only the column that marks them goes.
  await knex.schema.alterTable('residency_evidence', table => {
    table.dropColumn('kind');
  });
};
