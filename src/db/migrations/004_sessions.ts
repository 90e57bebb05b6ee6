import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('sessions', (t) => {
    t.string('id', 32).primary();
    t.string('stream_id', 32).notNullable();
    // The origin node that ingests the session; crash recovery closes only its own.
    t.string('node', 64).notNullable();
    t.string('state', 16).notNullable();
    t.string('client_address', 64).nullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('ended_at').nullable();
    t.string('end_reason', 32).nullable();
    t.bigInteger('bytes_in').notNullable().defaultTo(0);
    t.string('video_codec', 32).nullable();
    t.string('audio_codec', 32).nullable();
    t.integer('width').nullable();
    t.integer('height').nullable();
    t.float('frame_rate').nullable();
    t.string('profile', 32).notNullable();
    t.boolean('recorded').notNullable().defaultTo(false);
    t.integer('reconnects').notNullable().defaultTo(0);
    t.integer('transcoder_restarts').notNullable().defaultTo(0);
    t.index(['stream_id', 'started_at']);
    t.index(['node', 'ended_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('sessions');
}
