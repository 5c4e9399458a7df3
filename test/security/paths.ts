// Spellings of one path that a router, a proxy or a browser might read differently:
// encoded, double-encoded, mixed case, doubled slashes, dot segments, trailing slashes.

/** "a" -> "%61". */
const pct = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
const PCT = (c: string) => pct(c).toUpperCase();

/** Path variants of `path` (which starts with "/"), each with the trick it plays. */
export function pathVariants(path: string): { trick: string; path: string }[] {
  const segs = path.split('/').slice(1);
  const join = (s: string[]) => `/${s.join('/')}`;
  const at = (i: number, f: (s: string) => string) => join(segs.map((s, j) => (j === i ? f(s) : s)));
  const out: { trick: string; path: string }[] = [{ trick: 'as registered', path }];
  const add = (trick: string, p: string) => { if (!out.some((o) => o.path === p)) out.push({ trick, path: p }); };
  segs.forEach((s, i) => {
    if (!s) return;
    add(`first letter of segment ${i} encoded`, at(i, (x) => pct(x[0]) + x.slice(1)));
    add(`first letter of segment ${i} encoded, upper-case hex`, at(i, (x) => PCT(x[0]) + x.slice(1)));
    add(`first letter of segment ${i} double-encoded`, at(i, (x) => `%25${pct(x[0]).slice(1)}${x.slice(1)}`));
    add(`segment ${i} upper-case`, at(i, (x) => x.toUpperCase()));
    add(`segment ${i} capitalised`, at(i, (x) => x[0].toUpperCase() + x.slice(1)));
    add(`// before segment ${i}`, at(i, (x) => `/${x}`));
    add(`/./ before segment ${i}`, at(i, (x) => `./${x}`));
    add(`x/../ before segment ${i}`, at(i, (x) => `x/../${x}`));
    add(`encoded ./ before segment ${i}`, at(i, (x) => `%2e/${x}`));
    add(`encoded x/../ before segment ${i}`, at(i, (x) => `x/%2e%2e/${x}`));
  });
  add('every character encoded', join(segs.map((s) => [...s].map((c) => (/[A-Za-z0-9.]/.test(c) ? pct(c) : c)).join(''))));
  add('every character double-encoded', join(segs.map((s) => [...s].map((c) => (/[A-Za-z0-9.]/.test(c) ? `%25${pct(c).slice(1)}` : c)).join(''))));
  add('all upper-case', path.toUpperCase());
  add('slashes encoded', `/${segs.join('%2f')}`);
  add('slashes encoded, upper-case hex', `/${segs.join('%2F')}`);
  add('backslashes', `/${segs.join('\\')}`);
  add('leading //', `/${path}`);
  add('leading ///', `//${path}`);
  add('trailing slash', `${path}/`);
  add('trailing //', `${path}//`);
  add('trailing /.', `${path}/.`);
  add('trailing /x/..', `${path}/x/..`);
  add('trailing ;', `${path};`);
  add('trailing ;x=1', `${path};x=1`);
  add('trailing %20', `${path}%20`);
  add('trailing %00', `${path}%00`);
  add('trailing %2f', `${path}%2f`);
  add('trailing ?', `${path}?`);
  add('trailing #', `${path}#x`);
  add('trailing .json', `${path}.json`);
  return out;
}
