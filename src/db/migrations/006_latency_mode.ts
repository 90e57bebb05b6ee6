import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('streams', (t) => {
    // `low`: LL-HLS parts and blocking reloads; `standard`: whole segments only.
    t.string('latency_mode', 16).notNullable().defaultTo('low');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('streams', (t) => {
    t.dropColumn('latency_mode');
  });
}
