// Tokens, webhooks, the audit log and the nodes: lists, with the few actions the API offers.
import { api, ApiError, type Session } from './api';
import { copyable, h, table, toast, when } from './dom';

type Refresh = () => Promise<void>;

function fail(error: unknown): void {
  toast(error instanceof ApiError ? error.message : String(error));
}

export async function tokensView(session: Session, main: HTMLElement): Promise<Refresh> {
  const list = h('div', {});
  const secret = h('div', {});
  const refresh = async () => {
    if (session.scope !== 'admin') {
      list.replaceChildren(h('p', { class: 'muted' }, 'Only an admin token can see the tokens.'));
      return;
    }
    const tokens = (await api<{ data: Array<{ id: string; name: string; scope: string; lastUsedAt: string | null; revokedAt: string | null }> }>(session.token, 'GET', '/tokens'))
      .data;
    list.replaceChildren(
      table(
        ['Name', 'Scope', 'Last used', 'Revoked', ''],
        tokens.map((t) => [
          t.name,
          t.scope,
          when(t.lastUsedAt),
          when(t.revokedAt),
          t.revokedAt
            ? ''
            : h(
                'button',
                {
                  type: 'button',
                  onclick: () => window.confirm(`Revoke "${t.name}"? It stops working at once.`) && void api(session.token, 'DELETE', `/tokens/${t.id}`).then(refresh, fail),
                },
                'Revoke',
              ),
        ]),
      ),
    );
  };
  const parts: HTMLElement[] = [h('h1', {}, 'API tokens'), list, secret];
  if (session.scope === 'admin') {
    const name = h('input', { id: 'token-name', required: true, maxlength: 100 });
    const scope = h('select', { id: 'token-scope' }, h('option', { value: 'read' }, 'read'), h('option', { value: 'admin' }, 'admin'));
    const form = h(
      'form',
      { class: 'panel' },
      h('h2', {}, 'New token'),
      h('label', { for: 'token-name' }, 'Name'),
      name,
      h('label', { for: 'token-scope' }, 'Scope'),
      scope,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create token')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void api<{ token: string }>(session.token, 'POST', '/tokens', { name: name.value, scope: scope.value })
        .then((created) => {
          form.reset();
          secret.replaceChildren(h('div', { class: 'panel' }, h('p', {}, 'Shown only now:'), copyable('Token', created.token)));
          return refresh();
        })
        .catch(fail);
    });
    parts.push(form);
  }
  main.replaceChildren(...parts);
  await refresh();
  return refresh;
}

export async function webhooksView(session: Session, main: HTMLElement): Promise<Refresh> {
  const list = h('div', {});
  const deliveries = h('div', { 'data-role': 'deliveries' });
  const secret = h('div', {});
  const showDeliveries = async (id: string, url: string) => {
    const page = (
      await api<{ data: Array<{ eventType: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null; createdAt: string }> }>(
        session.token,
        'GET',
        `/webhooks/${id}/deliveries`,
      )
    ).data;
    deliveries.replaceChildren(
      h('h2', {}, `Deliveries to ${url}`),
      table(
        ['Event', 'Status', 'Attempts', 'Last answer', 'Error', 'At'],
        page.map((d) => [d.eventType, d.status, String(d.attempts), d.lastStatus === null ? '' : String(d.lastStatus), d.lastError ?? '', when(d.createdAt)]),
      ),
    );
  };
  const refresh = async () => {
    const hooks = (await api<{ data: Array<{ id: string; url: string; events: string[]; enabled: boolean }> }>(session.token, 'GET', '/webhooks')).data;
    list.replaceChildren(
      table(
        ['URL', 'Events', 'Enabled', ''],
        hooks.map((w) => [
          w.url,
          w.events.join(', '),
          w.enabled ? 'yes' : 'no',
          h('button', { type: 'button', onclick: () => void showDeliveries(w.id, w.url).catch(fail) }, 'Deliveries'),
        ]),
      ),
    );
  };
  const parts: HTMLElement[] = [h('h1', {}, 'Webhooks'), list, secret, deliveries];
  if (session.scope === 'admin') {
    const url = h('input', { id: 'webhook-url', type: 'url', required: true, placeholder: 'https://ops.example.com/origin-hook' });
    const form = h(
      'form',
      { class: 'panel' },
      h('h2', {}, 'New webhook (every event)'),
      h('label', { for: 'webhook-url' }, 'URL'),
      url,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add webhook')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void api<{ secret: string }>(session.token, 'POST', '/webhooks', { url: url.value })
        .then((created) => {
          form.reset();
          secret.replaceChildren(h('div', { class: 'panel' }, h('p', {}, 'Its signing secret, shown only now:'), copyable('Secret', created.secret)));
          return refresh();
        })
        .catch(fail);
    });
    parts.splice(2, 0, form);
  }
  main.replaceChildren(...parts);
  await refresh();
  return refresh;
}

export async function auditView(session: Session, main: HTMLElement): Promise<Refresh> {
  const list = h('div', {});
  main.replaceChildren(h('h1', {}, 'Audit log'), list);
  const refresh = async () => {
    const entries = (
      await api<{ data: Array<{ at: string; token: { name: string }; action: string; target: string | null; outcome: string }> }>(session.token, 'GET', '/audit?limit=50')
    ).data;
    list.replaceChildren(
      table(
        ['At', 'Who', 'Action', 'Target', 'Outcome'],
        entries.map((e) => [when(e.at), e.token.name, e.action, e.target ?? '', e.outcome]),
      ),
    );
  };
  await refresh();
  return refresh;
}

export async function nodesView(session: Session, main: HTMLElement): Promise<Refresh> {
  const list = h('div', {});
  main.replaceChildren(h('h1', {}, 'Nodes'), list);
  const refresh = async () => {
    const nodes = (
      await api<{ data: Array<{ id: string; url: string; status: string; version: string; liveSessions: number; load: number; lastSeenAt: string; draining: boolean }> }>(
        session.token,
        'GET',
        '/nodes',
      )
    ).data;
    list.replaceChildren(
      table(
        ['Node', 'Status', 'URL', 'Version', 'Live', 'Load', 'Last seen'],
        nodes.map((n) => [n.id, n.draining ? 'draining' : n.status, n.url, n.version, String(n.liveSessions), String(n.load), when(n.lastSeenAt)]),
      ),
    );
  };
  await refresh();
  return refresh;
}
