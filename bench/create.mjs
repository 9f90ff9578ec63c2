#!/usr/bin/env node
// Creation benchmark: securetemp against the same syscalls done directly, raw
// node:fs and npm `tmp`, on the real disk (/tmp) and on tmpfs (/dev/shm).
//
//   node bench/create.mjs            default run (well under 2 minutes)
//   node bench/create.mjs --quick    a smoke test (a few seconds)
//   node bench/create.mjs --json     machine-readable results on stdout instead of tables
//   --rounds=N --ops=N --async-ops=N override the iteration counts
//
// Method: cases run round-robin, after warm-up rounds. Every round makes a few passes
// over all the cases, running a slice of each, every pass starting from a different
// case, so the cases of one round are measured side by side. A case's figure is the
// median of its per-round figures; a ratio is the median over rounds of the ratio within
// the round. Compare ratios only within one run.
//
// Why: on ext4 without a journal (this machine's /tmp), inode allocation skips every inode
// freed in the last 60 s (360 s while its inode-table block is still dirty; see
// recently_deleted() in fs/ext4/ialloc.c), so each create scans past all recent deletions
// and its cost grows with what ran in the last minutes, this benchmark included. Absolute
// figures on /tmp differ between runs a few minutes apart; the slower the disk state, the
// closer every ratio there gets to 1, since the scan dominates every case alike.
//
// All work happens in a private 0o700 directory under each base (securetemp refuses a
// world-writable directory without the sticky bit), removed at the end, also on Ctrl-C.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as os from 'node:os';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import * as dc from 'node:diagnostics_channel';
import { fsType, median, workDirs } from './_common.mjs';

// --- options --------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const numOpt = (name, dflt) => {
  const a = argv.find((x) => x.startsWith(`${name}=`));
  if (a === undefined) return dflt;
  const n = Number(a.slice(name.length + 1));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
for (const a of argv) {
  if (!/^--(quick|json|rounds=\d+|ops=\d+|async-ops=\d+)$/.test(a)) {
    console.error(`unknown argument: ${a}\nusage: node bench/create.mjs [--quick] [--json] [--rounds=N] [--ops=N] [--async-ops=N]`);
    process.exit(2);
  }
}
const QUICK = flag('--quick');
const JSON_OUT = flag('--json');
const ROUNDS = numOpt('--rounds', QUICK ? 3 : 20);
const OPS = numOpt('--ops', QUICK ? 200 : 600); // per sync case per round
const ASYNC_OPS = numOpt('--async-ops', QUICK ? 500 : 1200); // per async case per round
const WARMUP = QUICK ? 1 : 2; // rounds run first and not recorded
const SLICES = QUICK ? 2 : 4; // passes over all cases per round
if (OPS % SLICES || ASYNC_OPS % SLICES) throw new Error(`--ops and --async-ops must be multiples of ${SLICES}`);
const CONCURRENCY = 64;
// A disk in a slow state (see above) can make a round take seconds: past this many seconds
// per directory, no new round is started once MIN_ROUNDS are done.
const BUDGET_S = QUICK ? 5 : 40;
const MIN_ROUNDS = Math.min(ROUNDS, QUICK ? 2 : 6);

const require = createRequire(import.meta.url);
const st = require('../dist/index.js');
const tmp = require('tmp');

// --- the raw building blocks ----------------------------------------------

// Node's fs.constants has no O_TMPFILE. Linux defines it as __O_TMPFILE | O_DIRECTORY,
// __O_TMPFILE being 0o20000000 on x86, arm and most others (O_DIRECTORY varies by arch,
// so take it from Node).
const O_TMPFILE = fs.constants.O_TMPFILE ?? (0o20000000 | fs.constants.O_DIRECTORY);
const TMPFILE_FLAGS = O_TMPFILE | fs.constants.O_RDWR;

// A random name from node:crypto. randomUUID() draws from a cached CSPRNG buffer and is the
// cheapest crypto-random name Node offers (~0.4 µs; randomBytes(8).toString('hex') costs ~4 µs
// here), so raw fs is the strongest hand-written baseline.
const randomName = () => 'raw-' + randomUUID();

const openCb = promisify(fs.open);
const closeCb = promisify(fs.close);

const hr = () => process.hrtime.bigint();

// --- cases ----------------------------------------------------------------

let messages = 0;
const onMessage = () => {
  messages++;
};

