// What the timeline's per-bucket queries share (queries.ts, requests.ts): one tier's buckets, of every edge or of a
// project's.

/** One tier's buckets in [start, end) (seconds), of every edge or of those with an end in a group (a project). */
export interface BucketQuery { res: number; start: number; end: number; group: string | null }

/** The edges with an end in the project @group: the map's group filter (graph/filter.ts), in SQL. */
export const GROUP_EDGES = '(SELECT g2.id FROM edges g2 JOIN nodes n2 ON n2.id IN (g2.source, g2.target) WHERE n2.grp = @group)';
