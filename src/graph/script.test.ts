import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanName, interpreterOf, scriptName, SCRIPT_NAME_MAX } from './script.js';

const name = (comm: string, cmd: string[]) => scriptName(comm, cmd);

test('an interpreter running a file is named by the file', () => {
  assert.equal(name('node', ['node', '/srv/api.js']), 'api.js');
  assert.equal(name('node', ['/usr/bin/node', 'backend.js', '--port', '19002']), 'backend.js');
  assert.equal(name('nodejs', ['nodejs', 'worker.mjs']), 'worker.mjs');
  assert.equal(name('python3', ['python3', '/opt/shop/payments.py']), 'payments.py');
  assert.equal(name('python3.11', ['/usr/bin/python3.11', 'etl.py']), 'etl.py');
  assert.equal(name('python', ['python', 'etl.py']), 'etl.py');
  assert.equal(name('ruby', ['ruby', 'app.rb']), 'app.rb');
  assert.equal(name('perl', ['perl', '/usr/local/bin/mon.pl']), 'mon.pl');
  assert.equal(name('php', ['php', 'artisan', 'queue:work']), 'artisan');
  assert.equal(name('php8.2', ['php8.2', '-f', 'cron.php']), 'cron.php');
  assert.equal(name('java', ['java', '-Xmx1g', '-Dspring.profiles.active=prod', '-jar', '/opt/billing/billing-2.1.jar']), 'billing-2.1.jar');
  assert.equal(name('java', ['java', '-cp', 'lib/*:app.jar', 'com.example.Main', 'x']), 'com.example.Main');
  assert.equal(name('java', ['java', '--module-path', 'mods', '-m', 'shop.api/shop.api.Main']), 'shop.api');
  assert.equal(name('deno', ['deno', 'run', '--allow-net', '-c', 'deno.json', 'server.ts']), 'server.ts');
  assert.equal(name('deno', ['deno', 'serve', 'main.ts']), 'main.ts');
  assert.equal(name('bun', ['bun', 'run', 'src/api.ts']), 'api.ts');
  assert.equal(name('bun', ['bun', 'api.ts']), 'api.ts');
});

test('interpreter flags are skipped; python -m names the module', () => {
  assert.equal(name('node', ['node', '--inspect', 'x.js']), 'x.js');
  assert.equal(name('node', ['node', '--inspect=0.0.0.0:9229', '--max-old-space-size=4096', 'x.js']), 'x.js');
  assert.equal(name('node', ['node', '-r', 'dotenv/config', '--import', 'tsx', 'src/api.ts']), 'api.ts');
  assert.equal(name('node', ['node', '--', 'x.js']), 'x.js');
  assert.equal(name('python3', ['python3', '-u', 'app.py']), 'app.py');
  assert.equal(name('python3', ['python3', '-uB', '-W', 'ignore', '-X', 'dev', 'svc.py']), 'svc.py');
  assert.equal(name('python3', ['python3', '-Wignore', 'svc.py']), 'svc.py');
  assert.equal(name('python3', ['python3', '-m', 'http.server', '8000']), 'http.server');
  assert.equal(name('python3', ['python3', '-um', 'http.server']), 'http.server');
  assert.equal(name('python3', ['python3', '-mhttp.server']), 'http.server');
  assert.equal(name('python3', ['python3', '-m', 'uvicorn', 'app:api']), 'uvicorn');
  assert.equal(name('ruby', ['ruby', '-w', '-I', 'lib', 'bin/worker']), 'worker');
  assert.equal(name('perl', ['perl', '-Mstrict', '-l', 'mon.pl']), 'mon.pl');
});

test('inline code, standard input, a REPL, a package script: no file, the command name stays', () => {
  assert.equal(name('node', ['node', '-e', 'require("http").createServer().listen(1)', '--', '1']), null);
  assert.equal(name('node', ['node', '--eval=1+1']), null);
  assert.equal(name('node', ['node', '-p', '1']), null);
  assert.equal(name('node', ['node']), null);
  assert.equal(name('node', ['node', '-']), null);
  assert.equal(name('node', ['node', '--inspect']), null);
  assert.equal(name('python3', ['python3', '-c', 'print(1)', 'x.py']), null);
  assert.equal(name('python3', ['python3', '-uc', 'print(1)']), null);
  assert.equal(name('python3', ['python3']), null);
  assert.equal(name('python3', ['python3', '-m']), null);
  assert.equal(name('ruby', ['ruby', '-e', 'puts 1']), null);
  assert.equal(name('perl', ['perl', '-e', 'print 1']), null);
  assert.equal(name('php', ['php', '-r', 'echo 1;']), null);
  assert.equal(name('php', ['php', '-S', '127.0.0.1:8000']), null);
  assert.equal(name('bun', ['bun', 'run', 'dev']), null);
  assert.equal(name('deno', ['deno', 'task', 'start']), null);
  assert.equal(name('deno', ['deno', 'repl']), null);
  assert.equal(name('java', ['java', '-version']), null);
});

test('only interpreters: any other program is not named by its arguments', () => {
  assert.equal(name('nginx', ['nginx', '-c', '/etc/nginx/api.conf']), null);
  assert.equal(name('curl', ['curl', 'http://x/api.js']), null);
  assert.equal(name('php-fpm8.2', ['php-fpm: pool www']), null);
  assert.equal(interpreterOf('node'), 'node');
  assert.equal(interpreterOf('python3.12'), 'python');
  assert.equal(interpreterOf('nodemon'), null);
});

test('common file names keep their folder', () => {
  assert.equal(name('node', ['node', '/srv/api/index.js']), 'api/index.js');
  assert.equal(name('node', ['node', './bin/www']), 'bin/www');
  assert.equal(name('python3', ['python3', '/srv/shop/app.py']), 'shop/app.py');
  assert.equal(name('python3', ['python3', 'manage.py', 'runserver']), 'manage.py', 'no folder given: the name alone');
  assert.equal(name('node', ['node', 'dist/src/cli/main.js', 'run']), 'cli/main.js');
});

test('arguments are data from any process: control and format characters go, names are short, no edge-id separator', () => {
  assert.equal(name('node', ['node', '/srv/ap\x1b[31mi\u202e.js']), 'ap[31mi.js');
  assert.equal(name('node', ['node', 'a\nb\tc.js']), 'abc.js');
  assert.equal(name('node', ['node', 'x|y.js']), 'x_y.js');
  const long = name('node', ['node', `/srv/${'a'.repeat(5000)}.js`])!;
  assert.equal([...long].length, SCRIPT_NAME_MAX);
  assert.equal(name('node', ['node', '/srv/\u0007']), null, 'nothing left');
  assert.equal(name('python3', ['python3', '-m', '../../etc/passwd']), null, 'not a module name');
  assert.equal(cleanName('  a \u200b b  '), 'a b');
  assert.equal(cleanName('x'.repeat(300), 10), 'x'.repeat(10));
});
