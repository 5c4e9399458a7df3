// The isolation policy as Dhrishti holds it after reading and checking the file.
import type { GraphNode } from '../graph/types.js';
import type { ConnectionCounts } from '../graph/edge-facts.js';

export type RuleAction = 'deny' | 'allow' | 'allow-only';
export const RULE_ACTIONS: readonly RuleAction[] = ['deny', 'allow', 'allow-only'];

/** One selector: every key given must match. */
export interface Selector {
  compose_project?: string;
  compose_service?: string;
  namespace?: string;
  label?: Record<string, string>;
  name?: string;
  image?: string;
  process?: string;
  cidr?: string[];
  kind?: GraphNode['kind'];
}
export const SELECTOR_KEYS: readonly (keyof Selector)[] = ['compose_project', 'compose_service', 'namespace', 'label', 'name', 'image', 'process', 'cidr', 'kind'];

export interface ZoneSpec {
  name: string;
  /** A workload in any of them is in the zone. */
  selectors: Selector[];
  /** Defined by Dhrishti, not by the file. */
  builtin?: boolean;
  /** Where each selector is written (line, column), for messages. */
  at?: { line: number; column: number }[];
}

export interface RuleSpec {
  name: string;
  description?: string;
  action: RuleAction;
  from: string[];
  to: string[];
  /** Server port ranges [low, high]; null: any port. */
  ports: [number, number][] | null;
  /** null: any protocol. */
  protocols: string[] | null;
}

export interface PolicySpec {
  zones: ZoneSpec[];
  rules: RuleSpec[];
}

/** Zones every policy may name without defining them. */
export const BUILTIN_ZONES: ZoneSpec[] = [
  { name: 'any', selectors: [], builtin: true },
  { name: 'external', selectors: [{ kind: 'external' }, { kind: 'client' }], builtin: true },
  { name: 'host', selectors: [{ kind: 'process' }], builtin: true },
];

/** What a node must carry to be placed in zones: a GraphNode fits, and so does the history store's node descriptor. */
export type NodeLike = Pick<GraphNode, 'id' | 'kind' | 'label' | 'group' | 'image' | 'labels' | 'instances' | 'ips'> & Partial<Pick<GraphNode, 'vacant'>>;

/** What an edge must carry to be judged (a GraphEdge fits). */
export interface EdgeLike {
  id: string;
  source: string;
  target: string;
  port: number;
  protocol: string;
  connections?: ConnectionCounts;
  /** The client instances that made its connections (GraphEdge.clientInstances), when the map knows them. */
  clientInstances?: string[];
}
