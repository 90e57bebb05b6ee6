import fs from 'node:fs';
import path from 'node:path';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/**
 * Replaces each `{{key}}` of a template with its value, taken literally (a `$&` in a stream name
 * stays as it is). Values are inserted as they are: escape them first where they are text.
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (placeholder, key: string) => values[key] ?? placeholder);
}

export interface Page {
  title: string;
  /** `site` for plain pages, `watch` and `embed` for the player: the body's class picks the layout. */
  mode: 'site' | 'watch' | 'embed';
  /** HTML. */
  content: string;
}

/** A page in the shell every page shares, player/page.html. */
export async function renderPage(assetsDir: string, page: Page): Promise<string> {
  const shell = await fs.promises.readFile(path.join(assetsDir, 'page.html'), 'utf8');
  return fillTemplate(shell, { title: escapeHtml(page.title), mode: page.mode, content: page.content });
}
