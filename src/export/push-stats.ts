// Success and failure of one pusher (OTLP, remote-write), for /metrics and the log.
export class PushStats {
  pushes = 0;
  failures = 0;
  lastError: string | null = null;
  lastMs = 0;
  private warned = 0;

  constructor(readonly exporter: 'otlp' | 'remote_write', private readonly log: (s: string) => void = (s) => console.error(s)) {}

  record(ok: boolean, ms: number, error?: string): void {
    this.pushes++;
    this.lastMs = ms;
    if (ok) { this.lastError = null; return; }
    this.failures++;
    this.lastError = error ?? 'unknown error';
    // Say so, but not on every interval of a long outage.
    if (Date.now() - this.warned > 60_000) {
      this.warned = Date.now();
      this.log(`dhrishti: ${this.exporter} push failed: ${this.lastError} (${this.failures} failures so far)`);
    }
  }
}
