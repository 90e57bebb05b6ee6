import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  // Every origin sharing the database says here that it is alive; a row whose heartbeat stops is a gone node.
  await db.schema.createTable('nodes', (t) => {
    t.string('id', 64).primary();
    t.string('url', 512).notNullable();
    t.string('version', 32).notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('heartbeat_at').notNullable();
    t.bigInteger('left_at').nullable();
    t.integer('live_sessions').notNullable().defaultTo(0);
    t.float('load').notNullable().defaultTo(0);
    // Set by an operator (on any node): the node takes no new publishes and hands its streams over by then.
    t.bigInteger('drain_deadline_at').nullable();
  });
  // Who ingests a stream: one row per live stream, held by one origin process until it lapses.
  await db.schema.createTable('stream_leases', (t) => {
    t.string('stream_id', 32).primary();
    t.string('node', 64).notNullable();
    // The process holding it (node id and a per-start token): a restarted node is a new holder.
    t.string('holder', 96).notNullable();
    t.bigInteger('expires_at').notNullable();
    // The owner's session: requests for it go to the owner, even where an earlier part of it is on disk.
    t.string('session_id', 32).nullable();
    // The owner's count, so that every node can show it.
    t.integer('viewers').notNullable().defaultTo(0);
    t.index(['holder']);
    t.index(['expires_at']);
  });
  // Where a session's playlists stand, so that a node taking it over continues them.
  await db.schema.alterTable('sessions', (t) => {
    t.integer('last_msn').nullable();
    t.integer('discontinuities').notNullable().defaultTo(0);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('sessions', (t) => {
    t.dropColumn('last_msn');
    t.dropColumn('discontinuities');
  });
  await db.schema.dropTable('stream_leases');
  await db.schema.dropTable('nodes');
}
