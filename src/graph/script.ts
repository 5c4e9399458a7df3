// The program an interpreter runs, from its arguments: `node /srv/api.js` is api.js, `python3 -m http.server` is
// http.server, `java -jar billing.jar` is billing.jar. Without it every Node.js process is one node "node" and a
// call from one script to another is drawn as a self-loop. The arguments come from any process on the host: they
// are read as data, and what names a node is cut short and stripped of control and format characters.

/** Longest name a script gives a node. */
export const SCRIPT_NAME_MAX = 64;
/** Arguments looked at (interpreter flags come first; a script after this many is not looked for). */
const ARGS_MAX = 32;

/** Script basenames too common to name a program alone: their folder goes with them (`api/index.js`). */
const GENERIC = new Set(['index', 'main', '__main__', 'server', 'app', 'start', 'run', 'cli', 'www', 'manage', 'wsgi', 'asgi', 'bootstrap', 'entrypoint']);

type Family = 'node' | 'python' | 'ruby' | 'perl' | 'php' | 'java' | 'deno' | 'bun';

/** The interpreter a command name is, or null: node, nodejs, python, python3, python3.11, ruby3.1, php8.2, ... */
export function interpreterOf(comm: string): Family | null {
  if (/^node(js)?$/.test(comm)) return 'node';
  if (/^python[0-9.]*$/.test(comm)) return 'python';
  if (/^ruby[0-9.]*$/.test(comm)) return 'ruby';
  if (/^perl[0-9.]*$/.test(comm)) return 'perl';
  if (/^php[0-9.]*(-cli)?$/.test(comm)) return 'php';
  if (comm === 'java' || comm === 'deno' || comm === 'bun') return comm;
  return null;
}

/**
 * Text from a process made fit for a node name: control and format characters (bidi overrides, zero widths)
 * removed, runs of white space made one space, `|` (the separator of edge ids) made `_`, at most `max` characters.
 */
export function cleanName(s: string, max = SCRIPT_NAME_MAX): string {
  const out = s.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '').replace(/\s+/g, ' ').replace(/\|/g, '_').trim();
  return [...out].slice(0, max).join('').trim();
}

/** `/srv/api.js` -> api.js; `/srv/api/index.js` -> api/index.js; `./bin/www` -> bin/www. */
function fileName(p: string): string | null {
  const parts = p.split('/').filter((x) => x && x !== '.');
  const base = parts.at(-1);
  if (!base || base === '..') return null;
  const stem = base.replace(/\.[^.]*$/, '').toLowerCase();
  const dir = parts.at(-2);
  return GENERIC.has(stem) && dir && dir !== '..' ? `${dir}/${base}` : base;
}

interface Grammar {
  /** Options that take the next argument as their value (or an attached one, for single letters). */
  value: Set<string>;
  /** Options whose value is inline code (or that read a program from a terminal): no script to name. */
  inline: Set<string>;
  /** Options whose value is the program (python -m, php -f, java -jar, ruby -S). */
  program: Map<string, 'file' | 'module'>;
  /** Single letters whose value, if any, is attached (`perl -l`, `-Mstrict`): they end a bundle and take no argument. */
  attached?: Set<string>;
  /** Single-letter flags may be bundled (`python3 -uc`, `ruby -we`); the first letter taking a value ends the bundle. */
  bundles: boolean;
  /** Subcommands that run a file (`deno run x.ts`, `bun run x.ts`); a first argument naming none of them is a script only when it looks like a file. */
  subcommands?: Set<string>;
}

