import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('streams', (t) => {
    t.string('profile', 32).notNullable().defaultTo('ladder');
    t.boolean('record').notNullable().defaultTo(false);
    // Null: the configured default.
    t.integer('reconnect_window_seconds').nullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('streams', (t) => {
    t.dropColumn('profile');
    t.dropColumn('record');
    t.dropColumn('reconnect_window_seconds');
  });
}
