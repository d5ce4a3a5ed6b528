#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: the API's login role, a member of
# the application role (which the migrations also create if missing) that cannot bypass
# row-level security. Migrations, workers and the scheduler use the owner (POSTGRES_USER).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v api_password="$API_DB_PASSWORD" <<'SQL'
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'catalytic_app') then
    create role catalytic_app nologin nobypassrls;
  end if;
end $$;
create role catalytic_api login nosuperuser nobypassrls nocreatedb nocreaterole in role catalytic_app;
alter role catalytic_api password :'api_password';
SQL