/** Sync cases: one call = one create-and-dispose (before/after: around each batch, not timed). */
const SYNC = {
  tfOurs: {
    label: 'TemporaryFileSync({dir}) + closeSync',
    op: (dir) => st.TemporaryFileSync({ dir }).closeSync(),
  },
  tfSub: {
    // The same with a subscriber on securetemp:create and securetemp:remove (only during this
    // case's batches): what observability costs when someone listens. Without one (tfOurs) a
    // publish is a hasSubscribers read and no message is built.
    label: 'TemporaryFileSync + closeSync, diagnostics subscriber',
    op: (dir) => st.TemporaryFileSync({ dir }).closeSync(),
    before: () => {
      dc.subscribe('securetemp:create', onMessage);
      dc.subscribe('securetemp:remove', onMessage);
    },
    after: () => {
      dc.unsubscribe('securetemp:create', onMessage);
      dc.unsubscribe('securetemp:remove', onMessage);
    },
  },
  tfFloor: {
    label: 'floor: openSync(dir, O_TMPFILE|O_RDWR) + closeSync',
    op: (dir) => fs.closeSync(fs.openSync(dir, TMPFILE_FLAGS, 0o600)),
  },
  tfRaw: {
    label: "raw fs: openSync(rand,'wx') + unlinkSync + closeSync",
    op: (dir) => {
      const p = path.join(dir, randomName());
      const fd = fs.openSync(p, 'wx', 0o600);
      fs.unlinkSync(p);
      fs.closeSync(fd);
    },
  },
  tmpFile: {
    label: 'tmp.fileSync({tmpdir}) + removeCallback()',
    op: (dir) => tmp.fileSync({ tmpdir: dir }).removeCallback(),
  },
  msOurs: {
    label: 'mkstempSync({dir}) + closeSync + unlinkSync',
    op: (dir) => {
      const { fd, path: p } = st.mkstempSync({ dir });
      fs.closeSync(fd);
      fs.unlinkSync(p);
    },
  },
  msRaw: {
    label: "raw fs: openSync(rand,'wx') + closeSync + unlinkSync",
    op: (dir) => {
      const p = path.join(dir, randomName());
      fs.closeSync(fs.openSync(p, 'wx', 0o600));
      fs.unlinkSync(p);
    },
  },
  ntOurs: {
    label: 'NamedTemporaryFileSync({dir}) + closeSync (delete)',
    op: (dir) => st.NamedTemporaryFileSync({ dir }).closeSync(),
  },
  mdOurs: {
    label: 'mkdtempSync({dir}) + rmdirSync',
    op: (dir) => fs.rmdirSync(st.mkdtempSync({ dir })),
  },
  mdNode: {
    label: "fs.mkdtempSync(join(dir,'x')) + rmdirSync",
    op: (dir) => fs.rmdirSync(fs.mkdtempSync(path.join(dir, 'x'))),
  },
  tmpDir: {
    label: 'tmp.dirSync({tmpdir}) + removeCallback()',
    op: (dir) => tmp.dirSync({ tmpdir: dir }).removeCallback(),
  },
};

/** Async cases: one call = one create-and-dispose, CONCURRENCY of them in flight. */
const ASYNC = {
  aTfOurs: {
    label: 'await TemporaryFile({dir}) + close()',
    op: async (dir) => {
      const f = await st.TemporaryFile({ dir });
      await f.close();
    },
  },
  aMsOurs: {
    label: 'await mkstemp({dir}) + fs.close + fsp.unlink',
    op: async (dir) => {
      const { fd, path: p } = await st.mkstemp({ dir });
      await closeCb(fd);
      await fsp.unlink(p);
    },
  },
  aFsp: {
    label: "fsp.open(rand,'wx') + fsp.unlink + fh.close()",
    op: async (dir) => {
      const p = path.join(dir, randomName());
      const fh = await fsp.open(p, 'wx', 0o600);
      await fsp.unlink(p);
      await fh.close();
    },
  },
  aFloor: {
    label: 'floor: fs.open(dir, O_TMPFILE) + fs.close',
    op: async (dir) => closeCb(await openCb(dir, TMPFILE_FLAGS, 0o600)),
  },
};

function runSyncBatch(c, dir, n) {
  const op = c.op;
  c.before?.();
  const t0 = hr();
  for (let i = 0; i < n; i++) op(dir);
  const t = Number(hr() - t0);
  c.after?.();
  return t;
}

async function runAsyncBatch(op, dir, n) {
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      await op(dir);
    }
  };
  const t0 = hr();
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  return Number(hr() - t0);
}

// --- ratios and targets ---------------------------------------------------

