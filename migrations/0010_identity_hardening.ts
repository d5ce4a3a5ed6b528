// Credentials that cannot outlive their user: deleting a user revokes the API keys they made, in
// the database, so a deletion made in SQL revokes them too (the foreign key then clears user_id).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function revoke_api_keys_of_deleted_user() returns trigger
    language plpgsql set search_path = public as $$
    begin
      update api_keys set revoked_at = now() where user_id = old.id and revoked_at is null;
      return old;
    end $$`);
  await knex.raw(`
    create trigger users_revoke_api_keys before delete on users
    for each row execute function revoke_api_keys_of_deleted_user()`);
  // Keys whose user was deleted before this migration: revoked like any other.
  await knex.raw(`update api_keys set revoked_at = now() where user_id is null and revoked_at is null`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop trigger if exists users_revoke_api_keys on users`);
  await knex.raw(`drop function if exists revoke_api_keys_of_deleted_user()`);
}
