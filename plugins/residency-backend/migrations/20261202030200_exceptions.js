/*
 * Residency backend: exceptions (two-person approved, short-lived waivers), their
 * hash-chained events, the residency state last seen per entity (to detect
 * worsening transitions), and the notifications already sent (deduplicated across
 * replicas by primary key).
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('residency_exceptions', table => {
    table.comment('Residency exceptions: waivers of reason codes for digests');
    table.string('id', 64).primary().comment('Random exception id (UUID)');
    table
      .string('entity_ref', 512)
      .notNullable()
      .comment('Entity the exception is for');
    table
      .string('status', 16)
      .notNullable()
      .comment('requested, approved, rejected, revoked or expired');
    table
      .text('reason_codes')
      .notNullable()
      .comment('JSON array of the waived reason codes');
    table
      .text('digests')
      .notNullable()
      .comment('JSON array of the covered image digests');
    table.text('justification').notNullable().comment('Why it is needed');
    table
      .string('reference', 512)
      .notNullable()
      .comment('Ticket or legal reference');
    table
      .string('requested_by', 512)
      .notNullable()
      .comment('User entity ref of the requester');
    table
      .string('requested_at', 40)
      .notNullable()
      .comment('Request time (ISO 8601)');
    table
      .string('expires_at', 40)
      .notNullable()
      .comment('End of the window (ISO 8601)');
    table
      .string('decided_by', 512)
      .nullable()
      .comment('Approver, rejecter or revoker');
    table
      .string('decided_at', 40)
      .nullable()
      .comment('Time of approval, rejection or revocation (ISO 8601)');
    table.text('comment').nullable().comment('Why rejected or revoked');
    table
      .text('envelope')
      .nullable()
      .comment('Signed in-toto statement (DSSE envelope JSON), once approved');
    table
      .string('key_fingerprint', 64)
      .nullable()
      .comment('SHA-256 of the DER public key that signed it');
    table.index(['entity_ref'], 'residency_exceptions_entity_idx');
    table.index(['status', 'expires_at'], 'residency_exceptions_status_idx');
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

  await knex.schema.createTable('residency_entity_state', table => {
    table.comment(
      'Residency state last seen per entity (with exceptions), for transitions',
    );
    table.string('entity_ref', 512).primary().comment('Entity');
    table
      .string('state', 32)
      .notNullable()
      .comment('resident, resident_by_exception, not_resident or unknown');
    table
      .integer('transition')
      .notNullable()
      .comment('Number of state changes seen (compare-and-set counter)');
    table.text('detail').nullable().comment('JSON: waivers or uncovered codes');
    table
      .timestamp('changed_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now())
      .comment('When the state last changed');
  });

  await knex.schema.createTable('residency_notifications_sent', table => {
    table.comment('Notifications already sent, one row per transition');
    table
      .string('dedup_key', 700)
      .primary()
      .comment('entity and transition, or exception and notice');
    table
      .timestamp('sent_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now())
      .comment('When the replica that won the key sent it');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('residency_notifications_sent');
  await knex.schema.dropTable('residency_entity_state');
  await knex.schema.dropTable('residency_exception_events');
  await knex.schema.dropTable('residency_exceptions');
};
