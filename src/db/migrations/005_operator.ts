import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('streams', (t) => {
    // An operator asked for the live session to be cut (API or CLI); every node acts on it.
    t.bigInteger('kick_requested_at').nullable();
  });
  await db.schema.createTable('audit_log', (t) => {
    t.string('id', 32).primary();
    t.bigInteger('at').notNullable();
    t.string('token_id', 32).notNullable();
    t.string('token_name', 100).notNullable();
    t.string('action', 64).notNullable();
    t.string('target', 100).nullable();
    // `ok`, or the error code the request ended with.
    t.string('outcome', 32).notNullable();
    t.integer('status').notNullable();
    t.index(['at', 'id']);
  });
  await db.schema.createTable('webhooks', (t) => {
    t.string('id', 32).primary();
    t.string('url', 2048).notNullable();
    t.string('description', 200).notNullable().defaultTo('');
    // JSON array of event types.
    t.text('events').notNullable();
    // Kept as is: it signs every delivery, so it cannot be hashed.
    t.string('secret', 100).notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.bigInteger('created_at').notNullable();
  });
  await db.schema.createTable('webhook_deliveries', (t) => {
    t.string('id', 32).primary();
    t.string('webhook_id', 32).notNullable();
    t.string('event_id', 32).notNullable();
    t.string('event_type', 32).notNullable();
    t.text('payload').notNullable();
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_attempt_at').notNullable();
    // A node sending this delivery holds it until then; another node may take it over after.
    t.bigInteger('lease_until').nullable();
    t.integer('last_status').nullable();
    t.string('last_error', 300).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('delivered_at').nullable();
    t.index(['status', 'next_attempt_at']);
    t.index(['webhook_id', 'created_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('webhook_deliveries');
  await db.schema.dropTable('webhooks');
  await db.schema.dropTable('audit_log');
  await db.schema.alterTable('streams', (t) => t.dropColumn('kick_requested_at'));
}
