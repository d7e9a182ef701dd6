// Keyboard focus survives a redraw and a re-render of the output. A redraw replaces the
// focused row or edge; JupyterLab re-renders the output when the kernel refreshes the
// stored SVG (the view is then moved to the new output, reattach.ts, which takes focus out
// of the page). So the focused item's data-* hook is kept (one page has one focus; anywidget
// gives each view its own model proxy, so the record is not per model) and focused again.
const FOCUS_HOOKS = ["data-version", "data-edge", "data-node", "data-candidate"];
let lastFocus: string | null = null;

function focusKey(el: Element | null): string | null {
  const hooked = el?.closest(FOCUS_HOOKS.map((h) => `[${h}]`).join(", "));
  for (const h of FOCUS_HOOKS) {
    const v = hooked?.getAttribute(h);
    if (v != null) return `[${h}="${v.replace(/["\\]/g, "\\$&")}"]`;
  }
  return null;
}

export class FocusMemory {
  private disposed = false;

  constructor(private root: HTMLElement) {
    root.addEventListener("focusin", this.onFocusIn);
    root.addEventListener("focusout", this.onFocusOut);
  }

  private onFocusIn = (e: FocusEvent): void => {
    lastFocus = focusKey(e.target as Element | null);
  };

  /** Focus moved to another element of the page, or to none while the element stays in
   * the page: nothing to bring back. (An element removed by a redraw keeps the record.) */
  private onFocusOut = (e: FocusEvent): void => {
    const from = e.target as Node;
    const to = e.relatedTarget as Node | null;
    if (to && !this.root.contains(to)) lastFocus = null;
    else if (!to) setTimeout(() => from.isConnected && (lastFocus = null), 0);
  };

  /** Focus the remembered item again once `root` is in the page (tries every 50 ms, `tries`
   * times), unless something else has focus by then. */
  restore(tries: number): void {
    const selector = lastFocus;
    if (selector) this.refocus(selector, tries);
  }

  private refocus(selector: string, tries: number): void {
    setTimeout(() => {
      if (this.disposed) return;
      if (!this.root.isConnected) {
        if (tries > 0) this.refocus(selector, tries - 1);
        return;
      }
      const active = document.activeElement;
      if (active && active !== document.body) return;
      this.root.querySelector<HTMLElement>(selector)?.focus();
    }, 50);
  }

  dispose(): void {
    this.disposed = true;
    this.root.removeEventListener("focusin", this.onFocusIn);
    this.root.removeEventListener("focusout", this.onFocusOut);
  }
}
