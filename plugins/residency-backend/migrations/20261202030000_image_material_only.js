/*
 * Residency backend: the per-digest cache holds registry material only.
 *
 * residency_image_results kept, beside the material, the ImageResult it was
 * decided into and the trust and policy hashes of that decision. Nothing read
 * them: the engine decides reused material again under the current trust and
 * policy. The three columns are dropped.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('residency_image_results', table => {
    table.dropColumn('result');
    table.dropColumn('trust_hash');
    table.dropColumn('policy_hash');
  });
  await knex.schema.alterTable('residency_image_results', table => {
    table.comment(
      'Latest fetched signed material per image digest, reused until revalidateAfter (decided again under the current trust and policy)',
    );
  });
};

/**
 * The columns come back empty: the cache is emptied first (it is refetched from
 * the registries), so no row carries a result it was not decided into.
 *
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex('residency_image_results').delete();
  await knex.schema.alterTable('residency_image_results', table => {
    table
      .string('trust_hash', 64)
      .notNullable()
      .defaultTo('')
      .comment(
        'SHA-256 of the trust configuration the stored result was decided under (informational)',
      );
    table
      .string('policy_hash', 64)
      .notNullable()
      .defaultTo('')
      .comment(
        'SHA-256 of the tenant policy the stored result was decided under (informational)',
      );
    table
      .text('result')
      .notNullable()
      .defaultTo('{}')
      .comment('JSON of the ImageResult');
    table.comment(
      'Latest fetched signed material and result per image digest, reused until revalidateAfter (decided again under the current trust and policy)',
    );
  });
};
