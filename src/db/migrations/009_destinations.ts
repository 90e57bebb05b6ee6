import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('destinations', (t) => {
    t.string('id', 32).primary();
    t.string('stream_id', 32).notNullable().index();
    // rtmp:// or rtmps://host[:port]/app; the key apart, kept as is: it is sent to the platform.
    t.string('url', 2048).notNullable();
    t.string('stream_key', 512).notNullable();
    // Written by the node with the stream as pushing it changes: every node's API shows it.
    t.string('status', 16).notNullable().defaultTo('idle');
    t.string('last_error', 500).nullable();
    t.bigInteger('status_at').nullable();
    t.bigInteger('created_at').notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('destinations');
}
