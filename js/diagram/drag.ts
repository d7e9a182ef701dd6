// Drag-to-prune with pointer events: a plot or node dragged past a small threshold follows
// the pointer at full opacity, above everything else; released outside the diagram area or
// over the trash zone, it is pruned, otherwise it snaps back. While dragging, only the
// trash zone reacts to the pointer (no other plot highlights as if it were the target).
// A press that never passes the threshold stays a click.

export interface DragTarget {
  el: SVGGraphicsElement; // element that follows the pointer (has a base transform)
  root?: SVGGraphicsElement; // drawn on top at full opacity while dragged (default: el)
  drop(): void; // called when released outside the area or on the trash
}

export interface DragOptions {
  svg: SVGSVGElement;
  area: HTMLElement; // releasing outside it prunes
  trash: HTMLElement; // releasing over it prunes
  pick(e: PointerEvent): DragTarget | null;
  start?(): void; // a drag begins (e.g. clear hover highlights)
}

const THRESHOLD = 5; // px of movement before a press becomes a drag

function inside(r: DOMRect, x: number, y: number): boolean {
  return r.width > 0 && r.height > 0 && x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
}

/** Install drag handling; returns `{ suppressClick, dispose }`. */
export function attachDrag(opts: DragOptions): { suppressClick: () => boolean; dispose: () => void } {
  const { svg, area, trash } = opts;
  const doc = svg.ownerDocument;
  let justDragged = false;
  let active: {
    target: DragTarget;
    base: string;
    x0: number;
    y0: number;
    dragging: boolean;
    scale: number;
  } | null = null;

  const onMove = (e: PointerEvent): void => {
    if (!active) return;
    const dx = e.clientX - active.x0;
    const dy = e.clientY - active.y0;
    if (!active.dragging) {
      if (Math.hypot(dx, dy) < THRESHOLD) return;
      active.dragging = true;
      opts.start?.();
      area.classList.add("kw-dragging");
      const root = active.target.root ?? active.target.el;
      root.classList.add("kw-dragged");
      root.parentNode?.appendChild(root); // above every other plot
    }
    const s = active.scale;
    active.target.el.setAttribute("transform", `translate(${dx * s},${dy * s}) ${active.base}`);
    trash.classList.toggle("kw-hot", inside(trash.getBoundingClientRect(), e.clientX, e.clientY));
    e.preventDefault();
  };

  const finish = (e: PointerEvent, cancelled: boolean): void => {
    doc.removeEventListener("pointermove", onMove);
    doc.removeEventListener("pointerup", onUp);
    doc.removeEventListener("pointercancel", onCancel);
    const a = active;
    active = null;
    if (!a || !a.dragging) return;
    a.target.el.setAttribute("transform", a.base);
    (a.target.root ?? a.target.el).classList.remove("kw-dragged");
    area.classList.remove("kw-dragging");
    trash.classList.remove("kw-hot");
    justDragged = true;
    setTimeout(() => (justDragged = false), 0);
    if (cancelled) return;
    const onTrash = inside(trash.getBoundingClientRect(), e.clientX, e.clientY);
    const outside = !inside(area.getBoundingClientRect(), e.clientX, e.clientY);
    if (onTrash || outside) a.target.drop();
  };
  const onUp = (e: PointerEvent): void => finish(e, false);
  const onCancel = (e: PointerEvent): void => finish(e, true);

  const onDown = (e: PointerEvent): void => {
    if (e.button > 0 || !(e.target instanceof Element)) return;
    const target = opts.pick(e);
    if (!target) return;
    const r = svg.getBoundingClientRect();
    const vb = svg.viewBox?.baseVal;
    const scale = r.width > 0 && vb && vb.width > 0 ? vb.width / r.width : 1;
    active = {
      target,
      base: target.el.getAttribute("transform") ?? "",
      x0: e.clientX,
      y0: e.clientY,
      dragging: false,
      scale,
    };
    doc.addEventListener("pointermove", onMove);
    doc.addEventListener("pointerup", onUp);
    doc.addEventListener("pointercancel", onCancel);
  };
  svg.addEventListener("pointerdown", onDown);

  return {
    suppressClick: () => justDragged,
    dispose: () => {
      svg.removeEventListener("pointerdown", onDown);
      doc.removeEventListener("pointermove", onMove);
      doc.removeEventListener("pointerup", onUp);
      doc.removeEventListener("pointercancel", onCancel);
    },
  };
}
