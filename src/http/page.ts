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

/** A plain page of the site (landing, not found) in the shell player/page.html; `content` is HTML. */
export async function renderPage(assetsDir: string, page: { title: string; content: string }): Promise<string> {
  const shell = await fs.promises.readFile(path.join(assetsDir, 'page.html'), 'utf8');
  return fillTemplate(shell, { title: escapeHtml(page.title), content: page.content });
}
