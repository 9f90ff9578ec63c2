'use strict';
// One operation's cases, run in this process under the shim (LD_PRELOAD, set by run.mjs):
// trace the operation once, build its cases, run them from argv[3] on. One JSON line per event
// on stdout ({t:'trace'}, {t:'begin', i}, {t:'case', i, ...}, {t:'done'}); run.mjs restarts a
// worker after a case that crashed or hung.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ops } = require('./ops.cjs');
const { cliOps } = require('./cli-ops.cjs');
const { compatOps } = require('./compat-ops.cjs');
const { selftestOps } = require('./selftest-ops.cjs');
const { buildCases, PATHFUL } = require('./matrix.cjs');
const { internals } = require('../../dist/_internals.js');

const [opName, startArg, root] = process.argv.slice(2);
const op = [...ops, ...compatOps, ...cliOps, ...selftestOps].find((o) => o.name === opName);
const LOG = process.env.FAULT_LOG;
const out = (o) => fs.writeSync(1, `${JSON.stringify(o)}\n`);

const ctl = (cmd) => { try { fs.accessSync(`/@@fault@@/${cmd}`); return true; } catch { return false; } };
// The directory-handle table's idle cache (at most 8, closed on EMFILE) is not a leak: it is
// emptied before each count, so what is left open is what the operation really holds.
const fds = () => {
  internals.releaseIdleDirHandles();
  return fs.readdirSync('/proc/self/fd').sort((a, b) => a - b).join(',');
};
// Entries under dir, random name parts made '*', so a success run's names match a later run's.
function snap(dir, rel = '') {
  const res = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    res.push(`${r.replace(/[A-Za-z0-9]{10,}/g, '*').replace(/\d+/g, '#')}${e.isDirectory() ? '/' : e.isSymbolicLink() ? '@' : ''}`);
    if (e.isDirectory()) { try { res.push(...snap(dir, r)); } catch { /* unreadable */ } }
  }
  return res;
}
let uncaught = [];
process.on('uncaughtException', (e) => uncaught.push(e));
process.on('unhandledRejection', (e) => uncaught.push(e));
// EINTR and a short transfer are not failures: the operation must complete as without them.
const RETRY = new Set(['EINTR', 'SHORT']);
const tick = () => new Promise((r) => setImmediate(r));

async function runCase(id, cmd) {
  const dir = path.join(root, `c${id}`);
  fs.mkdirSync(dir);
  const problems = [];
  const fdBefore = fds();
  const s = await op.setup(dir);
  const before = snap(dir);
  internals.randomInvalidate();  // every case draws its first name from getrandom, on any thread
  global.gc();
  await tick();
  uncaught = [];
  let r;
  let fired;
  if (op.cli) {
    fs.writeFileSync(LOG, '');
    try { r = { ok: true, value: op.run(s, cmd) }; } catch (e) { r = { ok: false, error: e }; }
    fired = fs.readFileSync(LOG, 'utf8').includes('FIRED ');
  } else {
    if (cmd === 'trace') fs.writeFileSync(LOG, '');
    ctl(cmd);
    try { r = { ok: true, value: await op.run(s) }; } catch (e) { r = { ok: false, error: e }; }
    fired = ctl('off');
  }
  await tick();
  const after = snap(dir);
  try { problems.push(...op.verify(s, r)); } catch (e) { problems.push(`verify threw ${e.code ?? ''} ${e.message}`); }
  try { await op.teardown(s, r); } catch (e) { problems.push(`teardown (close) threw ${e.code ?? ''} ${e.message}`); }
  await tick();
  await new Promise((res) => setTimeout(res, 1));
  const fdAfter = fds();
  if (fdAfter !== fdBefore) problems.push(`descriptors before ${fdBefore}, after ${fdAfter}`);
  for (const e of uncaught) problems.push(`uncaught ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  fs.rmSync(dir, { recursive: true, force: true });
  return { r, fired, before, after, problems };
}

function judge(c, res, success) {
  const p = [...res.problems];
  const { r } = res;
  if (!res.fired) p.push('the chosen call was not reached (the operation is not deterministic?)');
  if (op.cli) {
    const v = r.value;
    if (v.signal) p.push(`killed by ${v.signal}`);
    if (RETRY.has(c.errno) && v.status !== 0) p.push(`${c.errno} not retried: exit ${v.status}: ${v.stderr.trim()}`);
    if (v.status !== 0 && !(v.status === 1 && v.stderr.length > 0)) p.push(`exit ${v.status}, stderr '${v.stderr.trim()}'`);
  } else if (r.ok) {
    if (c.errno !== 'EINTR' && res.fired && (c.name === 'fsync' || c.name === 'fdatasync')) p.push(`${c.errno} from ${c.name} swallowed: success reported`);
  } else {
    const e = r.error;
    if (RETRY.has(c.errno)) p.push(`${c.errno} not retried: ${e && e.code} ${e && e.message}`);
    else if (!(e instanceof Error) || e.code !== c.errno || typeof e.syscall !== 'string' || e.errno !== -os.constants.errno[c.errno]) {
      p.push(`not the fs-style ${c.errno}: ${e && e.constructor && e.constructor.name} code=${e && e.code} errno=${e && e.errno} syscall=${e && e.syscall} ${e && e.message}`);
    } else if (PATHFUL.has(c.name) && typeof e.path !== 'string') p.push(`no path on ${e.code} from ${e.syscall}`);
  }
  const allowed = new Set([...res.before, ...success, ...(op.allowed ?? [])]);
  const extra = res.after.filter((x) => !allowed.has(x));
  if (extra.length) p.push(`left on disk: ${extra.join(' ')}`);
  return p;
}

(async () => {
  // warm-up (caches: the directory check, O_TMPFILE support, block size), then the trace
  await runCase('w', op.cli ? 'off' : 'off');
  const tr = await runCase('t', 'trace');
  const calls = fs.readFileSync(LOG, 'utf8').split('\n').filter((l) => l && !l.startsWith('FIRED'));
  const { cases, unclassified, neverFail } = buildCases(calls);
  const traceProblems = [...tr.problems];
  if (!tr.r.ok) traceProblems.push(`failed without a fault: ${tr.r.error && tr.r.error.message}`);
  if (op.cli && tr.r.value.status !== 0) traceProblems.push(`failed without a fault: ${tr.r.value.stderr}`);
  out({ t: 'trace', calls, n: cases.length, unclassified, neverFail, problems: traceProblems });
  for (let i = Number(startArg); i < cases.length; i++) {
    const c = cases[i];
    out({ t: 'begin', i });
    const res = await runCase(i, `arm/${c.name}/${c.k}/${c.errno === 'SHORT' ? 0 : os.constants.errno[c.errno]}`);
    out({ t: 'case', i, c, problems: judge(c, res, tr.after) });
  }
  out({ t: 'done' });
  process.exit(0);
})();
