import type { Quality } from './engine';

/** One entry of the menu; `detail` is left out of the control on a narrow screen (player.css). */
interface Choice {
  /** The engine's level index; -1 is Auto. */
  index: number;
  label: string;
  detail: string;
}

const AUTO = -1;

/**
 * The quality control: a button that shows the current choice and opens a menu of every choice.
 * Not a select: on a phone the control bar has room for a short label only ("Auto", "480p"), and a
 * select shows its option's whole text or cuts it off; the menu has room for all of it
 * ("Auto (480p)"). Keys: ↑/↓ on the button open it; in it ↑/↓, Home and End move, Enter or space
 * picks, Escape closes.
 */
export class QualityMenu {
  private choices: Choice[] = [];
  private selected = AUTO;
  private heights = new Map<number, number>();

  constructor(
    private readonly button: HTMLButtonElement,
    private readonly menu: HTMLElement,
    private readonly picked: (index: number) => void,
  ) {
    button.addEventListener('click', () => (this.isOpen ? this.close(false) : this.open()));
    button.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
      event.preventDefault();
      event.stopPropagation();
      this.open();
    });
    menu.addEventListener('click', (event) => {
      const item = (event.target as Element).closest<HTMLElement>('[role=menuitemradio]');
      if (item) this.pick(Number(item.dataset.quality));
    });
    menu.addEventListener('keydown', (event) => this.onKey(event));
    menu.addEventListener('focusout', (event) => {
      const to = event.relatedTarget as Node | null;
      if (to && !menu.contains(to) && to !== button) this.close(false);
    });
    // A press anywhere else closes it.
    document.addEventListener('pointerdown', (event) => {
      const on = event.target as Node;
      if (this.isOpen && !menu.contains(on) && !button.contains(on)) this.close(false);
    });
    this.clear();
  }

  get isOpen(): boolean {
    return !this.menu.hidden;
  }

  /** A new list of renditions; `selected`, one of them, is the choice (else Auto). */
  setQualities(list: Quality[], selected = AUTO): void {
    this.heights = new Map(list.map((q) => [q.index, q.height]));
    const sorted = [...list].sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
    const duplicate = (q: Quality) => sorted.filter((other) => other.height === q.height).length > 1;
    this.reset(
      [autoChoice(undefined), ...sorted.map((q) => ({ index: q.index, label: `${q.height}p`, detail: duplicate(q) ? ` ${Math.round(q.bitrate / 1000)}k` : '' }))],
      selected,
    );
  }

  /** Auto shows what it picked while it is the choice. */
  qualityChanged(index: number, auto: boolean): void {
    this.choices[0] = autoChoice(auto ? this.heights.get(index) : undefined);
    this.update();
  }

  clear(): void {
    this.heights.clear();
    this.reset([autoChoice(undefined)]);
  }

  private reset(choices: Choice[], selected = AUTO): void {
    this.choices = choices;
    this.selected = choices.some((choice) => choice.index === selected) ? selected : AUTO;
    // Auto and one rendition: nothing to choose.
    this.button.disabled = choices.length <= 2;
    this.close(false);
    this.menu.replaceChildren(
      ...choices.map((choice) => {
        const item = document.createElement('button');
        item.type = 'button';
        item.tabIndex = -1;
        item.setAttribute('role', 'menuitemradio');
        item.dataset.quality = String(choice.index);
        return item;
      }),
    );
    this.update();
  }

  private pick(index: number): void {
    this.selected = index;
    this.close(true);
    this.update();
    this.picked(index);
  }

  private open(): void {
    if (this.button.disabled) return;
    this.menu.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.items()
      .find((item) => item.getAttribute('aria-checked') === 'true')
      ?.focus();
  }

  private close(focusButton: boolean): void {
    const wasOpen = this.isOpen;
    this.menu.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (wasOpen && focusButton) this.button.focus();
  }

  private onKey(event: KeyboardEvent): void {
    const items = this.items();
    const at = items.indexOf(document.activeElement as HTMLElement);
    const target = (() => {
      switch (event.key) {
        case 'ArrowDown':
          return items[(at + 1) % items.length];
        case 'ArrowUp':
          return items[(at - 1 + items.length) % items.length];
        case 'Home':
          return items[0];
        case 'End':
          return items[items.length - 1];
        case 'Escape':
          this.close(true);
          return undefined;
        default:
          return null;
      }
    })();
    if (target === null) return;
    // The menu's keys are its own, not the player's (↑/↓ would change the volume).
    event.preventDefault();
    event.stopPropagation();
    target?.focus();
  }

  private items(): HTMLElement[] {
    return Array.from(this.menu.querySelectorAll<HTMLElement>('[role=menuitemradio]'));
  }

  /** The control shows the current choice; the menu's items are updated in place (one may have the focus). */
  private update(): void {
    const current = this.choices.find((choice) => choice.index === this.selected) ?? this.choices[0]!;
    const detail = document.createElement('span');
    detail.className = 'quality-detail';
    detail.textContent = current.detail;
    this.button.replaceChildren(current.label, detail);
    this.button.setAttribute('aria-label', `Quality: ${current.label}${current.detail}`);
    this.items().forEach((item, i) => {
      const choice = this.choices[i]!;
      item.textContent = choice.label + choice.detail;
      item.setAttribute('aria-checked', String(choice.index === this.selected));
    });
  }
}

function autoChoice(height: number | undefined): Choice {
  return { index: AUTO, label: 'Auto', detail: height ? ` (${height}p)` : '' };
}
