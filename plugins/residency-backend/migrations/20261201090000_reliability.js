/*
 * Residency backend: replica coordination for reliability (issue 13).
 *
 * - residency_refresh_requests: on-demand refreshes per principal, for the
 *   per-user rate limit shared by all replicas;
 * - residency_config_generations: the trust/policy configurations replicas run
 *   with, so that only replicas on the newest one decide.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('residency_refresh_requests', table => {
    table.comment(
      'On-demand refresh requests, counted per principal for the rate limit',
    );
    table.bigIncrements('id').comment('Row id');
    table
      .string('principal', 512)
      .notNullable()
      .comment('User entity ref or service subject that asked');
    table
      .string('entity_ref', 512)
      .notNullable()
      .comment('Entity whose refresh was asked for');
    table
      .timestamp('requested_at', { useTz: true })
      .notNullable()
      .comment('Database time of the request');
    table.index(
      ['principal', 'requested_at'],
      'residency_refresh_requests_principal_idx',
    );
    table.index(['requested_at'], 'residency_refresh_requests_time_idx');
  });

  await knex.schema.createTable('residency_config_generations', table => {
    table.comment(
      'Trust and policy configurations the replicas run with; only the newest live one decides',
    );
    table
      .bigIncrements('generation')
      .comment(
        'Order in which configurations were first seen (higher = newer)',
      );
    table
      .string('config_hash', 64)
      .notNullable()
      .comment('SHA-256 of the trust hash and every tenant policy hash');
    table
      .timestamp('first_seen_at', { useTz: true })
      .notNullable()
      .comment('Database time a replica first ran with this configuration');
    table
      .timestamp('last_seen_at', { useTz: true })
      .notNullable()
      .comment('Database time a replica last ran with it (liveness)');
    table.unique(['config_hash'], {
      indexName: 'residency_config_generations_hash_idx',
    });
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('residency_config_generations');
  await knex.schema.dropTable('residency_refresh_requests');
};
