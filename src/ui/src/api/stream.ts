// The live stream: a WebSocket to /api/v1/stream that reconnects by itself with
// doubling, jittered delays, and reports its state for the status bar.
import type { StreamMessage } from '../../../graph/types.js';
import { UI } from '../config.js';
import { streamUrl } from './client.js';

export type StreamState =
  | { phase: 'connecting'; attempt: number }
  | { phase: 'connected'; since: number }
  | { phase: 'reconnecting'; attempt: number; retryAt: number; reason: string };

export interface StreamHandlers {
  onMessage(msg: StreamMessage, receivedAt: number): void;
  onState(state: StreamState): void;
}

export class LiveStream {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;

  constructor(private readonly handlers: StreamHandlers) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.ws?.close();
    this.ws = null;
  }

  private open(): void {
    this.handlers.onState({ phase: 'connecting', attempt: this.attempt });
    let ws: WebSocket;
    try {
      ws = new WebSocket(streamUrl());
    } catch (e) {
      this.retry((e as Error).message);
      return;
    }
    this.ws = ws;
    let gotMessage = false;
    ws.onmessage = (ev) => {
      const receivedAt = performance.now();
      let msg: StreamMessage;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : '') as StreamMessage;
      } catch {
        console.warn('dhrishti: ignoring a stream message that is not JSON');
        return;
      }
      if (!gotMessage) {
        gotMessage = true;
        this.attempt = 0; // a working stream resets the backoff
        this.handlers.onState({ phase: 'connected', since: Date.now() });
      }
      try {
        this.handlers.onMessage(msg, receivedAt);
      } catch (e) {
        console.error('dhrishti: could not apply a stream message', e);
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      // The agent says why it closed (too many clients, 1013; no pong, 4008): show its reason.
      if (!this.stopped) this.retry(ev.code === 1008 || ev.code === 4401 ? 'not authorised (check ?token=)' : `closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    };
    ws.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  private retry(reason: string): void {
    const base = Math.min(UI.reconnectMaxMs, UI.reconnectMinMs * 2 ** this.attempt);
    const delay = base * (1 + Math.random() * 0.3);
    this.attempt++;
    this.handlers.onState({ phase: 'reconnecting', attempt: this.attempt, retryAt: Date.now() + delay, reason });
    this.timer = window.setTimeout(() => this.open(), delay);
  }
}
