type Child = Node | string | number | null | undefined | false;
export type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** An element with attributes (on… are listeners; false and undefined are left out) and children (text is text, never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'object' ? child : String(child));
  }
  return element;
}

/** A definition list from label/value pairs; pairs without a value are left out. */
export function facts(pairs: Array<[string, Child]>): HTMLDListElement {
  const list = h('dl', { class: 'facts' });
  for (const [label, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    list.append(h('dt', {}, label), h('dd', {}, value));
  }
  return list;
}

export function table(headers: string[], rows: Child[][]): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted' }, 'None.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { scope: 'col' }, header)))),
      h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell) => h('td', {}, cell))))),
    ),
  );
}

/** A value shown with a button that copies it. */
export function copyable(label: string, value: string): HTMLElement {
  return h(
    'div',
    { class: 'copy-row' },
    h('span', { class: 'muted' }, label),
    h('code', { class: 'secret', 'data-copy': label }, value),
    h('button', { type: 'button', onclick: () => void copy(value, label) }, `Copy ${label.toLowerCase()}`),
  );
}

async function copy(value: string, label: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(value);
    toast(`${label} copied`);
  } catch {
    toast('Copying is not allowed here: select the text instead');
  }
}

let toastTimer: number | undefined;
export function toast(message: string): void {
  const element = document.querySelector<HTMLElement>('[data-role=toast]')!;
  element.textContent = message;
  element.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (element.hidden = true), 3000);
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '–';
}

export function duration(fromIso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min` : minutes > 0 ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
}
