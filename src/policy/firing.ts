// Policy alerts kept firing at the webhook while their violation runs. Alertmanager ends an alert at its
// endsAt, or resolve_timeout (5 min by default) after the last post when it has none: posted once, a violation
// that kept going read resolved after 5 minutes. So each firing alert is posted again every repostMs with an
// endsAt a few periods ahead, and once its violation has been quiet for activeMs it is posted with endsAt = now.
import type { Alert, AlertWebhook } from './webhook.js';
import { POLICY_DEFAULTS } from '../config/defaults.js';

export interface FiringOptions {
  repostMs?: number;
  /** A violation with no new connection or attempt for this long has stopped: its alert ends. */
  activeMs?: number;
  /** How far ahead of each post its endsAt lies: a few repost periods, so one lost post does not end it. */
  endsAfterMs?: number;
  clock?: () => number;
}

interface Firing { alert: Alert; activeAt: number }

export class FiringAlerts {
  private readonly firing = new Map<string, Firing>();
  private timer: NodeJS.Timeout | null = null;
  private readonly repostMs: number;
  private readonly activeMs: number;
  private readonly endsAfterMs: number;
  private readonly clock: () => number;

  constructor(private readonly webhook: Pick<AlertWebhook, 'send'>, o: FiringOptions = {}) {
    this.repostMs = o.repostMs ?? POLICY_DEFAULTS.alertRepostMs;
    this.activeMs = o.activeMs ?? POLICY_DEFAULTS.quietMs;
    this.endsAfterMs = o.endsAfterMs ?? this.repostMs * POLICY_DEFAULTS.alertEndsAfterReposts;
    this.clock = o.clock ?? Date.now;
  }

  /**
   * The violation behind `key` was active now. A new alert is posted at once; one already firing is carried by
   * the next repost, with `alert` as its content when `changed` (its news changed what it says).
   */
  note(key: string, alert: Alert, changed: boolean): void {
    const now = this.clock();
    const f = this.firing.get(key);
    if (!f) {
      this.firing.set(key, { alert, activeAt: now });
      this.post(alert, now + this.endsAfterMs);
      return;
    }
    f.activeAt = now;
    if (changed) f.alert = alert;
  }

  /** Alerts firing now. */
  get size(): number { return this.firing.size; }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.repost(), this.repostMs);
    this.timer.unref();
  }

  /** Posts every firing alert again; those whose violation stopped, with endsAt now (then forgotten). */
  repost(): void {
    const now = this.clock();
    for (const [key, f] of this.firing) {
      if (now - f.activeAt >= this.activeMs) {
        this.post(f.alert, now);
        this.firing.delete(key);
      } else this.post(f.alert, now + this.endsAfterMs);
    }
  }

  /** Stops reposting; alerts still firing lapse at their last endsAt. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private post(a: Alert, endsAt: number): void {
    this.webhook.send({ ...a, endsAt: new Date(endsAt).toISOString() });
  }
}
