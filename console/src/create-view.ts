import { api, ApiError, type Session } from './api';
import { copyable, h } from './dom';
import { profileSelect } from './profiles';
import type { Stream } from './streams-view';

/** A new stream: its key shown once, with what to enter in OBS. */
export function createView(session: Session, main: HTMLElement): void {
  const name = h('input', { id: 'new-name', required: true, maxlength: 200, autocomplete: 'off' });
  const profile = profileSelect(session, { id: 'new-profile' });
  const latency = h('select', { id: 'new-latency' }, h('option', { value: 'low' }, 'low (about a second)'), h('option', { value: 'standard' }, 'standard (whole segments)'));
  const playback = h('select', { id: 'new-playback' }, h('option', { value: 'public' }, 'public'), h('option', { value: 'signed' }, 'signed (playback tokens)'));
  const record = h('input', { id: 'new-record', type: 'checkbox' });
  const error = h('p', { class: 'error', role: 'alert' });
  const result = h('div', { 'data-role': 'created' });
  const form = h(
    'form',
    { class: 'panel' },
    h('label', { for: 'new-name' }, 'Name'),
    name,
    h('label', { for: 'new-profile' }, 'Profile'),
    profile,
    h('label', { for: 'new-latency' }, 'Latency'),
    latency,
    h('label', { for: 'new-playback' }, 'Playback'),
    playback,
    h('label', {}, record, ' Record each session'),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create stream')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    void api<Stream & { streamKey: string }>(session.token, 'POST', '/streams', {
      name: name.value,
      profile: profile.value,
      latencyMode: latency.value,
      playback: playback.value,
      record: record.checked,
    })
      .then((stream) => {
        form.hidden = true;
        result.replaceChildren(
          h('h2', {}, `“${stream.name}” is ready`),
          h('p', {}, 'The stream key is shown only now: copy it into OBS (or keep it somewhere safe).'),
          ...stream.ingestUrls.map((url) => copyable(url.startsWith('rtmps:') ? 'Server (TLS)' : 'Server', url)),
          copyable('Stream key', stream.streamKey),
          h(
            'div',
            { class: 'panel', 'data-role': 'obs' },
            h('h2', {}, 'In OBS'),
            h(
              'ol',
              {},
              h('li', {}, 'Settings → Stream: Service “Custom…”, Server and Stream Key as above.'),
              h('li', {}, 'Settings → Output (Advanced): Keyframe Interval 2 s.'),
              h('li', {}, 'Start Streaming.'),
            ),
          ),
          h(
            'p',
            {},
            h('a', { class: 'button', href: `#/streams/${stream.id}` }, 'Open the stream'),
            ' ',
            h('a', { class: 'button', href: stream.playerUrl, target: '_blank', rel: 'noopener' }, 'Watch page'),
          ),
        );
      })
      .catch((failure: unknown) => (error.textContent = failure instanceof ApiError ? failure.message : String(failure)));
  });
  main.replaceChildren(h('p', {}, h('a', { href: '#/streams' }, '‹ Streams')), h('h1', {}, 'New stream'), form, result);
  name.focus();
}