// Each ratio is num/den of the two cases' per-round figures (µs/op for sync cases, ops/s for
// async ones). target: { min } or { max }, printed as PASS/MISS for information only.
// fs: the ratio applies only on tmpfs, or only on the disk (anything but tmpfs).
const RATIOS = [
  { name: 'TemporaryFileSync / floor', num: 'tfOurs', den: 'tfFloor', target: { max: 1.2 } },
  { name: 'TemporaryFileSync: diagnostics subscriber / none', num: 'tfSub', den: 'tfOurs' },
  { name: 'raw fs / TemporaryFileSync', num: 'tfRaw', den: 'tfOurs', target: { min: 1.5 } },
  { name: 'tmp / TemporaryFileSync', num: 'tmpFile', den: 'tfOurs', target: { min: 3 }, fs: 'tmpfs' },
  { name: 'tmp / TemporaryFileSync', num: 'tmpFile', den: 'tfOurs', target: { min: 2 }, fs: 'disk' },
  { name: 'mkstempSync / raw fs', num: 'msOurs', den: 'msRaw', target: { max: 1.05 } },
  { name: 'NamedTemporaryFileSync / raw fs', num: 'ntOurs', den: 'msRaw', target: { max: 1.1 } },
  { name: 'tmp / mkstempSync', num: 'tmpFile', den: 'msOurs', target: { min: 2 }, fs: 'tmpfs' },
  { name: 'tmp / mkstempSync', num: 'tmpFile', den: 'msOurs', fs: 'disk' },
  { name: 'mkdtempSync / fs.mkdtempSync', num: 'mdOurs', den: 'mdNode' },
  { name: 'tmp.dirSync / mkdtempSync', num: 'tmpDir', den: 'mdOurs' },
  { name: 'async ops/s TemporaryFile / fs.promises', num: 'aTfOurs', den: 'aFsp', target: { min: 1.3 } },
  { name: 'async ops/s mkstemp / fs.promises', num: 'aMsOurs', den: 'aFsp', target: { min: 1.3 } },
  { name: 'async ops/s TemporaryFile / floor', num: 'aTfOurs', den: 'aFloor' },
];

// --- statistics -----------------------------------------------------------


// --- directories ----------------------------------------------------------


const scratch = workDirs();

// Checks that each case does what its label says, before timing anything.
function sanityCheck(dir) {
  const fd = fs.openSync(dir, TMPFILE_FLAGS, 0o600);
  const s = fs.fstatSync(fd);
  fs.closeSync(fd);
  if (!s.isFile() || s.nlink !== 0) throw new Error(`O_TMPFILE floor did not create an unnamed file in ${dir}`);
  const f = st.TemporaryFileSync({ dir });
  const nlink = fs.fstatSync(f.fd).nlink;
  f.closeSync();
  if (f.path !== null || nlink !== 0) throw new Error(`TemporaryFileSync created a named file in ${dir}`);
  for (const c of Object.values(SYNC)) runSyncBatch(c, dir, 1);
  const seen = messages;
  runSyncBatch(SYNC.tfSub, dir, 1);
  if (messages !== seen + 2) throw new Error('the diagnostics subscriber did not see a create and a remove');
  runSyncBatch(SYNC.tfOurs, dir, 1);
  if (messages !== seen + 2) throw new Error('the diagnostics subscriber was not removed after its case');
  if (fs.readdirSync(dir).length !== 0) throw new Error(`a case left files behind in ${dir}`);
}

// --- the run --------------------------------------------------------------

async function benchDir(base) {
  const work = fs.mkdtempSync(path.join(base, 'securetemp-bench-'));
  scratch.add(work);
  fs.chmodSync(work, 0o700); // mkdtemp makes it 0o700 & ~umask; make sure it is exactly that
  try {
    sanityCheck(work);
    const cases = [
      ...Object.entries(SYNC).map(([id, c]) => ({ id, ...c, async: false })),
      ...Object.entries(ASYNC).map(([id, c]) => ({ id, ...c, async: true })),
    ];
    const perRound = Object.fromEntries(cases.map((c) => [c.id, []])); // µs/op or ops/s
    // A round is SLICES passes over every case, each pass in a rotated order, so the cases of
    // one round are measured within the same fraction of a second, not one after the other.
    let pass = 0;
    const began = Date.now();
    for (let r = -WARMUP; r < ROUNDS; r++) {
      // r < 0: warm-up rounds, not recorded
      if (r >= MIN_ROUNDS && Date.now() - began > BUDGET_S * 1000) break;
      const ns = new Map(cases.map((c) => [c.id, 0]));
      for (let s = 0; s < SLICES; s++, pass++) {
        const start = pass % cases.length;
        for (let k = 0; k < cases.length; k++) {
          const c = cases[(start + k) % cases.length];
          const t = c.async
            ? await runAsyncBatch(c.op, work, ASYNC_OPS / SLICES)
            : runSyncBatch(c, work, OPS / SLICES);
          ns.set(c.id, ns.get(c.id) + t);
        }
      }
      if (r < 0) continue;
      for (const c of cases) {
        const t = ns.get(c.id);
        perRound[c.id].push(c.async ? ASYNC_OPS / (t / 1e9) : t / 1e3 / OPS);
      }
    }
    const results = {};
    for (const c of cases) {
      const xs = perRound[c.id];
      results[c.id] = {
        label: c.label,
        unit: c.async ? 'ops/s' : 'us/op',
        median: median(xs),
        min: Math.min(...xs),
        max: Math.max(...xs),
        rounds: xs,
      };
    }
    const kind = fsType(base);
    const ratios = [];
    for (const q of RATIOS) {
      if (q.fs !== undefined && (q.fs === 'tmpfs') !== (kind === 'tmpfs')) continue;
      const a = perRound[q.num];
      const b = perRound[q.den];
      const value = median(a.map((x, i) => x / b[i]));
      let pass = null;
      if (q.target) pass = q.target.min !== undefined ? value >= q.target.min : value <= q.target.max;
      ratios.push({ name: q.name, value, target: q.target ?? null, pass });
    }
    return { base, fs: kind, dir: work, rounds: perRound[cases[0].id].length, results, ratios };
  } finally {
    scratch.remove(work, true);
  }
}

