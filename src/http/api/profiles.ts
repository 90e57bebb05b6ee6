import type { Config } from '../../config/schema';
import { profileNames, resolveProfile } from '../../transcode/profiles';
import { defineRoute, type ApiRoute } from './route';
import { ProfileList } from './schemas';

/** The transcoding profiles a stream may be given: what the console offers, and what each makes. */
export function profileRoutes(config: Config): ApiRoute[] {
  const profiles = profileNames(config).map((name) => {
    const { kind, rungs, sourceRung } = resolveProfile(config, name);
    return {
      name,
      kind,
      sourceRung,
      rungs: rungs.map((rung) => ({ name: rung.name, height: rung.height, videoBitrateKbps: rung.videoBitrateKbps, ...(rung.maxFps !== undefined && { maxFps: rung.maxFps }) })),
    };
  });
  return [
    defineRoute({
      operationId: 'profiles.list',
      method: 'get',
      path: '/api/v1/profiles',
      tag: 'Streams',
      summary: 'The transcoding profiles',
      description:
        "The names a stream's `profile` may take: `ladder` (the default renditions), `passthrough` (the source only) and those in the configuration (`transcode.profiles`), each with the renditions it encodes. Rungs taller than the source are left out when a stream goes live; with `sourceRung`, the source is also copied as a rendition.",
      scope: 'read',
      success: { status: 200, description: 'The profiles', schema: ProfileList },
      errors: [],
      handle: async () => ({ body: { data: profiles } }),
    }),
  ];
}
