import { api, type Session } from './api';
import { h, type Attributes } from './dom';

interface Profile {
  name: string;
  kind: 'ladder' | 'passthrough';
  sourceRung: boolean;
  rungs: Array<{ name: string; height: number }>;
}

/** What a profile makes, in a few words: "ladder (source, 480p, 360p)". */
function label(profile: Profile): string {
  if (profile.kind === 'passthrough') return `${profile.name} (the source only)`;
  return `${profile.name} (${[...(profile.sourceRung ? ['source'] : []), ...profile.rungs.map((rung) => `${rung.height}p`)].join(', ')})`;
}

/**
 * A profile selector with the server's profiles (those of its configuration too). `current` is kept
 * even if the configuration no longer has it (the server then uses the default ladder for it).
 */
export function profileSelect(session: Session, attributes: Attributes, current = 'ladder'): HTMLSelectElement {
  const select = h('select', attributes, h('option', { value: current, selected: true }, current));
  void api<{ data: Profile[] }>(session.token, 'GET', '/profiles')
    .then(({ data }) => {
      const known = data.some((profile) => profile.name === current);
      select.replaceChildren(
        ...data.map((profile) => h('option', { value: profile.name, selected: profile.name === current }, label(profile))),
        ...(known ? [] : [h('option', { value: current, selected: true }, `${current} (no longer configured: the default ladder)`)]),
      );
    })
    // Left with the current profile alone: the stream's settings can still be saved as they are.
    .catch(() => undefined);
  return select;
}