const set = (...xs: string[]) => new Set(xs);
const GRAMMARS: Record<Family, Grammar> = {
  node: {
    value: set('-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--title', '--env-file', '--inspect-port', '--input-type', '--test-reporter', '--test-reporter-destination', '--redirect-warnings', '--diagnostic-dir', '--icu-data-dir', '--openssl-config', '--max-http-header-size', '--stack-size', '--watch-path'),
    inline: set('-e', '--eval', '-p', '--print', '-i', '--interactive', '-', '-c', '--check', '-v', '--version', '-h', '--help', '--run'),
    program: new Map(), bundles: false,
  },
  python: {
    value: set('-W', '-X', '--check-hash-based-pycs', '-Q'),
    inline: set('-c', '-', '-h', '--help', '-V', '--version'),
    program: new Map([['-m', 'module']]), bundles: true,
  },
  ruby: {
    value: set('-I', '-r', '-C', '-E', '--encoding'),
    attached: set('-F', '-0', '-K', '-T', '-x', '-i'),
    inline: set('-e', '-', '-h', '--help', '-v', '--version'),
    program: new Map([['-S', 'file']]), bundles: true,
  },
  perl: {
    value: set('-I'),
    attached: set('-M', '-m', '-C', '-0', '-l', '-x', '-d', '-D', '-i'),
    inline: set('-e', '-E', '-', '-h', '-v', '-V'),
    program: new Map(), bundles: true,
  },
  php: {
    value: set('-d', '-c', '-t', '-z', '-B', '-E', '-R', '-F', '--php-ini', '--define', '--docroot', '--zend-extension'),
    inline: set('-r', '--run', '-a', '--interactive', '-S', '--server', '-h', '--help', '-v', '--version', '-i', '--info', '-m', '--modules'),
    program: new Map([['-f', 'file'], ['--file', 'file']]), bundles: false,
  },
  java: {
    value: set('-cp', '-classpath', '--class-path', '-p', '--module-path', '--upgrade-module-path', '--add-modules', '--add-opens', '--add-exports', '--add-reads', '--patch-module', '--limit-modules', '--enable-native-access', '--source', '-splash'),
    inline: set('-version', '--version', '-h', '-help', '--help', '-?', '-showversion', '--show-version'),
    program: new Map([['-jar', 'file'], ['-m', 'module'], ['--module', 'module']]), bundles: false,
  },
  deno: {
    value: set('-c', '--config', '--import-map', '--lock', '--cert', '--env-file', '--location', '--seed', '--v8-flags', '-L', '--log-level', '--port', '--host'),
    inline: set('eval', 'repl', '-h', '--help', '-V', '--version'),
    program: new Map(), bundles: false, subcommands: set('run', 'serve'),
  },
  bun: {
    value: set('-r', '--preload', '--cwd', '-c', '--config', '--env-file', '--tsconfig-override', '--port', '--main-fields', '--extension-order', '--conditions'),
    inline: set('-e', '--eval', '-p', '--print', 'repl', '-h', '--help', '-v', '--version'),
    program: new Map(), bundles: false, subcommands: set('run'),
  },
};

const MODULE = /^[A-Za-z_][\w.]*(\/[\w.$]+)?$/;
const LOOKS_LIKE_FILE = /[/.]/;

/**
 * The name of the program an interpreter runs, or null when it runs inline code (`node -e`, `python3 -c`), reads
 * a terminal or standard input, or nothing can be told. `comm` is the command name (what ps shows); argv the
 * arguments as the process was started (argv[0] included).
 */
export function scriptName(comm: string, argv: readonly string[]): string | null {
  const family = interpreterOf(comm);
  if (!family || argv.length < 2) return null;
  const g = GRAMMARS[family];
  const args = argv.slice(1, ARGS_MAX + 1);
  let sub = !g.subcommands;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { const next = args[i + 1]; return next === undefined ? null : named(next, 'file'); }
    if (!sub && g.subcommands) {
      if (g.subcommands.has(a)) { sub = true; continue; }
      if (g.inline.has(a)) return null;
      if (!a.startsWith('-')) return LOOKS_LIKE_FILE.test(a) ? named(a, 'file') : null; // `bun x.ts`; `deno task dev` runs no file of its own
    }
    if (g.inline.has(a)) return null;
    const prog = g.program.get(a);
    if (prog) return args[i + 1] === undefined ? null : named(args[i + 1], prog);
    if (g.value.has(a)) { i++; continue; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0 && g.inline.has(a.slice(0, eq))) return null; // --eval=code
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      if (g.bundles) {
        // -uc code, -um module, -Wignore, -mhttp.server: the first letter that takes something ends the bundle.
        for (let k = 1; k < a.length; k++) {
          const opt = `-${a[k]}`, rest = a.slice(k + 1);
          if (g.inline.has(opt)) return null;
          const p = g.program.get(opt);
          if (p) return rest ? named(rest, p) : args[i + 1] === undefined ? null : named(args[i + 1], p);
          if (g.value.has(opt)) { if (!rest) i++; break; }
          if (g.attached?.has(opt)) break;
        }
      }
      continue;
    }
    if (family === 'deno' && !sub) return null;
    if (family === 'java') return MODULE.test(a) ? cleanName(a) || null : null; // the main class
    return g.subcommands && !LOOKS_LIKE_FILE.test(a) ? null : named(a, 'file'); // `bun run dev` runs a package.json script
  }
  return null;
}

function named(arg: string, as: 'file' | 'module'): string | null {
  if (as === 'module') {
    const m = arg.split('/')[0]; // java -m mod/pkg.Main
    return MODULE.test(m) ? cleanName(m) || null : null;
  }
  const f = fileName(arg);
  return f ? cleanName(f) || null : null;
}
