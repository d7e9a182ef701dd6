// Is a kernel behind this view? The answer drives LINK_NOTES / controls() (controls.ts).
// anywidget's model proxy hides the comm, so three signals are combined:
// - the Backbone model behind the proxy (found through the widget manager: it holds the
//   very same trait objects) says `comm_live`; JupyterLab sets it false when the kernel
//   restarts and fires `comm_live_update`, which the proxy forwards;
// - `comm:close` / `destroy` (the widget was closed from Python);
// - a heartbeat: every `pingMs` a `ping` action; the kernel answers `{pong: true}`. No answer
//   within `timeoutMs` while the kernel is not busy (a running cell delays every answer)
//   means the kernel is gone (e.g. shut down); a late answer makes the link live again.
import type { WidgetModel } from "../model";
import type { LinkState } from "./controls";

interface Backbone {
  get(key: string): unknown;
  comm_live?: boolean;
}

interface Manager {
  kernel?: { status?: string } | null;
  _models?: Record<string, Promise<Backbone>>;
}

export interface LinkOptions {
  pingMs?: number;
  timeoutMs?: number;
}

export class Link {
  state: LinkState = "live";
  private backbone: Backbone | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private waitingSince: number | null = null;
  private everLive = false;
  private handlers: [string, (...a: unknown[]) => void][] = [];
  private disposed = false;

  constructor(
    private model: WidgetModel,
    private onChange: (s: LinkState) => void,
    private opts: LinkOptions = {},
  ) {
    const recheck = (): void => this.check();
    const lost = (): void => this.set(this.everLive ? "lost" : "offline");
    const custom = (msg: unknown): void => {
      if (msg && typeof msg === "object" && (msg as { pong?: unknown }).pong) {
        this.waitingSince = null;
        this.everLive = true;
        if (this.state !== "live") this.set("live");
      }
    };
    this.handlers = [["comm_live_update", recheck], ["comm:close", lost], ["destroy", lost], ["msg:custom", custom]];
    for (const [ev, h] of this.handlers) model.on(ev, h as () => void);
    void this.find().then(() => this.check(true));
    this.timer = setInterval(() => this.beat(), opts.pingMs ?? 5000);
  }

  private manager(): Manager | undefined {
    return (this.model as unknown as { widget_manager?: Manager }).widget_manager;
  }

  /** The Backbone model behind anywidget's proxy (null outside a widget manager). */
  private async find(): Promise<void> {
    const mine = this.model.get("structure");
    for (const p of Object.values(this.manager()?._models ?? {})) {
      const m = await Promise.resolve(p).catch(() => null);
      if (m && mine !== undefined && typeof m.get === "function" && m.get("structure") === mine) {
        this.backbone = m;
        return;
      }
    }
  }

  private check(first = false): void {
    const m = this.backbone;
    if (m && typeof m.comm_live === "boolean") {
      if (m.comm_live) {
        this.everLive = true;
        this.set("live");
      } else if (first && !this.everLive) {
        this.set("kernel" in (this.manager() ?? {}) ? "offline" : "static");
      } else {
        this.set(this.everLive ? "lost" : "offline");
      }
    } else if (first && this.manager() && !("kernel" in this.manager()!)) {
      this.set("static"); // an HTML export's manager has no kernel
    }
  }

  private beat(): void {
    if (this.disposed || this.state === "static" || this.state === "offline") return;
    const now = Date.now();
    const busy = this.manager()?.kernel?.status === "busy";
    if (this.waitingSince != null && !busy && now - this.waitingSince > (this.opts.timeoutMs ?? 4000)) {
      this.set(this.everLive ? "lost" : "offline");
    }
    if (this.waitingSince == null) this.waitingSince = now;
    try {
      this.model.send({ action: "ping" });
    } catch {
      this.set(this.everLive ? "lost" : "static"); // a dead comm throws; no kernel at all too
    }
  }

  private set(s: LinkState): void {
    if (s === this.state || this.disposed) return;
    this.state = s;
    this.onChange(s);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    for (const [ev, h] of this.handlers) this.model.off(ev, h as () => void);
  }
}
