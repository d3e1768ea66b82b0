/*
 * Residency backend: an index for the Services tab's text search (issue 14).
 *
 * On PostgreSQL, `q=` is `lower(entity_ref) like '%…%' or lower(coalesce(title, ''))
 * like '%…%'`; two trigram GIN indexes (pg_trgm) on exactly those expressions let the
 * planner answer it with a bitmap scan instead of reading every row. The extension is
 * created only where the server offers it and the migration's role may create it
 * (pg_trgm is a trusted extension since PostgreSQL 13); otherwise the search stays a
 * sequential scan, correct but slower. SQLite keeps the plain `like` scan: there is
 * nothing to create.
 */

// @ts-check

const ENTITY_INDEX = 'residency_entity_status_ref_trgm_idx';
const TITLE_INDEX = 'residency_entity_status_title_trgm_idx';

/**
 * @param {import('knex').Knex} knex
 */
function isPostgres(knex) {
  return String(knex.client.config.client).includes('pg');
}

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  if (!isPostgres(knex)) {
    return;
  }
  const available = await knex.raw(
    `select 1 from pg_available_extensions where name = 'pg_trgm'`,
  );
  if (available.rows.length === 0) {
    return;
  }
  // A savepoint: a role that may not create the extension leaves the migration
  // (and its transaction) intact, without the index.
  let created = true;
  try {
    await knex.transaction(async trx => {
      await trx.raw('create extension if not exists pg_trgm');
    });
  } catch {
    created = false;
  }
  if (!created) {
    return;
  }
  // The extension may live in another schema than this plugin's (one extension
  // per database): name its operator class with that schema.
  const schema = await knex.raw(
    `select extnamespace::regnamespace::text as schema from pg_extension where extname = 'pg_trgm'`,
  );
  const opclass = `${schema.rows[0].schema}.gin_trgm_ops`;
  await knex.raw(
    `create index if not exists ${ENTITY_INDEX} on residency_entity_status using gin (lower(entity_ref) ${opclass})`,
  );
  await knex.raw(
    `create index if not exists ${TITLE_INDEX} on residency_entity_status using gin (lower(coalesce(title, '')) ${opclass})`,
  );
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  if (!isPostgres(knex)) {
    return;
  }
  // The extension stays: other schemas of the database may use it.
  await knex.raw(`drop index if exists ${TITLE_INDEX}`);
  await knex.raw(`drop index if exists ${ENTITY_INDEX}`);
};
