// Joins the isolation policy and compose intent to `dhrishti run`: --policy,
// --compose, --alert-webhook; verdicts on the map, /api/v1/policy and
// /api/v1/intent. A bad file at start stops the agent before it starts.
import { InvalidArgumentError, type Command } from 'commander';
import { runExtensions } from './run.js';
import { runContext } from '../run-context.js';
import type { LoadedPolicy } from '../../policy/load.js';
import type { ComposeProject } from '../../intent/compose.js';
import type { PolicyRuntime } from '../../policy/runtime.js';
import type { IntentRuntime } from '../../intent/runtime.js';
import { AlertWebhook } from '../../policy/webhook.js';
import { measureEngine } from '../../policy/metrics.js';
import { containerNode } from '../../graph/naming.js';
import { agentHostName } from '../../export/labels.js';
import { policyRoutes } from '../../api/policy-routes.js';
import { knownWorkloads } from '../../api/workloads.js';
import type { NodeLike } from '../../policy/model.js';

interface PolicyCliOptions {
  policy?: string;
  compose?: string[];
  alertWebhook?: string;
  host: string;
  port: number;
  /** Set by the preAction hook: the files as read. */
  policyLoaded?: { file: string; loaded: LoadedPolicy };
  composeLoaded?: { file: string; project: ComposeProject }[];
}

/**
 * Files are read before `run` starts anything: a bad one stops it with
 * file:line:column and what is wrong (exit 1), before a probe is attached.
 */
async function readFiles(cmd: Command): Promise<void> {
  const o = cmd.opts<PolicyCliOptions>();
  let what = 'policy';
  try {
    // The policy and compose code (YAML, JSON schemas, selectors) loads only when asked for.
    if (o.policy) {
      const { loadPolicyFile } = await import('../../policy/load.js');
      cmd.setOptionValue('policyLoaded', { file: o.policy, loaded: loadPolicyFile(o.policy) });
    }
    what = 'compose file';
    if (o.compose?.length) {
      const { loadComposeFile } = await import('../../intent/compose.js');
      cmd.setOptionValue('composeLoaded', o.compose.map((f) => ({ file: f, project: loadComposeFile(f) })));
    }
  } catch (e) {
    // every problem, one a line, as `dhrishti check` prints them (the reader's module is loaded by now)
    const { problemLines } = await import('../../policy/yaml-source.js');
    console.error(`dhrishti: invalid ${what}: ${problemLines(e).join('\n  ')}`);
    process.exit(2); // a usage error, as a bad flag is (and as `check` answers a bad policy)
  }
  if (o.alertWebhook && !o.policy) {
    console.error('dhrishti: --alert-webhook needs --policy');
    process.exit(2);
  }
}
const webhookUrl = (v: string) => {
  try { new AlertWebhook(v).stop(); return v; } catch (e) { throw new InvalidArgumentError(`--alert-webhook: ${(e as Error).message}`); }
};

runExtensions.push({
  options(cmd: Command) {
    cmd
      .option('--policy <file>', 'isolation policy (YAML): zones and rules; verdicts on every edge, reloaded on change and SIGHUP')
      .option('--compose <file>', 'compose file whose declared dependencies are compared with what runs (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
      .option('--alert-webhook <url>', 'POST an Alertmanager-style alert for each new policy violation (needs --policy)', webhookUrl)
      .hook('preAction', (c) => readFiles(c));
  },
  async start(agent, raw) {
    const o = raw as unknown as PolicyCliOptions;
    const opts = { ...o, policy: o.policyLoaded, compose: o.composeLoaded };
    const workloads = () => knownWorkloads({
      containers: () => agent.identity.containers(), listening: () => agent.graph.listening(), resolveOwner: (q) => agent.identity.resolveOwner(q),
    });
    if (!opts.policy && !opts.compose?.length) {
      return { plugins: [policyRoutes({ graph: agent.graph, policy: null, intent: null, history: runContext.history ?? null, workloads })], describe: [], stop() {} };
    }
    const describe: string[] = [];
    const stops: (() => void)[] = [];
    let policy: PolicyRuntime | null = null;
    if (opts.policy) {
      const [{ PolicyRuntime }, { decorateGraph, follow }, { unmatchedSelectors }] = await Promise.all([
        import('../../policy/runtime.js'), import('../../policy/graph-view.js'), import('../../policy/coverage.js'),
      ]);
      const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      const webhook = opts.alertWebhook ? new AlertWebhook(opts.alertWebhook) : undefined;
      // What runs now, for "selector matches nothing" warnings: the map, every known container (stopped ones too), listening processes.
      const running = (): NodeLike[] => [
        ...(policy?.engine.knownNodes() ?? []),
        ...agent.identity.containers().map((c) => { const r = containerNode(c); return { ...r, instances: r.instance ? [r.instance] : [], ips: r.instance?.ips ?? [] }; }),
        ...workloads().filter((w) => w.kind === 'process'),
      ];
      policy = new PolicyRuntime(opts.policy.file, opts.policy.loaded, {
        timeline: runContext.history, webhook, uiUrl: `http://${shown}:${opts.port}/`, host: agentHostName((raw as { hostname?: string }).hostname), coverage: (p) => unmatchedSelectors(p, running()),
      });
      const feed = decorateGraph(agent.graph, policy.engine);
      const follower = follow(feed, policy.engine);
      policy.start();
      measureEngine(policy.engine);
      stops.push(() => { follower.stop(); policy?.stop(); measureEngine(null); });
      if (webhook) describe.push(`policy alerts to ${opts.alertWebhook}`);
    }
    let intent: IntentRuntime | null = null;
    if (opts.compose?.length) {
      const { IntentRuntime } = await import('../../intent/runtime.js');
      intent = new IntentRuntime(opts.compose.map((c) => c.file), opts.compose.map((c) => c.project));
      intent.start();
      stops.push(() => intent?.stop());
      const d = intent.declarations();
      describe.push(`compose intent from ${opts.compose.map((c) => `${c.file} (project ${c.project.project})`).join(', ')}: ${d.edges.length} declared edges`);
    }
    return {
      plugins: [policyRoutes({ graph: agent.graph, policy, intent, history: runContext.history ?? null, workloads })],
      describe,
      stop: () => { for (const s of stops) s(); },
    };
  },
});
