// Compose files in a running agent: read at start (a bad one stops the agent),
// read again when they change (a bad one is refused and the previous reading stays).
import { loadComposeFile, type ComposeProject } from './compose.js';
import { declaredEdges, type Declarations } from './declared.js';
import { intentDiff, type IntentDiff } from './diff.js';
import { FileError } from '../policy/yaml-source.js';
import { watchFiles } from '../policy/watch.js';
import { policyMetrics } from '../policy/metrics.js';

/** Reads every file; files naming the same project add their services to it. */
export function loadComposeFiles(files: string[]): ComposeProject[] {
  return files.map((f) => loadComposeFile(f));
}

export interface IntentStatus {
  files: { file: string; project: string; sha256: string; services: number }[];
  lastError: { time: number; file: string; line: number; column: number; message: string } | null;
}

export class IntentRuntime {
  private projects: ComposeProject[];
  private decl: Declarations;
  private lastError: IntentStatus['lastError'] = null;
  private watcher: { stop(): void } | null = null;

  constructor(readonly files: string[], initial: ComposeProject[], private readonly log: { say?: (m: string) => void; warn?: (m: string) => void } = {}) {
    this.projects = initial;
    this.decl = declaredEdges(initial);
  }

  start(): void { this.watcher = watchFiles(this.files, (f) => this.reload(f)); }
  stop(): void { this.watcher?.stop(); }

  reload(file: string, now = Date.now()): boolean {
    const i = this.projects.findIndex((p) => p.file === file);
    let next: ComposeProject;
    try {
      next = loadComposeFile(file);
    } catch (e) {
      const fe = e instanceof FileError ? e : new FileError(file, 1, 1, (e as Error).message);
      this.lastError = { time: now, file: fe.file, line: fe.line, column: fe.column, message: fe.problem };
      policyMetrics.reloads.inc({ file: 'compose', result: 'refused' });
      (this.log.warn ?? console.error)(`dhrishti: compose file refused: ${fe.message}; the previous reading stays`);
      return false;
    }
    this.lastError = null;
    if (i >= 0 && this.projects[i].sha256 === next.sha256) return false;
    this.projects = this.projects.map((p, k) => (k === i ? next : p));
    this.decl = declaredEdges(this.projects);
    policyMetrics.reloads.inc({ file: 'compose', result: 'ok' });
    (this.log.say ?? console.log)(`dhrishti: compose file ${file} reloaded: project ${next.project}, ${next.services.size} services, ${this.decl.edges.length} declared edges`);
    return true;
  }

  declarations(): Declarations { return this.decl; }

  diff(graph: Parameters<typeof intentDiff>[1]): IntentDiff { return intentDiff(this.projects, graph, this.decl); }

  status(): IntentStatus {
    return {
      files: this.projects.map((p) => ({ file: p.file, project: p.project, sha256: p.sha256, services: p.services.size })),
      lastError: this.lastError,
    };
  }
}
