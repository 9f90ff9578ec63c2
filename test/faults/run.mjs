// npm run test:faults — fault injection over every public operation (issue 17).
//
// The injector is an LD_PRELOAD shim (test/faults/shim.c), compiled here with gcc into this
// run's private directory, rather than strace -e inject:
// - determinism: it is armed and disarmed from JavaScript around the operation (an access() on a
//   marker path), so only the operation's own calls are counted, whatever Node did at start-up
//   or the test did in setup. strace counts from the tracee's start (when=N), and Node's start-up
//   varies (threads, lazy loading), so the N-th call would not be the same call twice.
// - speed: a wrapped call costs a function call, not two ptrace stops; one worker process runs
//   every case of an operation (about a millisecond each), instead of one traced process per case.
// - libuv's thread pool: the shim wraps the C library, which the pool's threads (and the addon's
//   async workers) call like the main thread; async operations are covered exactly as sync ones.
//   io_uring would bypass both injectors, so workers run with UV_USE_IO_URING=0 (Node 20's default).
// The calls of each operation come from tracing it once (worker.cjs), never from a list here;
// matrix.cjs only says which errnos each kind of call gets and samples long runs of one call.
//
// One line per operation (cases tried, clean), then the total; exit 1 on any unclean case.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { ops } = require('./ops.cjs');
const { cliOps } = require('./cli-ops.cjs');
const { compatOps } = require('./compat-ops.cjs');
const { selftestOps } = require('./selftest-ops.cjs');

if (process.platform !== 'linux') {
  console.log('test:faults: Linux only (LD_PRELOAD, /proc/self/fd); skipped');
  process.exit(0);
}
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'securetemp-faults-'));
const removeRoot = () => fs.rmSync(root, { recursive: true, force: true });
process.on('exit', removeRoot);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => { removeRoot(); process.kill(process.pid, sig); });

const shim = path.join(root, 'shim.so');
const cc = spawnSync('gcc', ['-O1', '-Wall', '-shared', '-fPIC', '-o', shim, path.join(here, 'shim.c'), '-ldl'], { encoding: 'utf8' });
if (cc.status !== 0) { console.error(`gcc failed:\n${cc.stderr}`); process.exit(1); }

const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
const all = [...ops, ...compatOps, ...cliOps, ...selftestOps].filter((o) => !filter || filter.test(o.name));
const HANG_MS = Number(process.env.FAULT_HANG_MS ?? 30_000);
const started = Date.now();

function runWorker(op, idx, start) {
  return new Promise((resolve) => {
    const dir = path.join(root, `w${idx}-${start}`);
    fs.mkdirSync(dir);
    const child = spawn(process.execPath, ['--expose-gc', path.join(here, 'worker.cjs'), op.name, String(start), dir], {
      env: { ...process.env, LD_PRELOAD: shim, FAULT_LOG: path.join(dir, 'log'), UV_USE_IO_URING: '0', TMPDIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events = [];
    let buf = '';
    let stderr = '';
    let timer;
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => { events.push({ t: 'hang' }); child.kill('SIGKILL'); }, HANG_MS); };
    arm();
    child.stdout.on('data', (d) => {
      arm();
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) { events.push(JSON.parse(buf.slice(0, nl))); buf = buf.slice(nl + 1); }
    });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code, signal) => { clearTimeout(timer); fs.rmSync(dir, { recursive: true, force: true }); resolve({ events, code, signal, stderr }); });
  });
}

async function runOp(op, idx) {
  const res = { name: op.name, total: 0, clean: 0, bad: [], calls: 0, neverFail: 0 };
  let start = 0;
  for (;;) {
    const w = await runWorker(op, idx, start);
    const trace = w.events.find((e) => e.t === 'trace');
    if (!trace) { res.bad.push(`worker died before tracing: ${w.signal ?? w.code} ${w.stderr.slice(-2000)}`); return res; }
    if (start === 0) {
      res.total = trace.n;
      res.calls = trace.calls.length;
      res.trace = trace.calls;
      res.neverFail = trace.neverFail;
      for (const u of trace.unclassified) res.bad.push(`call '${u}' has no errno class (test/faults/matrix.cjs)`);
      for (const p of trace.problems) res.bad.push(`without a fault: ${p}`);
      if (trace.calls.length === 0 && !op.noCalls) res.bad.push('no call traced: the shim does not see this operation');
      if (trace.calls.length > 0 && op.noCalls) res.bad.push(`expected no system call, traced ${trace.calls.join(' ')}`);
    }
    let current = null;
    for (const e of w.events) {
      if (e.t === 'begin') current = e.i;
      if (e.t === 'case') {
        current = null;
        if (e.problems.length === 0) res.clean++;
        else res.bad.push(`${e.c.name}#${e.c.k} ${e.c.errno}: ${e.problems.join('; ')}`);
      }
    }
    if (w.events.some((e) => e.t === 'done')) return res;
    if (current === null) { res.bad.push(`worker died between cases: ${w.signal ?? w.code} ${w.stderr.slice(-2000)}`); return res; }
    const hang = w.events.some((e) => e.t === 'hang');
    res.bad.push(`case ${current}: ${hang ? `hung (no progress in ${HANG_MS / 1000} s)` : `crashed (${w.signal ?? `exit ${w.code}`})`} ${w.stderr.slice(-1500)}`);
    start = current + 1;
  }
}

const results = new Array(all.length);
let next = 0;
const JOBS = Math.max(1, Math.min(2, os.availableParallelism?.() ?? 2));
await Promise.all(Array.from({ length: JOBS }, async () => {
  while (next < all.length) {
    const i = next++;
    results[i] = await runOp(all[i], i);
    const r = results[i];
    if (process.env.FAULT_VERBOSE) console.log(`    calls: ${r.trace.join(' ')}`);
    console.log(`${r.name.padEnd(40)} ${String(r.total).padStart(5)} cases, ${String(r.clean).padStart(5)} clean  (${r.calls} calls traced${r.neverFail ? `, ${r.neverFail} that cannot fail` : ''})`);
    for (const b of r.bad.slice(0, Number(process.env.FAULT_SHOW ?? 8))) console.log(`    UNCLEAN ${b.replace(/\s+/g, ' ').slice(0, 600)}`);
    if (r.bad.length > Number(process.env.FAULT_SHOW ?? 8)) console.log(`    … ${r.bad.length - Number(process.env.FAULT_SHOW ?? 8)} more`);
  }
}));
const total = results.reduce((a, r) => a + r.total, 0);
const clean = results.reduce((a, r) => a + r.clean, 0);
const unclean = results.reduce((a, r) => a + r.bad.length, 0);
console.log(`TOTAL ${all.length} operations, ${total} cases, ${clean} clean, ${unclean} unclean (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exitCode = unclean === 0 && total > 0 ? 0 : 1;
