import type { Knex } from 'knex';
import * as m001 from './001_streams';
import * as m002 from './002_api_tokens';
import * as m003 from './003_stream_options';
import * as m004 from './004_sessions';
import * as m005 from './005_operator';
import * as m006 from './006_latency_mode';
import * as m007 from './007_cluster';
import * as m008 from './008_playback';
import * as m009 from './009_destinations';

interface Migration {
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

// Listed in code rather than discovered on disk, so the same list runs from ts-jest and from dist/.
const migrations: ReadonlyArray<[string, Migration]> = [
  ['001_streams', m001],
  ['002_api_tokens', m002],
  ['003_stream_options', m003],
  ['004_sessions', m004],
  ['005_operator', m005],
  ['006_latency_mode', m006],
  ['007_cluster', m007],
  ['008_playback', m008],
  ['009_destinations', m009],
];

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => migrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = migrations.find(([candidate]) => candidate === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};
