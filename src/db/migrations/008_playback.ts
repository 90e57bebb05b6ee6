import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('streams', (t) => {
    // `public`: anyone with the playback id watches; `signed`: only with a playback token.
    t.string('playback', 16).notNullable().defaultTo('public');
  });
  await db.schema.createTable('playback_keys', (t) => {
    t.string('id', 32).primary();
    // Kept as is: every node checks tokens' signatures with it, so it cannot be hashed.
    t.string('secret', 64).notNullable();
    t.string('name', 100).notNullable().defaultTo('');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('revoked_at').nullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('playback_keys');
  await db.schema.alterTable('streams', (t) => {
    t.dropColumn('playback');
  });
}
