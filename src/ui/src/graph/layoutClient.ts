// Runs layouts in Web Workers: a few workers (one per core, at most 3; the page waits meanwhile), each taking the
// next step when free, so the projects of a big map are laid out in parallel. Without workers
// (or if they fail to start) the steps run on the page instead, after it has painted.
import { computeLayout, runStep, splitGrouped, type InnerLayout, type LayoutJob, type LayoutResult, type LayoutStep } from './layoutCompute.js';

type StepResult = Record<string, [number, number]> | InnerLayout;
interface Task { step: LayoutStep; resolve: (r: StepResult) => void; reject: (e: Error) => void }

export class LayoutClient {
  private workers: { w: Worker; busy: Task | null }[] = [];
  private failed = typeof Worker === 'undefined';
  private readonly queue: Task[] = [];
  private seq = 0;
  /** Where the last layout ran, for tests and the benchmark. */
  where: 'worker' | 'page' = 'worker';

  constructor(private readonly size = Math.max(1, Math.min(3, navigator.hardwareConcurrency || 2))) {}

  async run(job: LayoutJob): Promise<LayoutResult> {
    const t0 = performance.now();
    if (this.failed) return this.onPage(job);
    let positions: Record<string, [number, number]>;
    if (job.strategy === 'compound' || job.nodes.length < 2) {
      positions = await this.step({ kind: 'compound', nodes: job.nodes, edges: job.edges }) as Record<string, [number, number]>;
    } else {
      const { inner, outer } = splitGrouped(job);
      const done = await Promise.all(inner.map((st) => this.step(st) as Promise<InnerLayout>));
      positions = await this.step(outer(done)) as Record<string, [number, number]>;
    }
    this.where = this.failed ? 'page' : 'worker';
    return { positions, ms: performance.now() - t0 };
  }

  /** Starts a worker now (it loads its own copy of Cytoscape), so the first big layout does not wait for it. */
  prewarm(): void {
    if (!this.failed && this.workers.length === 0) this.start();
  }

  destroy(): void {
    for (const { w, busy } of this.workers) { w.terminate(); busy?.reject(new Error('layout cancelled')); }
    this.workers = [];
    for (const t of this.queue.splice(0)) t.reject(new Error('layout cancelled'));
  }

  private step(step: LayoutStep): Promise<StepResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ step, resolve, reject });
      this.pump();
    });
  }

  /** Hands queued steps to free workers (starting workers up to the pool size). */
  private pump(): void {
    while (this.queue.length) {
      if (this.failed) {
        const t = this.queue.shift()!;
        window.setTimeout(() => { try { t.resolve(runStep(t.step)); } catch (e) { t.reject(e as Error); } }, 0);
        continue;
      }
      let slot = this.workers.find((x) => !x.busy);
      if (!slot && this.workers.length < this.size) slot = this.start() ?? undefined;
      if (!slot) return;
      const t = this.queue.shift()!;
      slot.busy = t;
      slot.w.postMessage({ id: ++this.seq, step: t.step });
    }
  }

  private start(): { w: Worker; busy: Task | null } | null {
    try {
      const w = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
      const slot: { w: Worker; busy: Task | null } = { w, busy: null };
      w.onmessage = (ev: MessageEvent<{ result?: StepResult; error?: string }>) => {
        const t = slot.busy;
        slot.busy = null;
        if (t) { if (ev.data.result) t.resolve(ev.data.result); else t.reject(new Error(ev.data.error ?? 'layout failed')); }
        this.pump();
      };
      w.onerror = (ev) => {
        // a worker that cannot load: this step and every later one run on the page
        ev.preventDefault();
        console.warn('dhrishti: layout worker failed, laying out on the page:', ev.message);
        this.failed = true;
        for (const x of this.workers) { x.w.terminate(); if (x.busy) this.queue.unshift(x.busy); }
        this.workers = [];
        this.pump();
      };
      this.workers.push(slot);
      return slot;
    } catch {
      this.failed = true;
      return null;
    }
  }

  private onPage(job: LayoutJob): Promise<LayoutResult> {
    this.where = 'page';
    return new Promise((resolve, reject) => {
      window.setTimeout(() => { try { resolve(computeLayout(job)); } catch (e) { reject(e as Error); } }, 0);
    });
  }
}
