// Preloaded into a measured process by the benchmark (NODE_OPTIONS=--import ...):
// starts V8's CPU profiler a while after start-up (once the probes are loaded:
// the profiler's signals would interrupt the BPF verifier), samples finely, and
// writes the profile when the process exits. Env: DHRISHTI_BENCH_CPU_PROFILE_DIR,
// DHRISHTI_BENCH_CPU_PROFILE_DELAY_MS (default 5000), DHRISHTI_BENCH_CPU_PROFILE_US (default 500).
import fs from 'node:fs';
import path from 'node:path';
import inspector from 'node:inspector';

const dir = process.env.DHRISHTI_BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  let started = false;
  setTimeout(() => {
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: Number(process.env.DHRISHTI_BENCH_CPU_PROFILE_US ?? 500) });
    session.post('Profiler.start');
    started = true;
  }, Number(process.env.DHRISHTI_BENCH_CPU_PROFILE_DELAY_MS ?? 5000)).unref();
  process.on('exit', () => {
    if (!started) return;
    // The in-process session answers synchronously, so this completes before exit.
    session.post('Profiler.stop', (err, res) => {
      if (err || !res) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${path.basename(process.argv[1] ?? 'node')}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
