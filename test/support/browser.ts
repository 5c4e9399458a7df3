// A real headless browser for UI tests and the render benchmark: Debian's chromium,
// started by us (so we hold its pid and kill it by pid), driven by playwright-core over CDP.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  // Names resolve to nothing but loopback: with the flags below alone, chromium still looked up its own services
  // (content-autofill.googleapis.com) at the machine's resolver, traffic the test rules forbid, drawn on the map as an edge.
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost',
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-dev-shm-usage',
  '--mute-audio',
  '--disable-breakpad',
  '--disable-crash-reporter',
];

/** Browsers still running, killed (by process group) if this process exits or is stopped without closing them. */
const live = new Map<number, string>(); // pid -> profile folder
const killLive = () => {
  for (const [pid, profile] of live) {
    killGroup(pid, 'SIGKILL');
    try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }); } catch { /* best effort on the way out */ }
  }
  live.clear();
};
process.once('exit', killLive);
/** On SIGINT/SIGTERM: kill the browsers, then die of the same signal as if we had not been listening. */
function onSignal(sig: NodeJS.Signals): void {
  killLive();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.kill(process.pid, sig);
}
function watchSignals(on: boolean): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.removeListener(sig, onSignal);
    if (on) process.once(sig, onSignal);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { try { process.kill(pid, signal); } catch { /* gone */ } }
}

export interface BrowserOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Extra chromium flags. */
  args?: string[];
  /** How long to wait for chromium to start, in ms. */
  startTimeoutMs?: number;
}

export interface BrowserSession {
  pid: number;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far, on every page of the session. */
  errors: string[];
  /** Console warnings seen so far (Cytoscape names a style value it dropped here, and draws without it). */
  warnings: string[];
  /** Opens `url` and waits until the UI's test hook says the map is drawn. */
  openUi(url: string, timeoutMs?: number): Promise<void>;
  /** Waits until `fn` (run in the page; a function or an expression) is truthy; returns its value. */
  waitFor<T>(fn: (() => T) | string, timeoutMs?: number, what?: string): Promise<T>;
  /** window.__dhrishti's lists, for assertions on what is drawn. */
  drawn(): Promise<{ nodes: string[]; edges: string[]; visibleNodes: string[]; visibleEdges: string[] }>;
  edgeClasses(id: string): Promise<string[]>;
  /** Fails unless, within about 5 s, no node (label included) is drawn under a panel over the map (data-map-overlay). */
  clearOfPanels(when: string): Promise<void>;
  /** Moves the replay scrubber to t (as a user's drag would end) and waits until the moment shown is t. */
  scrubTo(t: number): Promise<void>;
  screenshot(file: string): Promise<void>;
  /** CPU time (user + system, ms) used so far by every chromium process of this session. */
  cpuMs(): number;
  close(): Promise<void>;
}

const TICKS_PER_SEC = 100; // USER_HZ on Linux

/** Sums utime + stime of the live processes in process group `pgid`, from /proc. */
export function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try { stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
    // fields after the command name, which is in parentheses and may contain spaces
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) !== pgid) continue; // f[2] = pgrp
    ticks += Number(f[11]) + Number(f[12]); // utime, stime
  }
  return (ticks / TICKS_PER_SEC) * 1000;
}

