// Readable formula text: sympy's `**` powers become superscripts and `*` a middle dot.
// Built as DOM text nodes (never innerHTML), since names can come from user input.

const POWER = /\*\*\s*(\([^()]*\)|[-+]?[\w.]+)/g;

/** Fill `el` with `text`, rendering `a**b` as a<sup>b</sup>. */
export function renderFormula(el: HTMLElement, text: string | null | undefined): HTMLElement {
  el.replaceChildren();
  if (!text) return el;
  const doc = el.ownerDocument;
  let last = 0;
  for (const m of text.matchAll(POWER)) {
    el.append(doc.createTextNode(plain(text.slice(last, m.index))));
    const sup = doc.createElement("sup");
    sup.textContent = plain(m[1].replace(/^\((.*)\)$/, "$1"));
    el.append(sup);
    last = (m.index ?? 0) + m[0].length;
  }
  el.append(doc.createTextNode(plain(text.slice(last))));
  el.title = text;
  return el;
}

/** Formula as plain text with powers written a^b (for tooltips and SVG labels). */
export function formulaText(text: string | null | undefined): string {
  return text ? plain(text.replace(POWER, (_, p: string) => "^" + p)) : "";
}

function plain(s: string): string {
  return s.replace(/\s*\*\s*/g, "·");
}
