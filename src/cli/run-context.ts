// What one `dhrishti run` extension hands to the ones started after it
// (the history store, for the policy's timeline and past verdicts).
import type { HistoryStore } from '../store/history-store.js';

export const runContext: { history?: HistoryStore } = {};
