import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('streams', (t) => {
    t.string('id', 32).primary();
    t.string('name', 200).notNullable();
    t.string('playback_id', 32).notNullable().unique();
    // SHA-256 of the stream key, hex. The key itself is never stored.
    t.string('key_hash', 64).notNullable().unique();
    t.boolean('enabled').notNullable().defaultTo(true);
    // Epoch milliseconds: identical on SQLite and MySQL, no time-zone conversions.
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['created_at', 'id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('streams');
}
