import { h } from './dom';

const SVG = 'http://www.w3.org/2000/svg';

/** A line of the last hour's values (nulls are gaps), with the latest value and its label. */
export function graph(label: string, points: Array<{ at: number; value: number | null }>, unit: string): HTMLElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 100 40');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const known = points.filter((p): p is { at: number; value: number } => p.value !== null);
  svg.setAttribute('aria-label', `${label}: ${known.length} samples`);
  if (known.length > 1) {
    const from = known[0]!.at;
    const span = Math.max(1, known[known.length - 1]!.at - from);
    const top = Math.max(...known.map((p) => p.value)) || 1;
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', known.map((p) => `${(((p.at - from) / span) * 100).toFixed(2)},${(38 - (p.value / top) * 36).toFixed(2)}`).join(' '));
    svg.append(line);
  }
  const latest = known[known.length - 1]?.value;
  return h(
    'figure',
    { class: 'graph', 'data-graph': label },
    h('figcaption', { class: 'muted' }, label),
    h('div', { class: 'value' }, latest === undefined ? '–' : `${Math.round(latest * 100) / 100}${unit}`),
    svg,
  );
}
