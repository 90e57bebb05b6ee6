import { execFileSync } from 'node:child_process';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

export interface PlayerPage {
  page: Page;
  /** Uncaught errors of the page: there must be none. */
  errors: string[];
  /** Every data-state the player went through, in order. */
  states(): Promise<string[]>;
  state(): Promise<string | null>;
  currentTime(): Promise<number>;
  /** Waits until the video has played `seconds` more than now. */
  playsFor(seconds: number, timeoutMs?: number): Promise<void>;
  /**
   * Waits until the player says it is playing: near the live edge a loaded machine can leave it
   * buffering for a moment, which must pass; a player stuck anywhere else fails.
   */
  isPlaying(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A page of its own (its own context: a separate viewer), with the player's states recorded from
 * the start. `prepare` runs before the page loads (to route its requests, say).
 */
export async function openPlayer(browser: Browser, url: string, options: BrowserContextOptions = DESKTOP, prepare?: (page: Page) => Promise<unknown>): Promise<PlayerPage> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await prepare?.(page);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
  // The page's Content-Security-Policy must let the player do everything it does.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) errors.push(message.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { playerStates: string[] }).playerStates = seen;
    const watch = () => {
      const player = document.getElementById('player');
      if (!player) return;
      const record = () => {
        const state = player.dataset.state ?? '';
        if (seen[seen.length - 1] !== state) seen.push(state);
      };
      record();
      new MutationObserver(record).observe(player, { attributes: true, attributeFilter: ['data-state'] });
    };
    document.addEventListener('DOMContentLoaded', watch);
  });
  await page.goto(url);
  const currentTime = () => page.evaluate(() => document.querySelector('video')?.currentTime ?? 0);
  return {
    page,
    errors,
    states: () => page.evaluate(() => [...(window as unknown as { playerStates: string[] }).playerStates]),
    state: () => page.getAttribute('#player', 'data-state'),
    currentTime,
    playsFor: async (seconds, timeoutMs = 30_000) => {
      const from = await currentTime();
      await page.waitForFunction((start) => (document.querySelector('video')?.currentTime ?? 0) >= start, from + seconds, { timeout: timeoutMs });
    },
    isPlaying: async (timeoutMs = 10_000) => {
      await page.waitForFunction(() => document.getElementById('player')?.dataset.state === 'playing', undefined, { timeout: timeoutMs });
    },
    close: () => context.close(),
  };
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where things are on the page, to check that the layout fits the viewport. */
export async function layoutOf(page: Page) {
  return page.evaluate(() => {
    const box = (element: Element | null): Box | null => {
      if (!element) return null;
      const r = element.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const visible = (element: Element) => getComputedStyle(element).display !== 'none' && (element as HTMLElement).offsetParent !== null;
    return {
      viewport: { width: window.innerWidth, height: window.innerHeight },
      scrollWidth: document.documentElement.scrollWidth,
      player: box(document.getElementById('player'))!,
      title: box(document.querySelector('.stream-name')),
      controls: Array.from(document.querySelectorAll('.controls button, .controls select'))
        .filter(visible)
        .map((element) => ({
          role: (element as HTMLElement).dataset.role ?? '',
          box: box(element)!,
        })),
    };
  });
}

/**
 * For each element matching `selector`: its box, and whether it shows the whole of its text (for a
 * select, of its options): the text, measured in the element's font, fits between its paddings,
 * and nothing in it overflows.
 */
export async function labelsOf(page: Page, selector: string): Promise<Array<{ text: string; box: Box; whole: boolean }>> {
  return page.locator(selector).evaluateAll((elements) =>
    elements.map((element) => {
      const html = element as HTMLElement;
      const style = getComputedStyle(html);
      const probe = document.createElement('span');
      probe.style.cssText = 'position: absolute; visibility: hidden; white-space: pre';
      probe.style.font = style.font;
      probe.style.letterSpacing = style.letterSpacing;
      probe.textContent = html.innerText;
      document.body.append(probe);
      const needs = probe.getBoundingClientRect().width;
      probe.remove();
      const room = html.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const r = html.getBoundingClientRect();
      return { text: html.innerText, box: { x: r.x, y: r.y, width: r.width, height: r.height }, whole: needs <= room + 0.5 && html.scrollWidth <= html.clientWidth };
    }),
  );
}

export function inside(inner: Box, outer: Box): boolean {
  const slack = 0.5;
  return (
    inner.x >= outer.x - slack && inner.y >= outer.y - slack && inner.x + inner.width <= outer.x + outer.width + slack && inner.y + inner.height <= outer.y + outer.height + slack
  );
}

/** The average colour of a picture (a screenshot's PNG), as [red, green, blue] from 0 to 255; ffmpeg decodes it. */
export function averageColour(png: Buffer): [number, number, number] {
  const rgb = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-vf', 'scale=1:1:flags=area', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: png });
  return [rgb[0]!, rgb[1]!, rgb[2]!];
}