function fmt(x, digits) {
  return x.toFixed(digits);
}

function printDir(d) {
  const w = 58;
  const out = [];
  out.push('');
  out.push(
    `== ${d.base} (${d.fs}) — ${d.rounds} rounds${d.rounds < ROUNDS ? ` (of ${ROUNDS}: time budget reached)` : ''} × ${OPS} ops/case (sync), ${ASYNC_OPS} ops/case at ` +
      `concurrency ${CONCURRENCY} (async), interleaved in ${SLICES} slices/round, after ${WARMUP} warm-up round${WARMUP > 1 ? 's' : ''} ==`,
  );
  if (d.fs === 'ext4') {
    out.push('   (on ext4 without a journal, creation cost grows with inodes freed in the last 1–6 minutes;');
    out.push('    absolute figures depend on what ran just before, compare the ratios)');
  }
  out.push(`${'sync case'.padEnd(w)} ${'µs/op'.padStart(9)}   min–max`);
  for (const r of Object.values(d.results).filter((r) => r.unit === 'us/op')) {
    out.push(`${r.label.padEnd(w)} ${fmt(r.median, 2).padStart(9)}   ${fmt(r.min, 2)}–${fmt(r.max, 2)}`);
  }
  out.push(`${'async case (concurrency 64)'.padEnd(w)} ${'ops/s'.padStart(9)}   min–max`);
  for (const r of Object.values(d.results).filter((r) => r.unit === 'ops/s')) {
    out.push(`${r.label.padEnd(w)} ${fmt(r.median, 0).padStart(9)}   ${fmt(r.min, 0)}–${fmt(r.max, 0)}`);
  }
  out.push(`${'ratio (median of per-round ratios)'.padEnd(w)} ${'value'.padStart(9)}   target`);
  for (const q of d.ratios) {
    const t = q.target ? (q.target.min !== undefined ? `≥ ${q.target.min}` : `≤ ${q.target.max}`) : '';
    const p = q.pass === null ? '' : q.pass ? 'PASS' : 'MISS';
    out.push(`${q.name.padEnd(w)} ${fmt(q.value, 2).padStart(9)}   ${t.padEnd(6)} ${p}`.trimEnd());
  }
  console.log(out.join('\n'));
}

const bases = ['/tmp', '/dev/shm'].filter((b) => {
  try {
    return fs.statSync(b).isDirectory();
  } catch {
    return false;
  }
});

const t0 = Date.now();
if (!JSON_OUT) {
  console.log(
    `securetemp creation benchmark — node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}, ` +
      `${os.cpus().length} CPUs${QUICK ? ', --quick' : ''}`,
  );
  console.log('µs/op: lower is better; ops/s: higher is better. Ratios are within this run only.');
}
const dirs = [];
for (const b of bases) {
  const d = await benchDir(b);
  dirs.push(d);
  if (!JSON_OUT) printDir(d);
}
const seconds = (Date.now() - t0) / 1000;
if (JSON_OUT) {
  console.log(
    JSON.stringify(
      {
        node: process.version,
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        cpus: os.cpus().length,
        quick: QUICK,
        maxRounds: ROUNDS,
        opsPerRound: OPS,
        asyncOpsPerRound: ASYNC_OPS,
        slicesPerRound: SLICES,
        warmupRounds: WARMUP,
        concurrency: CONCURRENCY,
        seconds,
        leftovers: scratch.leftovers,
        dirs: dirs.map(({ dir, ...rest }) => rest),
      },
      null,
      2,
    ),
  );
} else {
  const misses = dirs.flatMap((d) => d.ratios.filter((q) => q.pass === false).map((q) => `${d.base}: ${q.name}`));
  console.log('');
  console.log(`done in ${seconds.toFixed(1)} s; ${scratch.leftovers === 0 ? 'nothing left behind' : `${scratch.leftovers} entries were left behind (removed)`}`);
  console.log(misses.length === 0 ? 'all targets met' : `targets missed (information only): ${misses.join('; ')}`);
}
