import type { Config } from '../config/schema';
import type { Profile } from './ladder';

/** The profiles a stream may use: the built-in `ladder` and `passthrough`, and those in the configuration. */
export function profileNames(config: Config): string[] {
  return ['ladder', 'passthrough', ...Object.keys(config.transcode.profiles)];
}

/** A stream's profile; one removed from the configuration since falls back to the default ladder. */
export function resolveProfile(config: Config, name: string): Profile {
  if (name === 'passthrough') return { kind: 'passthrough', rungs: [], sourceRung: true };
  const custom = config.transcode.profiles[name];
  if (custom) return { kind: 'ladder', rungs: custom.rungs, sourceRung: custom.sourceRung };
  return { kind: 'ladder', rungs: config.transcode.ladder, sourceRung: config.transcode.sourceRung };
}