/** Starts chromium with a fresh profile in a temp folder; close() kills it by pid and removes the folder. */
export async function launchBrowser(opts: BrowserOptions = {}): Promise<BrowserSession> {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} not found; run: npm run setup (installs Debian's chromium)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dhrishti-chromium-'));
  const proc = spawn(CHROMIUM_PATH, [
    ...CHROMIUM_ARGS,
    ...(opts.args ?? []),
    `--user-data-dir=${profile}`,
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    'about:blank',
  ], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // its own process group, so close() ends the zygote, renderers and GPU process with it
    detached: true,
    // chromium's own temp folders go inside the profile and are removed with it
    env: { ...process.env, TMPDIR: profile },
  });
  if (!proc.pid) { fs.rmSync(profile, { recursive: true, force: true }); throw new Error('cannot start chromium'); }
  const pid = proc.pid;
  live.set(pid, profile);
  watchSignals(true);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stderr: string[] = [];

  const kill = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      killGroup(pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    killGroup(pid, 'SIGKILL'); // any helper process still in the group
    live.delete(pid);
    if (live.size === 0) watchSignals(false);
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };

  let browser: Browser;
  try {
    const wsEndpoint = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`chromium did not start within ${opts.startTimeoutMs ?? 20000} ms: ${stderr.slice(-5).join(' | ')}`)), opts.startTimeoutMs ?? 20000);
      readline.createInterface({ input: proc.stderr! }).on('line', (l) => {
        stderr.push(l);
        const m = l.match(/DevTools listening on (ws:\/\/\S+)/);
        if (m) { clearTimeout(t); resolve(m[1]); }
      });
      proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`chromium exited (${code}) before it was ready: ${stderr.slice(-5).join(' | ')}`)); });
    });
    browser = await chromium.connectOverCDP(wsEndpoint);
  } catch (e) {
    await kill();
    throw e;
  }

  const errors: string[] = [];
  const warnings: string[] = [];
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1440, height: 900 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  const watch = (p: Page) => {
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
      else if (m.type() === 'warning') warnings.push(m.text());
    });
    p.on('pageerror', (err) => errors.push(err.message));
  };
  context.on('page', watch);
  const page = await context.newPage();

  const session: BrowserSession = {
    pid,
    browser,
    context,
    page,
    errors,
    warnings,
    async openUi(url, timeoutMs = 30000) {
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      await session.waitFor(() => window.__dhrishti?.ready === true, timeoutMs, 'the map to be drawn (window.__dhrishti.ready)');
    },
    async waitFor(fn, timeoutMs = 15000, what = 'a condition in the page') {
      try {
        // A string becomes a function here, in node: Playwright sends a function's source once (inside
        // the CDP call, which the UI's CSP allows) and polls it; a string it would eval on every poll,
        // which the CSP (no 'unsafe-eval') refuses. (A string holding an arrow function would not do:
        // Playwright evaluates it to the function itself, which is truthy, and stops at once.)
        const pred = typeof fn === 'string' ? (new Function(`return (${fn});`) as () => unknown) : fn;
        const handle = await page.waitForFunction(pred, undefined, { timeout: timeoutMs, polling: 100 });
        return (await handle.jsonValue()) as never;
      } catch (e) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${errors.length ? `; page errors: ${errors.join(' | ')}` : ''} (${(e as Error).message.split('\n')[0]})`);
      }
    },
    async clearOfPanels(when) {
      let under: string[] = [];
      for (let i = 0; i < 20; i++) { // new host processes may come meanwhile: the view reframes for them
        const { boxes, panels } = await page.evaluate(() => {
          const canvas = document.querySelector('[data-testid=map-canvas]')!.getBoundingClientRect();
          const panels = [...document.querySelectorAll('[data-map-overlay]')].map((el) => el.getBoundingClientRect())
            .filter((r) => r.width > 0).map((r) => ({ x1: r.left - canvas.left, y1: r.top - canvas.top, x2: r.right - canvas.left, y2: r.bottom - canvas.top }));
          return { boxes: window.__dhrishti!.renderedBoxes(), panels };
        });
        if (panels.length < 2) throw new Error('the legend and the zoom buttons are not there');
        under = boxes.filter((n) => panels.some((p) => n.x1 < p.x2 && p.x1 < n.x2 && n.y1 < p.y2 && p.y1 < n.y2)).map((n) => `${n.id} ${JSON.stringify(n)}`);
        if (!under.length) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      const moved = await page.evaluate(() => window.__dhrishti!.userMoved());
      throw new Error(`nodes under a panel (${when}${moved ? '; the view counts as moved by the user' : ''}): ${under.join(', ')}`);
    },
    async scrubTo(t) {
      await page.locator('[data-testid=replay-scrubber]').evaluate((el, v) => {
        const input = el as HTMLInputElement;
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, String(v));
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }, t);
      await session.waitFor(`document.querySelector('[data-testid=replay-time]').dataset.t === '${t}'`, 5_000, `the replay at ${t}`);
    },
    drawn() {
      return page.evaluate(() => {
        const h = window.__dhrishti;
        if (!h) throw new Error('window.__dhrishti is missing: is this the Dhrishti UI?');
        return { nodes: h.nodeIds(), edges: h.edgeIds(), visibleNodes: h.visibleNodeIds(), visibleEdges: h.visibleEdgeIds() };
      });
    },
    edgeClasses(id) {
      return page.evaluate((edgeId) => window.__dhrishti?.edgeClasses(edgeId) ?? [], id);
    },
    async screenshot(file) {
      await page.screenshot({ path: file });
    },
    cpuMs: () => groupCpuMs(pid),
    async close() {
      try { await browser.close(); } catch { /* already gone */ }
      await kill();
    },
  };
  return session;
}

/** The shape of window.__dhrishti as the UI exposes it (see src/ui/src/graph/testHook.ts). */
interface DhrishtiHook {
  /** The Cytoscape instance (typed loosely here; see the UI for its full type). */
  cy: unknown;
  ready: boolean;
  /** Acts as a click on a node or edge (opens the side panel). */
  tap(id: string): void;
  nodeIds(): string[];
  edgeIds(): string[];
  visibleNodeIds(): string[];
  /** Shown edges: drawn by Cytoscape, or as overview lines on a big map zoomed out. */
  visibleEdgeIds(): string[];
  /** The edges drawn as overview lines in the last frame. */
  overviewEdgeIds(): string[];
  edgeClasses(id: string): string[];
  nodeClasses(id: string): string[];
  position(id: string): { x: number; y: number } | null;
  layoutRuns(): number;
  timings(): { kind: 'snapshot' | 'delta'; elements: number; applyMs: number; frameMs: number; at: number }[];
  connection(): string;
  /** 'webgl' or 'canvas'. */
  renderer(): string;
  /** Folded projects (and '*external' / '*clients'), and the drawn ids of their boxes. */
  folded(): string[];
  foldedIds(): string[];
  fold(group: string): void;
  unfold(group: string): void;
  detail(): { nodes: boolean; edges: boolean; arrows: boolean; dots: boolean; overview: boolean };
  firstLayout(): { ms: number; where: string; nodes: number } | null;
  lastLayout(): { ms: number; where: string; nodes: number } | null;
  viewport(): { zoom: number; pan: { x: number; y: number } };
  /** Moves the view as a drag of the map would. */
  panBy(x: number, y: number): void;
  /** A framing is due or under way (a zoom now would be undone by it). */
  framing(): boolean;
  userMoved(): boolean;
  /** Node boxes (labels included) in the canvas's pixels. */
  renderedBoxes(): { id: string; x1: number; y1: number; x2: number; y2: number }[];
}

declare global {
  interface Window { __dhrishti?: DhrishtiHook }
}
