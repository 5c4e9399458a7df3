// The API token from --token-file, DHRISHTI_TOKEN or --token (the last one shows in `ps`).
import fs from 'node:fs';
import { API_DEFAULTS } from '../config/defaults.js';
import { checkExposure } from '../api/auth.js';

export interface TokenChoice { token?: string; warnings: string[] }

const MAX_FILE_BYTES = 4096;
const PLACEHOLDER = /change-?me/i;

/** Throws with a message for the user when a token is unusable; warns when it is weak or exposed. */
export function resolveToken(o: { token?: string; tokenFile?: string }, env: NodeJS.ProcessEnv = process.env): TokenChoice {
  const warnings: string[] = [];
  let token: string | undefined;
  let from: string;
  if (o.token !== undefined && o.tokenFile !== undefined) throw new Error('give either --token or --token-file, not both');
  if (o.tokenFile !== undefined) {
    from = `--token-file ${o.tokenFile}`;
    let st: fs.Stats;
    try { st = fs.statSync(o.tokenFile); } catch (e) { throw new Error(`cannot read ${from}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    if (st.isDirectory()) throw new Error(`${from} is a folder, not a file`);
    let text: string;
    try { text = fs.readFileSync(o.tokenFile, 'utf8'); } catch (e) { throw new Error(`cannot read ${from}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    if (text.length > MAX_FILE_BYTES) throw new Error(`${from} holds ${text.length} characters; a token file holds one token (at most ${MAX_FILE_BYTES})`);
    token = text.trim();
    if (!token) throw new Error(`${from} is empty`);
    if (st.isFile() && st.mode & 0o077) warnings.push(`${o.tokenFile} can be read by other users; chmod 600 it`);
  } else if (o.token !== undefined) {
    from = '--token';
    token = o.token;
    warnings.push('--token is visible to every user of this host (ps, /proc); prefer --token-file <path> or DHRISHTI_TOKEN');
  } else {
    from = 'DHRISHTI_TOKEN';
    token = env.DHRISHTI_TOKEN || undefined;
  }
  if (token === undefined) return { warnings };
  if (!/^[\x21-\x7e]+$/.test(token)) throw new Error(`the token from ${from} must be printable ASCII without spaces (it travels in a header and in ?token=)`);
  // The examples' placeholder (deploy/kubernetes/daemonset.yaml) left in place is a token anyone can read.
  if (PLACEHOLDER.test(token)) throw new Error(`the token from ${from} is the example's placeholder; make a token of your own (e.g. openssl rand -hex 16)`);
  if (token.length < API_DEFAULTS.minTokenChars) {
    warnings.push(`the token from ${from} has ${token.length} characters; use at least ${API_DEFAULTS.minTokenChars} random ones (e.g. openssl rand -hex 16)`);
  }
  return { token, warnings };
}

/** The token of a command that listens (run, hub): its warnings said; an unusable token, or an address off loopback
 *  without one, ends the command (exit 2) before anything starts. `who` prefixes the messages. */
export function listeningToken(o: { token?: string; tokenFile?: string }, host: string, who: string): string | undefined {
  try {
    const t = resolveToken(o);
    for (const w of t.warnings) console.error(`${who}: warning: ${w}`);
    checkExposure(host, t.token);
    return t.token;
  } catch (e) {
    console.error(`${who}: ${(e as Error).message}`);
    process.exit(2);
  }
}

/** The token a client command (graph, check) sends to an agent: from --token-file, DHRISHTI_TOKEN or --token; an
 *  unreadable one ends the command (exit 2). Only its exposure is warned about: the agent judges its strength. */
export function clientToken(o: { token?: string; tokenFile?: string }, who: string): string | undefined {
  try {
    const t = resolveToken({ ...o, token: o.token || undefined }); // --token '' sends none, as before
    for (const w of t.warnings) if (!/characters; use at least/.test(w)) console.error(`${who}: warning: ${w}`);
    return t.token;
  } catch (e) {
    console.error(`${who}: ${(e as Error).message}`);
    process.exit(2);
  }
}
