/*
 * Residency backend: a confirmation (same decision and inputs as the status's
 * evidence) no longer rewrites the status's stored EntityResult (`detail`, ~20 KB)
 * when nothing in it but the check's time and its report changed. `detail_key`
 * fingerprints the rest of it (images, digests, when their signatures were
 * fetched, engine version, ...); while it matches, a confirmation only moves the
 * small columns. Existing rows have none: their next check writes it.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('residency_entity_status', table => {
    table
      .string('detail_key', 64)
      .nullable()
      .comment(
        'SHA-256 of detail without its check time and reports: a confirmation with the same key leaves detail as it is',
      );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('residency_entity_status', table => {
    table.dropColumn('detail_key');
  });
};
