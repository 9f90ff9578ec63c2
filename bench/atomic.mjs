#!/usr/bin/env node
// Atomic replacement benchmark: replacing a 4 KiB file with writeFileAtomicSync and
// writeFileAtomic, against raw node:fs doing the same system calls and against npm
// `write-file-atomic`, with and without fsync, on the real disk (/tmp) and tmpfs (/dev/shm).
//
//   node bench/atomic.mjs            default run (about a minute)
//   node bench/atomic.mjs --quick    a smoke test (a few seconds)
//   node bench/atomic.mjs --json     machine-readable results on stdout instead of tables
//   --rounds=N --ops=N               override the iteration counts
//
// What each case does for one replacement:
//   ours       writeFileAtomicSync / await writeFileAtomic: temp file by O_TMPFILE (Linux),
//              write, fsync, link to a CSPRNG name, rename over the target, fsync the directory
//              (and, replacing an existing file, fchmod to its mode; as root fchown to its owner)
//   raw fs     open(target.<uuid>, 'wx', 0o666), write, fsync, close, rename, then the directory:
//              open, fsync, close. The system calls writeFileAtomic is asked to make, in node:fs
//              (fs.promises for the async case); no ownership or mode handling
//   wfa        npm write-file-atomic (sync / promise): realpath, stat, open (no O_EXCL), write,
//              fsync, close, chown, chmod, rename; no directory fsync
// "no fsync" drops every fsync (fsync: false for both libraries).
//
// Async cases are measured one replacement at a time (latency): calls for one path are
// serialized by both libraries anyway.
//
// Method (as bench/create.mjs): cases run round-robin after warm-up rounds; every round makes a
// few passes over all the cases, each pass starting from a different case, so the cases of one
// round are measured side by side. A case's figure is the median of its per-round figures; a
// ratio is the median over rounds of the ratio within the round. Compare ratios only within one
// run: on ext4 the cost of creating and fsyncing drifts with the disk's recent history.
//
// All work happens in a private 0o700 directory under each base, removed at the end (also on
// Ctrl-C); every case replaces its own target file there.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as os from 'node:os';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
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
  if (!/^--(quick|json|rounds=\d+|ops=\d+)$/.test(a)) {
    console.error(`unknown argument: ${a}\nusage: node bench/atomic.mjs [--quick] [--json] [--rounds=N] [--ops=N]`);
    process.exit(2);
  }
}
const QUICK = flag('--quick');
const JSON_OUT = flag('--json');
const ROUNDS = numOpt('--rounds', QUICK ? 3 : 15);
const OPS = numOpt('--ops', QUICK ? 24 : 120); // per case per round
const WARMUP = 1; // rounds run first and not recorded
const SLICES = QUICK ? 2 : 4; // passes over all cases per round
if (OPS % SLICES) throw new Error(`--ops must be a multiple of ${SLICES}`);
// Past this many seconds per directory, no new round is started once MIN_ROUNDS are done.
const BUDGET_S = QUICK ? 10 : 45;
const MIN_ROUNDS = Math.min(ROUNDS, QUICK ? 2 : 6);
const SIZE = 4096;

const require = createRequire(import.meta.url);
const st = require('../dist/index.js');
const wfa = require('write-file-atomic');

// Two contents, alternated, so every replacement really changes the file.
const DATA = [Buffer.alloc(SIZE, 0x61), Buffer.alloc(SIZE, 0x62)];
let flip = 0;
const next = () => DATA[(flip ^= 1)];

const hr = () => process.hrtime.bigint();

// --- raw node:fs: the same system calls -------------------------------------

