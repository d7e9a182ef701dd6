// Loss sparkline: train and test RMSE per step on a log scale. Its label is set by the
// view: the current version's recorded loss when idle, the latest step while training.
import { extent, linePath, svg, type Run } from "../plot";
import { fmtLoss } from "./format";

const W = 150;
const H = 34;

function logRun(values: Float32Array | undefined): Run | null {
  if (!values || !values.length) return null;
  const out = new Float32Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = values[k] > 0 ? Math.log10(values[k]) : NaN;
  return { data: out, start: 0, n: out.length };
}

function steps(n: number): Run {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = k;
  return { data: out, start: 0, n };
}

export class Sparkline {
  readonly el: SVGSVGElement;
  private train: SVGPathElement;
  private test: SVGPathElement;
  private label: SVGTextElement;
  private labelTitle: SVGTitleElement;
  private labelText: SVGTSpanElement;
  private title: SVGTitleElement;

  constructor() {
    this.el = svg("svg", { class: "kw-sparkline", width: W + 110, height: H, viewBox: `0 0 ${W + 110} ${H}` });
    this.title = svg("title", {}, this.el);
    svg("rect", { class: "kw-spark-bg", width: W, height: H, rx: 3 }, this.el);
    this.test = svg("path", { class: "kw-loss-test" }, this.el);
    this.train = svg("path", { class: "kw-loss-train" }, this.el);
    this.label = svg("text", { class: "kw-spark-label", x: W + 4, y: H / 2 + 4 }, this.el);
    this.labelTitle = svg("title", {}, this.label);
    this.labelText = svg("tspan", {}, this.label);
    this.update(undefined, undefined);
  }

  /** Redraw from per-step RMSE arrays (either may be missing). */
  update(train: Float32Array | undefined, test: Float32Array | undefined): void {
    const tr = logRun(train);
    const te = logRun(test);
    const n = Math.max(tr?.n ?? 0, te?.n ?? 0);
    if (!n) {
      this.train.setAttribute("d", "");
      this.test.setAttribute("d", "");
      this.title.textContent = "loss (RMSE, log scale)";
      return;
    }
    const xs = steps(n);
    const scale = { x: [0, Math.max(1, n - 1)] as [number, number], y: extent([tr, te]), left: 2, top: 3, width: W - 4, height: H - 6 };
    this.train.setAttribute("d", linePath(xs, tr, scale));
    this.test.setAttribute("d", linePath(xs, te, scale));
    const lastTrain = train?.[train.length - 1];
    const lastTest = test?.[test.length - 1];
    this.title.textContent =
      `RMSE per step (log scale), ${n} steps; solid: train, dashed: test\n` +
      `last step: train ${fmtLoss(lastTrain)}, test ${fmtLoss(lastTest)}`;
  }

  /** The label beside the chart, e.g. "test RMSE 0.0186", with a tooltip saying where it comes from. */
  setLabel(text: string, title: string): void {
    this.labelTitle.textContent = title;
    this.labelText.textContent = text;
  }
}
