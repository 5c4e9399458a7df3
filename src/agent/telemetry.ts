// The agent's numbers about itself: throughput, losses, cost.
export class EventRate {
  private samples: { t: number; total: number }[] = [];

  /** Records the running total; returns events per second over the last ~10 s. */
  update(total: number, now = Date.now()): number {
    this.samples.push({ t: now, total });
    while (this.samples.length > 2 && now - this.samples[0].t > 10_000) this.samples.shift();
    const first = this.samples[0];
    const dt = (now - first.t) / 1000;
    return dt > 0 ? (total - first.total) / dt : 0;
  }
}

export class CpuMeter {
  private last = process.cpuUsage();
  private lastT = process.hrtime.bigint();
  private pct = 0;

  /** Percent of one core used since the previous call. */
  sample(): number {
    const now = process.hrtime.bigint();
    const u = process.cpuUsage(this.last);
    const wallUs = Number(now - this.lastT) / 1000;
    if (wallUs > 200_000) {
      this.pct = ((u.user + u.system) / wallUs) * 100;
      this.last = process.cpuUsage();
      this.lastT = now;
    }
    return this.pct;
  }
}
