// Drag-to-prune with pointer events: a thumbnail or node dragged past a small threshold
// follows the pointer; released outside the diagram area or over the trash zone, it is
// pruned, otherwise it snaps back. A press that never passes the threshold stays a click.

export interface DragTarget {
  el: SVGGraphicsElement; // element that follows the pointer (has a base transform)
  drop(): void; // called when released outside the area or on the trash
}

export interface DragOptions {
  svg: SVGSVGElement;
  area: HTMLElement; // releasing outside it prunes
  trash: HTMLElement; // releasing over it prunes
  pick(target: Element): DragTarget | null;
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
      area.classList.add("kw-dragging");
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
    const target = opts.pick(e.target);
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
