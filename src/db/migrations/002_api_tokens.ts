import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('api_tokens', (t) => {
    t.string('id', 32).primary();
    t.string('name', 100).notNullable();
    t.string('scope', 16).notNullable();
    t.string('token_hash', 64).notNullable().unique();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at').nullable();
    t.bigInteger('revoked_at').nullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('api_tokens');
}
