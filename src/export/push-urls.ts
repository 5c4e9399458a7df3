// The push receivers' URLs, checked when the flags are read. Kept apart from
// the pushers themselves (otlp.ts, remote-write.ts): those load the OpenTelemetry
// SDK, protobufjs and snappy, which an agent that does not push never loads.
import { httpEndpoint, type Endpoint } from '../net/endpoint.js';

/** OTLP/HTTP's metrics path is added to a bare endpoint, as the SDK's environment variables do. */
export function otlpMetricsUrl(endpoint: string): Endpoint {
  return httpEndpoint(endpoint, '--otlp-endpoint', 'http://collector:4318', (u) => { if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/metrics'; });
}

export function checkRemoteWriteUrl(url: string): Endpoint {
  return httpEndpoint(url, '--remote-write', 'http://prometheus:9090/api/v1/write');
}
