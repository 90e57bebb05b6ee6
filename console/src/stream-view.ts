import { api, ApiError, type Session } from './api';
import { copyable, facts, h, table, toast, when } from './dom';
import { graph } from './graph';
import { profileSelect } from './profiles';
import { liveFacts, statusBadge, type Stream } from './streams-view';

interface Sample {
  at: string;
  ingestKbps: number | null;
  viewers: number;
  transcoderSpeed: number | null;
}

/** One stream: its player, numbers and graphs, actions, settings, destinations and history. */
export async function streamView(session: Session, main: HTMLElement, id: string, go: (hash: string) => void): Promise<() => Promise<void>> {
  const admin = session.scope === 'admin';
  const call = <T = any>(method: string, path: string, body?: unknown) => api<T>(session.token, method, path, body);
  let stream = await call<Stream>('GET', `/streams/${id}`);
  const heading = h('h1', {});
  const live = h('div', { class: 'panel', 'data-role': 'live' });
  const graphs = h('div', { class: 'graphs', 'data-role': 'graphs' });
  const playerSlot = h('div', {});
  const actions = h('div', { class: 'actions', 'data-role': 'actions' });
  const secretSlot = h('div', {});
  const destinationList = h('div', { 'data-role': 'destinations' });
  const sessions = h('div', { 'data-role': 'sessions' });

  const player = async () => {
    let src = `/embed/${stream.playbackId}`;
    if (stream.playback === 'signed') {
      if (!admin) return playerSlot.replaceChildren(h('p', { class: 'muted' }, 'A signed stream: a read token cannot open its player.'));
      const minted = await call<{ token: string }>('POST', `/streams/${id}/playback-tokens`, {
        expiresInSeconds: 3600,
        viewerId: `console:${session.name}`.slice(0, 64).replace(/[^\x21-\x7e]/g, '_'),
      });
      src += `?token=${encodeURIComponent(minted.token)}`;
    }
    playerSlot.replaceChildren(h('iframe', { class: 'player-frame', src, title: `${stream.name}: player`, allow: 'autoplay; fullscreen', allowfullscreen: true }));
  };

  const act = async (label: string, question: string, work: () => Promise<void>, after: 'refresh' | 'leave' = 'refresh') => {
    if (!window.confirm(question)) return;
    try {
      await work();
      toast(label);
      if (after === 'refresh') await refresh();
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error));
    }
  };

  const renderActions = () => {
    if (!admin) return actions.replaceChildren();
    actions.replaceChildren(
      h(
        'button',
        {
          type: 'button',
          disabled: stream.status !== 'live',
          onclick: () =>
            void act('Disconnected', `Cut off the publisher of "${stream.name}"? It may publish again.`, async () => void (await call('POST', `/streams/${id}/disconnect`))),
        },
        'Disconnect',
      ),
      h(
        'button',
        {
          type: 'button',
          onclick: () =>
            void act(
              stream.enabled ? 'Disabled' : 'Enabled',
              stream.enabled ? `Disable "${stream.name}"? A live session ends at once.` : `Enable "${stream.name}"?`,
              async () => void (stream = await call('PATCH', `/streams/${id}`, { enabled: !stream.enabled })),
            ),
        },
        stream.enabled ? 'Disable' : 'Enable',
      ),
      h(
        'button',
        {
          type: 'button',
          onclick: () =>
            void act('New key made', `Give "${stream.name}" a new key? The old one stops working and the current publisher is cut off.`, async () => {
              const reset = await call<{ streamKey: string }>('POST', `/streams/${id}/reset-key`, { disconnect: true });
              secretSlot.replaceChildren(h('div', { class: 'panel', 'data-role': 'new-key' }, h('p', {}, 'The new key, shown only now:'), copyable('Stream key', reset.streamKey)));
            }),
        },
        'Reset key',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: () =>
            void act(
              'Deleted',
              `Delete "${stream.name}", its history and all its media, recordings included?`,
              async () => {
                await call('DELETE', `/streams/${id}`);
                go('#/streams');
              },
              'leave',
            ),
        },
        'Delete',
      ),
    );
  };

  const settings = () => {
    const form = h('form', { class: 'panel', 'data-role': 'settings' });
    const field = (label: string, input: HTMLElement) => [h('label', { for: input.id }, label), input];
    const select = (name: string, options: string[], value: string) =>
      h('select', { id: `setting-${name}`, name, disabled: !admin }, ...options.map((option) => h('option', { value: option, selected: option === value }, option)));
    const profile = profileSelect(session, { id: 'setting-profile', name: 'profile', disabled: !admin }, stream.profile);
    const latency = select('latencyMode', ['low', 'standard'], stream.latencyMode);
    const playback = select('playback', ['public', 'signed'], stream.playback);
    const record = h('input', { id: 'setting-record', type: 'checkbox', checked: stream.record, disabled: !admin });
    const window = h('input', {
      id: 'setting-reconnect',
      type: 'number',
      min: 0,
      max: 3600,
      placeholder: 'default',
      value: stream.reconnectWindowSeconds ?? undefined,
      disabled: !admin,
    });
    form.append(
      h('h2', {}, 'Settings'),
      ...field('Profile (from the next publish)', profile),
      ...field('Latency (from the next publish)', latency),
      ...field('Playback', playback),
      ...field('Reconnect window, seconds', window),
      h('label', {}, record, ' Record each session (VOD)'),
    );
    if (admin) {
      form.append(h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save settings')));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        void (async () => {
          try {
            stream = await call('PATCH', `/streams/${id}`, {
              profile: profile.value,
              latencyMode: latency.value,
              playback: playback.value,
              record: record.checked,
              reconnectWindowSeconds: window.value === '' ? null : Number(window.value),
            });
            toast('Settings saved');
            await player();
          } catch (error) {
            toast(error instanceof ApiError ? error.message : String(error));
          }
        })();
      });
    }
    return form;
  };

  const destinationForm = () => {
    if (!admin) return h('div', {});
    const url = h('input', { id: 'destination-url', placeholder: 'rtmp://a.rtmp.youtube.com/live2', required: true });
    const key = h('input', { id: 'destination-key', type: 'password', autocomplete: 'off', required: true });
    const form = h(
      'form',
      { class: 'panel' },
      h('label', { for: 'destination-url' }, 'Server URL'),
      url,
      h('label', { for: 'destination-key' }, 'Stream key'),
      key,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add destination')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void call('POST', `/streams/${id}/destinations`, { url: url.value.trim(), streamKey: key.value.trim() })
        .then(() => {
          toast('Destination added');
          form.reset();
          return renderDestinations();
        })
        .catch((error: unknown) => toast(error instanceof ApiError ? error.message : String(error)));
    });
    return form;
  };

  const renderDestinations = async () => {
    const list = (await call<{ data: Array<{ id: string; url: string; streamKey: string; status: string; lastError: string | null }> }>('GET', `/streams/${id}/destinations`)).data;
    const rows = list.map((d) => [
      d.url,
      d.streamKey,
      h('span', { 'data-destination-status': d.status }, d.status),
      d.lastError ?? '',
      admin
        ? h(
            'button',
            {
              type: 'button',
              onclick: () => void act('Destination removed', `Stop restreaming to ${d.url}?`, async () => void (await call('DELETE', `/streams/${id}/destinations/${d.id}`))),
            },
            'Remove',
          )
        : '',
    ]);
    destinationList.replaceChildren(table(['URL', 'Key', 'Status', 'Last error', ''], rows));
  };

  const renderSessions = async () => {
    const page = (
      await call<{ data: Array<{ id: string; startedAt: string; endedAt: string | null; endReason: string | null; node: string; vodUrl: string | null; reconnects: number }> }>(
        'GET',
        `/streams/${id}/sessions?limit=20`,
      )
    ).data;
    sessions.replaceChildren(
      h('h2', {}, 'Sessions'),
      table(
        ['Started', 'Ended', 'Reason', 'Node', 'Reconnects', 'VOD'],
        page.map((s) => [
          when(s.startedAt),
          s.endedAt ? when(s.endedAt) : 'live',
          s.endReason ?? '',
          s.node,
          String(s.reconnects),
          s.vodUrl ? h('a', { href: s.vodUrl }, 'recording') : '',
        ]),
      ),
    );
  };

  const refresh = async () => {
    stream = await call<Stream>('GET', `/streams/${id}`);
    heading.replaceChildren(stream.name, ' ', statusBadge(stream));
    live.replaceChildren(
      liveFacts(stream.liveSession),
      facts([
        ['Ingest', stream.ingestUrls.join('  ')],
        ['Playback id', stream.playbackId],
      ]),
    );
    const stats = (await call<{ data: Sample[] }>('GET', `/streams/${id}/stats`)).data.map((s) => ({ ...s, at: Date.parse(s.at) }));
    graphs.replaceChildren(
      graph(
        'Ingest bitrate',
        stats.map((s) => ({ at: s.at, value: s.ingestKbps })),
        ' kbit/s',
      ),
      graph(
        'Viewers',
        stats.map((s) => ({ at: s.at, value: s.viewers })),
        '',
      ),
      graph(
        'Transcoder speed',
        stats.map((s) => ({ at: s.at, value: s.transcoderSpeed })),
        '×',
      ),
    );
    renderActions();
    await Promise.all([renderDestinations(), renderSessions()]);
  };

  main.replaceChildren(
    h('p', {}, h('a', { href: '#/streams' }, '‹ Streams')),
    heading,
    h('div', { class: 'stream-top' }, playerSlot, live),
    h('h2', {}, 'Last hour'),
    graphs,
    actions,
    secretSlot,
    settings(),
    h('h2', {}, 'Restream destinations'),
    destinationList,
    destinationForm(),
    sessions,
  );
  await refresh();
  await player();
  return refresh;
}