function rawSync(target, fsync) {
  const tmp = `${target}.${randomUUID()}`;
  const fd = fs.openSync(tmp, 'wx', 0o666);
  try {
    fs.writeSync(fd, next(), 0, SIZE, 0);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
  if (fsync) {
    const dfd = fs.openSync(path.dirname(target), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }
}

async function rawAsync(target, fsync) {
  const tmp = `${target}.${randomUUID()}`;
  const fh = await fsp.open(tmp, 'wx', 0o666);
  try {
    await fh.write(next(), 0, SIZE, 0);
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, target);
  if (fsync) {
    const dh = await fsp.open(path.dirname(target), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

// --- cases ----------------------------------------------------------------

const CASES = [];
for (const fsync of [true, false]) {
  const tag = fsync ? 'fsync' : 'no fsync';
  const k = fsync ? 'F' : 'N';
  CASES.push(
    { id: `ours${k}`, label: `writeFileAtomicSync (${tag})`, op: (t) => st.writeFileAtomicSync(t, next(), { fsync }) },
    { id: `raw${k}`, label: `raw fs, same syscalls, sync (${tag})`, op: (t) => rawSync(t, fsync) },
    { id: `wfa${k}`, label: `write-file-atomic.sync (${tag})`, op: (t) => wfa.sync(t, next(), { fsync }) },
    { id: `aOurs${k}`, label: `await writeFileAtomic (${tag})`, async: true, op: (t) => st.writeFileAtomic(t, next(), { fsync }) },
    { id: `aRaw${k}`, label: `raw fs.promises, same syscalls (${tag})`, async: true, op: (t) => rawAsync(t, fsync) },
    { id: `aWfa${k}`, label: `await write-file-atomic (${tag})`, async: true, op: (t) => wfa(t, next(), { fsync }) },
  );
}

function runSyncBatch(op, target, n) {
  const t0 = hr();
  for (let i = 0; i < n; i++) op(target);
  return Number(hr() - t0);
}

async function runAsyncBatch(op, target, n) {
  const t0 = hr();
  for (let i = 0; i < n; i++) await op(target);
  return Number(hr() - t0);
}

// --- ratios and targets ---------------------------------------------------

// Each ratio is num/den of the two cases' per-round µs/op. target: { min } or { max }, printed
// as PASS/MISS for information only (this script never fails on a miss).
const RATIOS = [
  { name: 'writeFileAtomicSync / raw fs (fsync)', num: 'oursF', den: 'rawF', target: { max: 1.2 } },
  { name: 'writeFileAtomicSync / raw fs (no fsync)', num: 'oursN', den: 'rawN', target: { max: 1.2 } },
  { name: 'write-file-atomic.sync / ours (fsync)', num: 'wfaF', den: 'oursF', target: { min: 1.5 } },
  { name: 'write-file-atomic.sync / ours (no fsync)', num: 'wfaN', den: 'oursN', target: { min: 2 } },
  { name: 'write-file-atomic async / ours (fsync)', num: 'aWfaF', den: 'aOursF', target: { min: 2.5 } },
  { name: 'write-file-atomic async / ours (no fsync)', num: 'aWfaN', den: 'aOursN', target: { min: 2.5 } },
  { name: 'writeFileAtomic / raw fs.promises (fsync)', num: 'aOursF', den: 'aRawF' },
  { name: 'writeFileAtomic / raw fs.promises (no fsync)', num: 'aOursN', den: 'aRawN' },
];


// --- directories ----------------------------------------------------------


const scratch = workDirs({ expected: (n) => n.startsWith('target-'), noun: 'temp files' });

// Every case must leave exactly its target, with the last contents, before anything is timed.
async function sanityCheck(dir) {
  for (const c of CASES) {
    const t = path.join(dir, `target-${c.id}`);
    await c.op(t);
    const want = DATA[flip];
    if (!fs.readFileSync(t).equals(want)) throw new Error(`${c.label} did not write its target`);
  }
  const names = fs.readdirSync(dir).sort();
  const want = CASES.map((c) => `target-${c.id}`).sort();
  if (JSON.stringify(names) !== JSON.stringify(want)) throw new Error(`unexpected files in ${dir}: ${names.join(', ')}`);
}

// --- the run --------------------------------------------------------------

async function benchDir(base) {
  const work = fs.mkdtempSync(path.join(base, 'securetemp-bench-'));
  scratch.add(work);
  fs.chmodSync(work, 0o700);
  try {
    await sanityCheck(work);
    const perRound = Object.fromEntries(CASES.map((c) => [c.id, []])); // µs/op
    let pass = 0;
    const began = Date.now();
    for (let r = -WARMUP; r < ROUNDS; r++) {
      if (r >= MIN_ROUNDS && Date.now() - began > BUDGET_S * 1000) break;
      const ns = new Map(CASES.map((c) => [c.id, 0]));
      for (let s = 0; s < SLICES; s++, pass++) {
        const start = pass % CASES.length;
        for (let k = 0; k < CASES.length; k++) {
          const c = CASES[(start + k) % CASES.length];
          const target = path.join(work, `target-${c.id}`);
          const t = c.async ? await runAsyncBatch(c.op, target, OPS / SLICES) : runSyncBatch(c.op, target, OPS / SLICES);
          ns.set(c.id, ns.get(c.id) + t);
        }
      }
      if (r < 0) continue;
      for (const c of CASES) perRound[c.id].push(ns.get(c.id) / 1e3 / OPS);
    }
    const results = {};
    for (const c of CASES) {
      const xs = perRound[c.id];
      results[c.id] = { label: c.label, unit: 'us/op', median: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs };
    }
    const ratios = RATIOS.map((q) => {
      const a = perRound[q.num];
      const b = perRound[q.den];
      const value = median(a.map((x, i) => x / b[i]));
      let ok = null;
      if (q.target) ok = q.target.min !== undefined ? value >= q.target.min : value <= q.target.max;
      return { name: q.name, value, target: q.target ?? null, pass: ok };
    });
    return { base, fs: fsType(base), dir: work, rounds: perRound[CASES[0].id].length, results, ratios };
  } finally {
    scratch.remove(work, true);
  }
}

function printDir(d) {
  const w = 50;
  const out = [''];
  out.push(
    `== ${d.base} (${d.fs}) — ${d.rounds} rounds${d.rounds < ROUNDS ? ` (of ${ROUNDS}: time budget reached)` : ''} × ${OPS} ` +
      `replacements/case of ${SIZE} bytes, interleaved in ${SLICES} slices/round, after ${WARMUP} warm-up round ==`,
  );
  if (d.fs === 'tmpfs') out.push('   (tmpfs: fsync does nothing, so "fsync" and "no fsync" differ only by the calls made)');
  out.push(`${'case'.padEnd(w)} ${'µs/op'.padStart(9)}   min–max`);
  for (const r of Object.values(d.results)) {
    out.push(`${r.label.padEnd(w)} ${r.median.toFixed(1).padStart(9)}   ${r.min.toFixed(1)}–${r.max.toFixed(1)}`);
  }
  out.push(`${'ratio (median of per-round ratios)'.padEnd(w)} ${'value'.padStart(9)}   target`);
  for (const q of d.ratios) {
    const t = q.target ? (q.target.min !== undefined ? `≥ ${q.target.min}` : `≤ ${q.target.max}`) : '';
    const p = q.pass === null ? '' : q.pass ? 'PASS' : 'MISS';
    out.push(`${q.name.padEnd(w)} ${q.value.toFixed(2).padStart(9)}   ${t.padEnd(6)} ${p}`.trimEnd());
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
    `securetemp atomic replacement benchmark — node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}, ` +
      `${os.cpus().length} CPUs, ${process.getuid?.() === 0 ? 'root' : 'not root'}${QUICK ? ', --quick' : ''}`,
  );
  console.log('µs per replacement: lower is better. Ratios are within this run only.');
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
        slicesPerRound: SLICES,
        warmupRounds: WARMUP,
        size: SIZE,
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
  console.log(`done in ${seconds.toFixed(1)} s; ${scratch.leftovers === 0 ? 'nothing left behind' : `${scratch.leftovers} temp files were left behind (removed)`}`);
  console.log(misses.length === 0 ? 'all targets met' : `targets missed (information only): ${misses.join('; ')}`);
}
