// The push receivers' URLs, checked when the flags are read. Kept apart from
// the pushers themselves (otlp.ts, remote-write.ts): those load the OpenTelemetry
// SDK, protobufjs and snappy, which an agent that does not push never loads.

/** OTLP/HTTP's metrics path is added to a bare endpoint, as the SDK's environment variables do. */
export function otlpMetricsUrl(endpoint: string): string {
  let u: URL;
  try { u = new URL(endpoint); } catch { throw new Error(`--otlp-endpoint must be a URL such as http://collector:4318, got "${endpoint}"`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--otlp-endpoint must be http(s), got "${endpoint}"`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/metrics';
  return u.toString();
}

export function checkRemoteWriteUrl(url: string): string {
  let u: URL;
  try { u = new URL(url); } catch { throw new Error(`--remote-write must be a URL such as http://prometheus:9090/api/v1/write, got "${url}"`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--remote-write must be http(s), got "${url}"`);
  return u.toString();
}
