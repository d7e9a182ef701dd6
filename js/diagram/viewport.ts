// Zoom and pan of the diagram. The SVG is drawn at `zoom` CSS px per layout px inside a
// scroll container, so panning is native scrolling (scroll bars, trackpad) plus dragging the
// empty background; zoom comes from the -/+/fit buttons or Ctrl (Cmd) + wheel, keeping the
// point under the pointer in place. Plain wheel scrolling is left to the notebook.

export const ZOOM_MIN = 0.2;
export const ZOOM_MAX = 4;

export class Viewport {
  zoom = 1;
  private w = 0;
  private h = 0;
  private pan: { x: number; y: number; left: number; top: number } | null = null;

  constructor(
    private scroll: HTMLElement,
    private svg: SVGSVGElement,
    private isBackground: (e: PointerEvent) => boolean,
  ) {
    scroll.addEventListener("wheel", this.onWheel, { passive: false });
    svg.addEventListener("pointerdown", this.onDown);
  }

  /** New layout size (layout px); keeps the zoom. */
  setSize(w: number, h: number): void {
    this.w = w;
    this.h = h;
    this.apply();
  }

  /** Zoom to `z` keeping the client point (cx, cy) (default: the view's centre) in place. */
  setZoom(z: number, cx?: number, cy?: number): void {
    const next = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, z));
    if (next === this.zoom) return;
    const r = this.scroll.getBoundingClientRect();
    const ox = (cx ?? r.left + r.width / 2) - r.left;
    const oy = (cy ?? r.top + r.height / 2) - r.top;
    const k = next / this.zoom;
    const left = (this.scroll.scrollLeft + ox) * k - ox;
    const top = (this.scroll.scrollTop + oy) * k - oy;
    this.zoom = next;
    this.apply();
    this.scroll.scrollLeft = left;
    this.scroll.scrollTop = top;
  }

  /** The zoom at which the whole diagram fits the container's width (never above 1). */
  fitZoom(): number {
    const avail = this.scroll.clientWidth;
    const maxH = (this.scroll.ownerDocument.defaultView?.innerHeight ?? 800) * 0.8;
    if (!avail || !this.w) return 1;
    return Math.min(1, avail / this.w, maxH / this.h);
  }

  private apply(): void {
    this.svg.setAttribute("width", String(Math.round(this.w * this.zoom)));
    this.svg.setAttribute("height", String(Math.round(this.h * this.zoom)));
  }

  private onWheel = (e: WheelEvent): void => {
    if (!(e.ctrlKey || e.metaKey)) return;
    e.preventDefault();
    this.setZoom(this.zoom * Math.exp(-e.deltaY * 0.002), e.clientX, e.clientY);
  };

  private onDown = (e: PointerEvent): void => {
    if (e.button > 0 || !this.isBackground(e)) return;
    this.pan = { x: e.clientX, y: e.clientY, left: this.scroll.scrollLeft, top: this.scroll.scrollTop };
    const doc = this.svg.ownerDocument;
    doc.addEventListener("pointermove", this.onMove);
    doc.addEventListener("pointerup", this.onUp);
    this.scroll.classList.add("kw-panning");
  };

  private onMove = (e: PointerEvent): void => {
    if (!this.pan) return;
    this.scroll.scrollLeft = this.pan.left - (e.clientX - this.pan.x);
    this.scroll.scrollTop = this.pan.top - (e.clientY - this.pan.y);
  };

  private onUp = (): void => {
    this.pan = null;
    const doc = this.svg.ownerDocument;
    doc.removeEventListener("pointermove", this.onMove);
    doc.removeEventListener("pointerup", this.onUp);
    this.scroll.classList.remove("kw-panning");
  };

  dispose(): void {
    this.onUp();
    this.scroll.removeEventListener("wheel", this.onWheel);
    this.svg.removeEventListener("pointerdown", this.onDown);
  }
}
