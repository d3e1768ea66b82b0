// Database tests run on SQLite and on the PostgreSQL 15 server of the project's
// machines (see ENVIRONMENT.md); set RESIDENCY_TEST_SQLITE_ONLY=1 where it is absent.
if (!process.env.RESIDENCY_TEST_SQLITE_ONLY) {
  process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??=
    'postgresql://postgres@127.0.0.1:5432';
}
export {};
