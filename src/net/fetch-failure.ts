// Why an outbound fetch (the hub's PromQL, remote-write, the alert webhook) failed, in one wording for all three.
// Node's fetch throws "fetch failed" with the reason in `cause`, and refuses the ports the Fetch standard
// blocks (9, 6667, ...) before connecting, with a cause of just "bad port".

/** A sentence for a failed fetch of url: a timeout, a blocked port, or the system's error code. */
export function fetchFailure(e: unknown, url: string, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (err?.cause?.message === 'bad port') {
    let port = '';
    try { port = new URL(url).port; } catch { /* the caller checked the URL */ }
    return `Node's fetch refuses port ${port} (a port the Fetch standard blocks); use another port`;
  }
  const why = err?.cause?.code ?? err?.cause?.message;
  return why ? `unreachable (${why})` : `failed: ${err?.message ?? String(e)}`;
}
