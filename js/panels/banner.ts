// Dismissable banner, shown when the `error` trait carries a new message: an error, or
// (level "info") a notice of what an action did besides what was asked. The kernel clears
// it after the next action that works.
import type { WidgetError } from "../model";
import { html } from "../plot";

export class Banner {
  readonly el: HTMLElement;
  private text: HTMLElement;
  private dismissed: number | undefined = undefined;
  private shownSeq: number | undefined = undefined;

  constructor() {
    this.el = html("div", "kw-banner");
    this.el.setAttribute("role", "alert");
    this.el.hidden = true;
    this.text = html("span", "kw-banner-text", "", this.el);
    const close = html("button", "kw-close", "×", this.el);
    close.type = "button";
    close.title = "dismiss";
    close.addEventListener("click", () => {
      this.dismissed = this.shownSeq;
      this.el.hidden = true;
    });
  }

  /** Show the message unless it is empty or this very error was dismissed. */
  update(err: WidgetError | undefined): void {
    const message = err?.message;
    if (!message || (err?.seq !== undefined && err.seq === this.dismissed)) {
      this.el.hidden = true;
      return;
    }
    this.shownSeq = err?.seq;
    this.text.textContent = message;
    const info = err?.level === "info";
    this.el.classList.toggle("kw-info", info);
    this.el.setAttribute("role", info ? "status" : "alert");
    this.el.hidden = false;
  }
}
