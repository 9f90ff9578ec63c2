#!/usr/bin/env node
// Shows with strace that SpooledTemporaryFile writes below maxSize make no system call,
// next to TemporaryFileSync writes, which do.
//
//   node bench/spooled-strace.mjs           run (a few seconds)
//   node bench/spooled-strace.mjs --json    machine-readable results on stdout
//   --quick                                 accepted for uniformity (the run is short anyway)
//   --writes=N --size=N                     writes per case and bytes per write
//                                           (default 10,000 × 100)
//
// How: this script runs itself (with --child) under `strace -f -o TRACE`. The child
// warms up (the same operations once, untraced in effect: before the markers), then for
// each case makes the file, calls fs.statSync('/securetemp-MARKER-<case>-start') — which
// fails with ENOENT but shows in the trace — does the writes, and calls
// fs.statSync('/securetemp-MARKER-<case>-end'). The parent counts the system calls
// between the two markers, those of the main thread (its tid is the process id) apart
// from those of other threads (V8's and libuv's workers, which do their own unrelated
// work).
// Cases:
//   - SpooledTemporaryFile({maxSize: 2 × total, dir}): all writes below maxSize
//     (expected: 0 system calls on the main thread; the file stays in memory)
//   - TemporaryFileSync({dir, bufsize: 0}): unbuffered, one pwrite64 per write
//   - TemporaryFileSync({dir}): the default buffer, one pwrite64 per buffer-full
//   - SpooledTemporaryFile({maxSize: total / 2, dir}): rolls over halfway (information:
//     the system calls start at the rollover)
// strace must be installed (apt-get install -y strace); without it the script says so
// and exits 0. The trace goes to a private temp directory, removed at the end.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const USAGE = 'usage: node bench/spooled-strace.mjs [--quick] [--json] [--writes=N] [--size=N]';
for (const a of argv) {
  if (!/^--(quick|json|child|writes=\d+|size=\d+|dir=.+)$/.test(a)) {
    console.error(`unknown argument: ${a}\n${USAGE}`);
    process.exit(2);
  }
}
const opt = (name) => argv.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1);
const numOpt = (name, dflt) => {
  const a = opt(name);
  if (a === undefined) return dflt;
  const n = Number(a);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
const WRITES = numOpt('--writes', 10_000);
const SIZE = numOpt('--size', 100);
const TOTAL = WRITES * SIZE;
const MARK = (id, which) => `/securetemp-MARKER-${id}-${which}`;

const CASES = [
  {
    id: 'spooled',
    label: `SpooledTemporaryFile({maxSize: ${2 * TOTAL}}) — below maxSize`,
    make: (st, dir) => st.SpooledTemporaryFile({ maxSize: 2 * TOTAL, dir }),
    expectZero: true,
  },
  {
    id: 'unbuffered',
    label: 'TemporaryFileSync({bufsize: 0})',
    make: (st, dir) => st.TemporaryFileSync({ dir, bufsize: 0 }),
  },
  {
    id: 'buffered',
    label: 'TemporaryFileSync() — default buffer',
    make: (st, dir) => st.TemporaryFileSync({ dir }),
  },
  {
    id: 'rollover',
    label: `SpooledTemporaryFile({maxSize: ${Math.floor(TOTAL / 2)}}) — rolls over halfway`,
    make: (st, dir) => st.SpooledTemporaryFile({ maxSize: Math.floor(TOTAL / 2), dir }),
  },
];

// --- the child: runs under strace ------------------------------------------------

function marker(p) {
  try {
    fs.statSync(p);
  } catch {
    // ENOENT: the point is the system call
  }
}

function child() {
  const require = createRequire(import.meta.url);
  const st = require('../dist/index.js');
  const dir = opt('--dir');
  const buf = Buffer.alloc(SIZE, 0x61);
  const out = { pid: process.pid, cases: {} };
  // Warm-up: every case once, before any marker (JIT, lazy loading, allocator growth).
  for (const c of CASES) {
    const f = c.make(st, dir);
    for (let i = 0; i < WRITES; i++) f.writeSync(buf);
    f.closeSync();
  }
  marker(MARK('warmup', 'done'));
  for (const c of CASES) {
    const f = c.make(st, dir);
    marker(MARK(c.id, 'start'));
    for (let i = 0; i < WRITES; i++) f.writeSync(buf);
    marker(MARK(c.id, 'end'));
    out.cases[c.id] = { rolledOver: 'rolledOver' in f ? f.rolledOver : null, tell: f.tellSync() };
    f.closeSync();
  }
  console.log(JSON.stringify(out));
}

// --- the parent: runs the child under strace, reads the trace -----------------------

// Main-thread system calls that are not file I/O: the allocator growing or trimming memory
// (V8's heap, or malloc for a Buffer), and the GC waking its helper threads.
const KIND = {
  brk: 'memory',
  mmap: 'memory',
  munmap: 'memory',
  mremap: 'memory',
  madvise: 'memory',
  mprotect: 'memory',
  futex: 'sync',
  getpid: 'sync',
  gettid: 'sync',
  sched_yield: 'sync',
};

/** Counts system calls per thread between the marker lines of each case. */
function analyse(trace, mainTid) {
  const lines = trace.split('\n');
  const res = {};
  for (const c of CASES) {
    const s = lines.findIndex((l) => l.includes(`"${MARK(c.id, 'start')}"`));
    const e = lines.findIndex((l) => l.includes(`"${MARK(c.id, 'end')}"`));
    if (s < 0 || e < 0) throw new Error(`markers of ${c.id} not found in the trace`);
    const main = {};
    const other = {};
    let mainN = 0;
    let otherN = 0;
    for (const l of lines.slice(s + 1, e)) {
      // "TID name(args) = ret", "TID name(args <unfinished ...>", "TID <... name resumed> ..."
      const m = /^(\d+)\s+(\w+)\(/.exec(l);
      if (!m) continue; // resumed halves, signals, exits
      const tid = Number(m[1]);
      const name = m[2];
      if (tid === mainTid) {
        main[name] = (main[name] ?? 0) + 1;
        mainN++;
      } else {
        other[name] = (other[name] ?? 0) + 1;
        otherN++;
      }
    }
    const kinds = { io: 0, memory: 0, sync: 0 };
    for (const [name, n] of Object.entries(main)) kinds[KIND[name] ?? 'io'] += n;
    res[c.id] = { mainThread: mainN, mainByKind: kinds, mainBySyscall: main, otherThreads: otherN, otherBySyscall: other };
  }
  return res;
}

function parent() {
  const JSON_OUT = argv.includes('--json');
  const which = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (which.error) {
    const msg = 'strace not found: install it (apt-get update && apt-get install -y strace) and run again';
    if (JSON_OUT) console.log(JSON.stringify({ skipped: msg }));
    else console.log(msg);
    return;
  }
  const straceVersion = which.stdout.split('\n')[0];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'securetemp-bench-strace-'));
  const cleanup = () => fs.rmSync(work, { recursive: true, force: true });
  process.on('exit', cleanup);
  try {
    const traceFile = path.join(work, 'trace');
    const dir = fs.mkdtempSync(path.join(work, 'files-'));
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(
      'strace',
      ['-f', '-qq', '-s', '64', '-o', traceFile, '--', process.execPath, self, '--child', `--writes=${WRITES}`, `--size=${SIZE}`, `--dir=${dir}`],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`strace/child failed (status ${r.status}): ${r.stderr}`);
    const childOut = JSON.parse(r.stdout.trim().split('\n').pop());
    const counts = analyse(fs.readFileSync(traceFile, 'utf8'), childOut.pid);
    const left = fs.readdirSync(dir);
    const results = CASES.map((c) => ({
      id: c.id,
      label: c.label,
      ...counts[c.id],
      rolledOver: childOut.cases[c.id].rolledOver,
      bytes: childOut.cases[c.id].tell,
      pass: c.expectZero ? counts[c.id].mainThread === 0 : null,
      passIo: c.expectZero ? counts[c.id].mainByKind.io === 0 : null,
    }));
    if (JSON_OUT) {
      console.log(JSON.stringify({ node: process.version, strace: straceVersion, writes: WRITES, size: SIZE, results, leftovers: left.length }, null, 2));
      return;
    }
    console.log(`securetemp SpooledTemporaryFile system-call check — node ${process.version}, ${straceVersion}`);
    console.log(
      `${WRITES.toLocaleString('en-US')} × writeSync(${SIZE} B) per case, between two marker stat() calls; ` +
        `counted from strace -f, main thread (tid ${childOut.pid}) apart from other threads`,
    );
    const w = 62;
    console.log('main = system calls of the main thread: all / file and other / memory (brk, mmap, madvise…) / GC sync (futex, getpid)');
    console.log('');
    console.log(`${'case'.padEnd(w)} ${'main'.padStart(6)} ${'file'.padStart(6)} ${'mem'.padStart(4)} ${'sync'.padStart(4)} ${'other thr'.padStart(9)}   main thread's calls`);
    for (const x of results) {
      const by = Object.entries(x.mainBySyscall)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const k = x.mainByKind;
      console.log(
        `${x.label.padEnd(w)} ${String(x.mainThread).padStart(6)} ${String(k.io).padStart(6)} ${String(k.memory).padStart(4)} ` +
          `${String(k.sync).padStart(4)} ${String(x.otherThreads).padStart(9)}   ${by || '—'}`,
      );
    }
    console.log('');
    for (const x of results.filter((r) => r.pass !== null)) {
      console.log(`${x.id}: no system call at all on the main thread (target)     ${x.pass ? 'PASS' : `MISS (${x.mainThread})`}`);
      console.log(`${x.id}: no file-system call on the main thread                 ${x.passIo ? 'PASS' : `MISS (${x.mainByKind.io})`}`);
    }
    for (const x of results) {
      if (x.otherThreads > 0) {
        const by = Object.entries(x.otherBySyscall)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        console.log(`other threads during ${x.id}: ${by} (V8 platform workers, i.e. GC helpers, and libuv's pool; no file I/O)`);
      }
    }
    for (const x of results) {
      if (x.rolledOver !== null) console.log(`${x.id}: rolledOver = ${x.rolledOver}, ${x.bytes} bytes written`);
    }
    console.log(left.length === 0 ? 'nothing left behind' : `${left.length} entries left behind in the file directory (removed)`);
  } finally {
    cleanup();
  }
}

if (argv.includes('--child')) child();
else parent();
