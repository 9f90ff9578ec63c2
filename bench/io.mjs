#!/usr/bin/env node
// I/O benchmark: TempFile reads and writes against node:fs on a raw descriptor and
// against Python's buffered file object.
//
//   node bench/io.mjs            default run (well under 2 minutes)
//   node bench/io.mjs --quick    a smoke test (a few seconds)
//   node bench/io.mjs --json     machine-readable results on stdout instead of tables
//   --writes=N        small writes per case per round (default 1,000,000; --quick 100,000)
//   --small-rounds=N  rounds of the small-write cases (default 5; --quick 2)
//   --mib=N           MiB written then read per case per round (default 1024; --quick 128)
//   --big-rounds=N    rounds of the bulk cases (default 5; --quick 1)
//   --dir=PATH        where the bulk cases run (default /dev/shm when it has more than
//                     twice --mib free, else /tmp)
//   --lines=N         lines of 80 bytes in the line-reading file (default 1,000,000; --quick 200,000)
//   --line-rounds=N   rounds of the line-reading cases (default 5; --quick 2)
//   --only=lines      run part 3 alone
//
// Part 1, small writes: --writes writes of 16 bytes (one Buffer, reused), then a flush,
// timed around the loop and the flush only (file creation and close are not timed):
//   - TempFile.writeSync with the default buffer,
//   - fs.writeSync(fd, buf) per write on a raw O_TMPFILE descriptor (one write(2) each),
//   - a hand-written JS buffer (buf.set + fs.writeSync per 64 KiB): the floor for
//     buffering in JavaScript,
//   - Python 3: `f.write(b)` in a loop on tempfile.TemporaryFile(dir=…), then f.flush(),
//     timed inside Python with time.perf_counter (interpreter start-up not counted).
// A round is 10 passes over the cases (2 with --quick), each pass writing --writes/10 to a
// new file per case, the cases in a rotated order; a round's figure is the sum of its
// passes. Warm-up first: 500k writes for TempFile and the JS floor (the JIT needs ~200k),
// one pass for the others. Run on /dev/shm (tmpfs: system call and CPU cost only) and
// /tmp (ext4's page cache).
//
// Part 2, bulk: --mib MiB written in 1 MiB chunks to a new unnamed file, then read back
// in 1 MiB chunks, writes and reads timed apart, each case with its own file:
//   - sync:    TempFile writeSync/readintoSync vs fs.writeSync/readSync (pwrite/pread)
//   - async:   TempFile write/readinto vs fs.write/fs.read with a callback, one at a time
//   - streams: TempFile createWriteStream/createReadStream vs fs.createWriteStream/
//              createReadStream on the raw descriptor (highWaterMark 1 MiB for reading);
//              one stream per file
// The raw descriptors are O_TMPFILE files in the same directory, like TempFile's.
// First each case runs once alone at full size, for RSS (a gc() before, then
// process.memoryUsage.rss() sampled every 16 chunks and every 5 ms; growth = peak − RSS
// before; on tmpfs the file's pages are shmem, not the process's RSS) and as the warm-up.
// Then, per round, each pair (TempFile, raw fs) runs side by side: both files are written
// in alternating 8 MiB slices, then read the same way, so that load from elsewhere on
// this shared 2-core machine hits both alike. A ratio is the median over rounds of the
// ratio within the pair.
//
// Part 3, line reading (issue 13): a file of --lines lines of 80 bytes (79 ASCII bytes and
// '\n'), written once as a NamedTemporaryFile in text mode ('w+', utf8), then read line by line
// to the end, each case from the start of that same file, counting lines:
//   - TempFile sync:  `for (const line of f)` (strings),
//   - TempFile async: `for await (const line of f)`,
//   - Node: `for await (const line of readline.createInterface({input: fs.createReadStream(path),
//     crlfDelay: Infinity}))` (strings, newline removed),
//   - Python 3: `for line in f` on open(path, encoding='utf-8') (its default newline handling),
//     timed inside Python (interpreter start-up not counted),
//   - for information, a binary TempFile ('w+b', same bytes) with `for (const line of f)` and
//     Python's `for line in f` on open(path, 'rb').
// Per round each case runs once, in a rotated order, after one warm-up run of each; a ratio is
// the median over rounds of the ratio within the round. Targets: sync ≥ 3× readline, ≤ 1.5×
// Python's time; async ≥ 1.5× readline.
//
// Compare figures only within one run: on this machine's /tmp (ext4 without journal,
// mounted with discard) costs drift with recent deletions.
//
// All work happens in a private 0o700 directory under each base, removed at the end,
// also on Ctrl-C. Targets are printed as PASS/MISS for information; the exit status
// does not depend on them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import * as readline from 'node:readline';
import { createRequire } from 'node:module';
import { fsType, median, workDirs } from './_common.mjs';

// --- options --------------------------------------------------------------

const argv = process.argv.slice(2);
const USAGE =
  'usage: node bench/io.mjs [--quick] [--json] [--writes=N] [--small-rounds=N] [--mib=N] [--big-rounds=N] [--dir=PATH] [--lines=N] [--line-rounds=N] [--only=lines]';
for (const a of argv) {
  if (!/^--(quick|json|writes=\d+|small-rounds=\d+|mib=\d+|big-rounds=\d+|dir=.+|lines=\d+|line-rounds=\d+|only=lines)$/.test(a)) {
    console.error(`unknown argument: ${a}\n${USAGE}`);
    process.exit(2);
  }
}
const flag = (name) => argv.includes(name);
const strOpt = (name) => argv.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1);
const numOpt = (name, dflt) => {
  const a = strOpt(name);
  if (a === undefined) return dflt;
  const n = Number(a);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
const QUICK = flag('--quick');
const JSON_OUT = flag('--json');
const WRITES = numOpt('--writes', QUICK ? 100_000 : 1_000_000);
const SMALL_ROUNDS = numOpt('--small-rounds', QUICK ? 2 : 5);
const SMALL_SLICES = QUICK ? 2 : 10; // passes over the small-write cases per round
const MIB = numOpt('--mib', QUICK ? 128 : 1024);
const BIG_ROUNDS = numOpt('--big-rounds', QUICK ? 1 : 5);
const DIR_OPT = strOpt('--dir');
const LINES = numOpt('--lines', QUICK ? 200_000 : 1_000_000);
const LINE_ROUNDS = numOpt('--line-rounds', QUICK ? 2 : 5);
const ONLY_LINES = strOpt('--only') === 'lines';

const SMALL = 16; // bytes per small write
const CHUNK = 1 << 20; // bulk chunk
const SAMPLE_EVERY = 16; // chunks between RSS samples
const RSS_LIMIT = 64 * 1024 * 1024;

const require = createRequire(import.meta.url);
const st = require('../dist/index.js');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// Node's fs.constants has no O_TMPFILE: __O_TMPFILE (0o20000000 on x86/arm) | O_DIRECTORY.
const O_TMPFILE = fs.constants.O_TMPFILE ?? (0o20000000 | fs.constants.O_DIRECTORY);
const rawTmpfile = (dir) => fs.openSync(dir, O_TMPFILE | fs.constants.O_RDWR, 0o600);

const hr = () => process.hrtime.bigint();



function freeBytes(dir) {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

// --- private work directories, removed at exit ------------------------------

const scratch = workDirs({ onExitError: (w, e) => console.error(`warning: could not remove ${w}: ${e.message}`) });

function makeWorkDir(base) {
  const w = fs.mkdtempSync(path.join(base, 'securetemp-bench-io-'));
  scratch.add(w);
  fs.chmodSync(w, 0o700);
  return w;
}

// --- part 1: small writes ----------------------------------------------------

const small = Buffer.from('0123456789abcdef');

const PY_SMALL = `
import sys, tempfile, time
n, d = int(sys.argv[1]), sys.argv[2]
b = b'0123456789abcdef'
with tempfile.TemporaryFile(dir=d) as f:
    t = time.perf_counter()
    for _ in range(n):
        f.write(b)
    f.flush()
    t = time.perf_counter() - t
    assert f.tell() == n * len(b)
print(t)
`;

// The interpreter itself, not a wrapper such as a pyenv shim (which costs ~0.1 s per start).
const [PYTHON, PYTHON_EXE] = (() => {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.version.split()[0]); print(sys.executable)'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return [null, null];
  const [version, exe] = r.stdout.trim().split('\n');
  return [version, exe || 'python3'];
})();

const sizeOf = (fd) => fs.fstatSync(fd).size;

/** Small-write cases: (dir, n) → seconds; each checks the file got n × 16 bytes. */
const SMALL_CASES = {
  tf: {
    label: 'TempFile.writeSync (default buffer) + flushSync',
    run(dir, n) {
      const f = st.TemporaryFileSync({ dir });
      try {
        const t0 = hr();
        for (let i = 0; i < n; i++) f.writeSync(small);
        f.flushSync();
        const t = Number(hr() - t0) / 1e9;
        if (sizeOf(f.fd) !== n * SMALL) throw new Error('TempFile: wrong size');
        return t;
      } finally {
        f.closeSync();
      }
    },
  },
  fsw: {
    label: 'fs.writeSync(fd, buf) per write, raw fd',
    run(dir, n) {
      const fd = rawTmpfile(dir);
      try {
        const t0 = hr();
        for (let i = 0; i < n; i++) fs.writeSync(fd, small);
        const t = Number(hr() - t0) / 1e9;
        if (sizeOf(fd) !== n * SMALL) throw new Error('fs.writeSync: wrong size');
        return t;
      } finally {
        fs.closeSync(fd);
      }
    },
  },
  jsbuf: {
    label: 'floor: JS 64 KiB buffer (buf.set) + fs.writeSync',
    run(dir, n) {
      const fd = rawTmpfile(dir);
      const buf = Buffer.allocUnsafe(64 * 1024);
      try {
        const t0 = hr();
        let len = 0;
        for (let i = 0; i < n; i++) {
          if (len + small.length > buf.length) {
            for (let off = 0; off < len; ) off += fs.writeSync(fd, buf, off, len - off);
            len = 0;
          }
          buf.set(small, len);
          len += small.length;
        }
        for (let off = 0; off < len; ) off += fs.writeSync(fd, buf, off, len - off);
        const t = Number(hr() - t0) / 1e9;
        if (sizeOf(fd) !== n * SMALL) throw new Error('JS buffer: wrong size');
        return t;
      } finally {
        fs.closeSync(fd);
      }
    },
  },
  py: {
    label: `Python ${PYTHON ?? '(missing)'} f.write(b) on tempfile.TemporaryFile`,
    skip: PYTHON === null ? 'python3 not found' : null,
    run(dir, n) {
      const r = spawnSync(PYTHON_EXE, ['-c', PY_SMALL, String(n), dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
      return Number(r.stdout.trim());
    },
  },
};

const SMALL_RATIOS = [
  { name: 'fs.writeSync / TempFile.writeSync (time)', num: 'fsw', den: 'tf', target: { min: 15 } },
  { name: 'TempFile.writeSync / Python (time)', num: 'tf', den: 'py', target: { max: 1.5 } },
  { name: 'TempFile.writeSync / JS-buffer floor (time)', num: 'tf', den: 'jsbuf' },
  { name: 'JS-buffer floor / Python (time)', num: 'jsbuf', den: 'py' },
];

function benchSmall(base) {
  const work = makeWorkDir(base);
  try {
    const cases = Object.entries(SMALL_CASES)
      .filter(([, c]) => !c.skip)
      .map(([id, c]) => ({ id, ...c }));
    const per = Object.fromEntries(cases.map((c) => [c.id, []])); // seconds per round
    // A round is SMALL_SLICES passes over the cases, each pass writing WRITES / SMALL_SLICES
    // to a new file per case, in a rotated order: load from elsewhere hits every case alike.
    const n = Math.ceil(WRITES / SMALL_SLICES);
    let pass = 0;
    for (let r = -1; r < SMALL_ROUNDS; r++) {
      const t = new Map(cases.map((c) => [c.id, 0]));
      // r < 0: warm-up. TempFile.writeSync reaches its steady speed after ~200k writes (JIT
      // tiers), so the cheap cases get 500k; fs.writeSync (slow) and Python (no JIT) one pass.
      const slices = r < 0 ? Math.ceil(500_000 / n) : SMALL_SLICES;
      for (let s = 0; s < slices; s++, pass++) {
        for (let k = 0; k < cases.length; k++) {
          const c = cases[(pass + k) % cases.length];
          if (r < 0 && s > 0 && (c.id === 'py' || c.id === 'fsw')) continue;
          t.set(c.id, t.get(c.id) + c.run(work, n));
        }
      }
      if (r >= 0) for (const c of cases) per[c.id].push(t.get(c.id));
    }
    const results = {};
    for (const c of cases) {
      const xs = per[c.id];
      results[c.id] = { label: c.label, median: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs };
    }
    const ratios = [];
    for (const q of SMALL_RATIOS) {
      if (!per[q.num] || !per[q.den]) {
        ratios.push({ name: q.name, value: null, target: q.target ?? null, pass: null, note: 'case skipped' });
        continue;
      }
      const value = median(per[q.num].map((x, i) => x / per[q.den][i]));
      let pass = null;
      if (q.target) pass = q.target.min !== undefined ? value >= q.target.min : value <= q.target.max;
      ratios.push({ name: q.name, value, target: q.target ?? null, pass });
    }
    const skipped = Object.entries(SMALL_CASES)
      .filter(([, c]) => c.skip)
      .map(([id, c]) => ({ id, label: c.label, reason: c.skip }));
    return { base, fs: fsType(base), rounds: SMALL_ROUNDS, slices: SMALL_SLICES, writes: n * SMALL_SLICES, results, ratios, skipped };
  } finally {
    scratch.remove(work, true);
  }
}

// --- part 2: bulk ------------------------------------------------------------

const wbuf = randomFillSync(Buffer.allocUnsafe(CHUNK));
const rbuf = Buffer.allocUnsafe(CHUNK);

let rssPeak = 0;
const sampleRss = () => {
  const r = process.memoryUsage.rss();
  if (r > rssPeak) rssPeak = r;
};

function checkChunk(b, i) {
  if (b.length !== CHUNK || !b.equals(wbuf)) throw new Error(`chunk ${i} read back wrong`);
}

const cbWrite = (fd, buf, off, len, pos) =>
  new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));
const cbRead = (fd, buf, off, len, pos) =>
  new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));

/**
 * A bulk case makes a session on a new file: write(n) appends n chunks, endWrite() finishes
 * writing, read(n, verify) reads up to n chunks (returns bytes), close(). Sessions can be
 * driven a slice at a time, alternating with another session.
 */
function syncRaw(dir) {
  const fd = rawTmpfile(dir);
  let wpos = 0;
  let rpos = 0;
  return {
    write(n) {
      for (let i = 0; i < n; i++, wpos += CHUNK) {
        for (let off = 0; off < CHUNK; ) off += fs.writeSync(fd, wbuf, off, CHUNK - off, wpos + off);
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
    },
    endWrite() {},
    read(n, verify) {
      const from = rpos;
      for (let i = 0; i < n; i++) {
        let got = 0;
        while (got < CHUNK) {
          const r = fs.readSync(fd, rbuf, got, CHUNK - got, rpos + got);
          if (r === 0) break;
          got += r;
        }
        if (got === 0) break;
        if (verify) checkChunk(rbuf.subarray(0, got), rpos / CHUNK);
        rpos += got;
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
      return rpos - from;
    },
    close: () => fs.closeSync(fd),
  };
}

function syncOurs(dir) {
  const f = st.TemporaryFileSync({ dir });
  let rchunk = 0;
  return {
    write(n) {
      for (let i = 0; i < n; i++) {
        f.writeSync(wbuf);
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
    },
    endWrite() {
      f.flushSync();
      f.seekSync(0);
    },
    read(n, verify) {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const got = f.readintoSync(rbuf);
        if (got === 0) break;
        if (verify) checkChunk(rbuf.subarray(0, got), rchunk);
        rchunk++;
        total += got;
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
      return total;
    },
    close: () => f.closeSync(),
  };
}

function asyncRaw(dir) {
  const fd = rawTmpfile(dir);
  let wpos = 0;
  let rpos = 0;
  return {
    async write(n) {
      for (let i = 0; i < n; i++, wpos += CHUNK) {
        for (let off = 0; off < CHUNK; ) off += await cbWrite(fd, wbuf, off, CHUNK - off, wpos + off);
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
    },
    endWrite() {},
    async read(n, verify) {
      const from = rpos;
      for (let i = 0; i < n; i++) {
        let got = 0;
        while (got < CHUNK) {
          const r = await cbRead(fd, rbuf, got, CHUNK - got, rpos + got);
          if (r === 0) break;
          got += r;
        }
        if (got === 0) break;
        if (verify) checkChunk(rbuf.subarray(0, got), rpos / CHUNK);
        rpos += got;
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
      return rpos - from;
    },
    close: () => fs.closeSync(fd),
  };
}

function asyncOurs(dir) {
  const f = st.TemporaryFileSync({ dir });
  let rchunk = 0;
  return {
    async write(n) {
      for (let i = 0; i < n; i++) {
        await f.write(wbuf);
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
    },
    async endWrite() {
      await f.flush();
      await f.seek(0);
    },
    async read(n, verify) {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const got = await f.readinto(rbuf);
        if (got === 0) break;
        if (verify) checkChunk(rbuf.subarray(0, got), rchunk);
        rchunk++;
        total += got;
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
      return total;
    },
    close: () => f.close(),
  };
}

/**
 * Streams: one write stream for the whole file, then one read stream (highWaterMark 1 MiB).
 * A write slice ends when its last chunk has been handed to the kernel ('drain'); a read
 * slice takes n chunks from the stream's async iterator.
 */
function streamSession(makeWs, makeRs, close) {
  let ws = null;
  let it = null;
  let rchunk = 0;
  return {
    async write(n) {
      ws ??= makeWs();
      for (let i = 0; i < n; i++) {
        if (!ws.write(wbuf)) await once(ws, 'drain');
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
      if (ws.writableNeedDrain) await once(ws, 'drain');
    },
    async endWrite() {
      if (ws === null) return;
      ws.end();
      await finished(ws);
    },
    async read(n, verify) {
      it ??= makeRs()[Symbol.asyncIterator]();
      let total = 0;
      for (let i = 0; i < n; i++) {
        const r = await it.next();
        if (r.done) break;
        if (verify) checkChunk(r.value, rchunk);
        rchunk++;
        total += r.value.length;
        if (i % SAMPLE_EVERY === 0) sampleRss();
      }
      return total;
    },
    async close() {
      // Read to the natural end rather than it.return(): destroy() on an fs stream closes
      // its fd even with autoClose: false (TempFile's own descriptor included).
      if (it !== null) while (!(await it.next()).done);
      await close();
    },
  };
}

function streamRaw(dir) {
  const fd = rawTmpfile(dir);
  return streamSession(
    () => fs.createWriteStream('', { fd, autoClose: false, start: 0 }),
    () => fs.createReadStream('', { fd, autoClose: false, start: 0, highWaterMark: CHUNK }),
    () => fs.closeSync(fd),
  );
}

function streamOurs(dir) {
  const f = st.TemporaryFileSync({ dir });
  return streamSession(
    () => f.createWriteStream({ start: 0 }),
    () => f.createReadStream({ start: 0, highWaterMark: CHUNK }),
    () => f.close(),
  );
}

const BULK_CASES = {
  rawSync: { label: 'fs.writeSync / fs.readSync (pwrite/pread), raw fd', make: syncRaw },
  tfSync: { label: 'TempFile writeSync / readintoSync', make: syncOurs },
  rawAsync: { label: 'fs.write / fs.read (callback), raw fd', make: asyncRaw },
  tfAsync: { label: 'TempFile write / readinto (async)', make: asyncOurs },
  rawStream: { label: 'fs.createWriteStream / createReadStream, raw fd', make: streamRaw },
  tfStream: { label: 'TempFile createWriteStream / createReadStream', make: streamOurs },
};

const BULK_PAIRS = [
  { name: 'sync', ours: 'tfSync', raw: 'rawSync' },
  { name: 'async', ours: 'tfAsync', raw: 'rawAsync' },
  { name: 'streams', ours: 'tfStream', raw: 'rawStream' },
];
const THROUGHPUT_MIN = 0.9;
const SLICE_CHUNKS = 8; // 8 MiB per slice in the interleaved runs

/** One case alone, whole file, with RSS sampling: { writeS, readS, rssGrowth, rssPeak }. */
async function runAlone(c, dir, n, verify) {
  gc();
  gc();
  const before = process.memoryUsage.rss();
  rssPeak = before;
  const timer = setInterval(sampleRss, 5);
  const s = c.make(dir);
  try {
    let t0 = hr();
    await s.write(n);
    await s.endWrite();
    const writeS = Number(hr() - t0) / 1e9;
    sampleRss();
    t0 = hr();
    const got = await s.read(n + 1, verify); // one more: must find end of file
    const readS = Number(hr() - t0) / 1e9;
    sampleRss();
    if (got !== n * CHUNK) throw new Error(`${c.label}: read ${got} bytes, wrote ${n * CHUNK}`);
    return { writeS, readS, rssGrowth: rssPeak - before, rssPeak };
  } finally {
    clearInterval(timer);
    await s.close();
  }
}

/**
 * A pair side by side: both files written slice by slice, alternating (which goes first
 * alternates too), then both read the same way. Returns per-side { writeS, readS }.
 */
async function runPair(a, b, dir, n) {
  const sides = [a, b].map((c) => ({ c, s: c.make(dir), writeS: 0, readS: 0, got: 0 }));
  try {
    const slices = Math.ceil(n / SLICE_CHUNKS);
    for (let k = 0; k < slices; k++) {
      const m = Math.min(SLICE_CHUNKS, n - k * SLICE_CHUNKS);
      for (const x of k % 2 ? [sides[1], sides[0]] : sides) {
        const t0 = hr();
        await x.s.write(m);
        if (k === slices - 1) await x.s.endWrite();
        x.writeS += Number(hr() - t0) / 1e9;
      }
    }
    for (let k = 0; k < slices; k++) {
      const m = Math.min(SLICE_CHUNKS, n - k * SLICE_CHUNKS);
      for (const x of k % 2 ? [sides[1], sides[0]] : sides) {
        const t0 = hr();
        x.got += await x.s.read(m, false);
        x.readS += Number(hr() - t0) / 1e9;
      }
    }
    for (const x of sides) if (x.got !== n * CHUNK) throw new Error(`${x.c.label}: read ${x.got} bytes, wrote ${n * CHUNK}`);
    return sides.map(({ writeS, readS }) => ({ writeS, readS }));
  } finally {
    for (const x of sides) await x.s.close();
  }
}

async function benchBulk(base) {
  const work = makeWorkDir(base);
  try {
    const cases = Object.entries(BULK_CASES).map(([id, c]) => ({ id, ...c }));
    // Sanity: every case reads back what it wrote, sliced and not.
    for (const c of cases) await runAlone(c, work, 4, true);
    for (const c of cases) {
      const s = c.make(work);
      try {
        await s.write(2);
        await s.write(3);
        await s.endWrite();
        let got = await s.read(2, true);
        got += await s.read(4, true);
        if (got !== 5 * CHUNK) throw new Error(`${c.label}: sliced read got ${got} bytes`);
      } finally {
        await s.close();
      }
    }
    // Each case alone, full size: RSS, and a warm-up (JIT, and the guest's memory touched).
    const alone = {};
    for (const c of cases) alone[c.id] = await runAlone(c, work, MIB, false);
    // The pairs side by side, round-robin.
    const per = Object.fromEntries(cases.map((c) => [c.id, []]));
    for (let r = 0; r < BIG_ROUNDS; r++) {
      for (let k = 0; k < BULK_PAIRS.length; k++) {
        const p = BULK_PAIRS[(r + k) % BULK_PAIRS.length];
        const swap = r % 2 === 1; // who starts the first slice
        const [x, y] = await runPair(BULK_CASES[swap ? p.raw : p.ours], BULK_CASES[swap ? p.ours : p.raw], work, MIB);
        per[p.ours].push(swap ? y : x);
        per[p.raw].push(swap ? x : y);
      }
    }
    const bytes = MIB * CHUNK;
    const results = {};
    for (const c of cases) {
      const xs = per[c.id];
      const w = xs.map((x) => bytes / x.writeS / 1e9);
      const rd = xs.map((x) => bytes / x.readS / 1e9);
      results[c.id] = {
        label: c.label,
        writeGBs: median(w),
        writeRange: [Math.min(...w), Math.max(...w)],
        readGBs: median(rd),
        readRange: [Math.min(...rd), Math.max(...rd)],
        alone: {
          writeGBs: bytes / alone[c.id].writeS / 1e9,
          readGBs: bytes / alone[c.id].readS / 1e9,
          rssGrowth: alone[c.id].rssGrowth,
          rssPeak: alone[c.id].rssPeak,
        },
        rounds: xs,
      };
    }
    const ratios = [];
    for (const p of BULK_PAIRS) {
      const a = per[p.ours];
      const b = per[p.raw];
      for (const dirn of ['write', 'read']) {
        const key = dirn === 'write' ? 'writeS' : 'readS';
        // throughput ratio ours/raw = time raw / time ours
        const value = median(a.map((x, i) => b[i][key] / x[key]));
        ratios.push({ name: `${p.name} ${dirn}: TempFile / raw fs (throughput)`, value, target: { min: THROUGHPUT_MIN }, pass: value >= THROUGHPUT_MIN });
      }
    }
    const rss = cases.map((c) => {
      const g = alone[c.id].rssGrowth;
      const ours = c.id.startsWith('tf');
      return { name: `RSS growth: ${c.label}`, value: g, target: ours ? { lt: RSS_LIMIT } : null, pass: ours ? g < RSS_LIMIT : null };
    });
    return { base, fs: fsType(base), rounds: BIG_ROUNDS, mib: MIB, sliceMiB: SLICE_CHUNKS, results, ratios, rss };
  } finally {
    scratch.remove(work, true);
  }
}

// --- part 3: line reading --------------------------------------------------------

const PY_LINES = `
import sys, time
p, mode = sys.argv[1], sys.argv[2]
f = open(p, mode) if mode == 'rb' else open(p, mode, encoding='utf-8')
with f:
    t = time.perf_counter()
    n = 0
    for line in f:
        n += 1
    t = time.perf_counter() - t
print(t, n)
`;

function pyLines(path_, mode) {
  const r = spawnSync(PYTHON_EXE, ['-c', PY_LINES, path_, mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  const [sec, n] = r.stdout.trim().split(' ');
  if (Number(n) !== LINES) throw new Error(`python3 read ${n} lines`);
  return Number(sec);
}

const secondsSince = (t) => Number(hr() - t) / 1e9;

async function benchLines(base) {
  const work = makeWorkDir(base);
  const text = st.NamedTemporaryFileSync({ dir: work, mode: 'w+' });
  const bin = st.TemporaryFileSync({ dir: work, mode: 'w+b' });
  try {
    const line = 'x'.repeat(79) + '\n';
    const block = line.repeat(1000);
    for (let i = 0; i < LINES; i += 1000) {
      const k = Math.min(1000, LINES - i);
      const s = k === 1000 ? block : line.repeat(k);
      text.writeSync(s);
      bin.writeSync(Buffer.from(s));
    }
    text.flushSync();
    bin.flushSync();
    const check = (n, what) => {
      if (n !== LINES) throw new Error(`${what} read ${n} lines`);
    };
    const cases = {
      sync: {
        label: 'TempFile text: for (const line of f)',
        run: async () => {
          text.seekSync(0);
          const t = hr();
          let n = 0;
          for (const _ of text) n++;
          const s = secondsSince(t);
          check(n, 'sync');
          return s;
        },
      },
      async: {
        label: 'TempFile text: for await (const line of f)',
        run: async () => {
          text.seekSync(0);
          const t = hr();
          let n = 0;
          for await (const _ of text) n++;
          const s = secondsSince(t);
          check(n, 'async');
          return s;
        },
      },
      readline: {
        label: 'readline over fs.createReadStream(path)',
        run: async () => {
          const t = hr();
          let n = 0;
          const rl = readline.createInterface({ input: fs.createReadStream(text.path), crlfDelay: Infinity });
          for await (const _ of rl) n++;
          const s = secondsSince(t);
          check(n, 'readline');
          return s;
        },
      },
      binSync: {
        label: 'TempFile binary: for (const line of f)',
        run: async () => {
          bin.seekSync(0);
          const t = hr();
          let n = 0;
          for (const _ of bin) n++;
          const s = secondsSince(t);
          check(n, 'binary sync');
          return s;
        },
      },
    };
    if (PYTHON !== null) {
      cases.python = { label: `Python ${PYTHON}: for line in open(path, encoding='utf-8')`, run: async () => pyLines(text.path, 'r') };
      cases.pythonBin = { label: `Python ${PYTHON}: for line in open(path, 'rb')`, run: async () => pyLines(text.path, 'rb') };
    }
    const names = Object.keys(cases);
    for (const k of names) await cases[k].run(); // warm-up
    const times = Object.fromEntries(names.map((k) => [k, []]));
    for (let r = 0; r < LINE_ROUNDS; r++) {
      for (let j = 0; j < names.length; j++) {
        const k = names[(j + r) % names.length];
        gc();
        times[k].push(await cases[k].run());
      }
    }
    const results = Object.fromEntries(
      names.map((k) => [k, { label: cases[k].label, median: median(times[k]), min: Math.min(...times[k]), max: Math.max(...times[k]) }]),
    );
    const ratio = (a, b) => (times[a] && times[b] ? median(times[a].map((x, i) => times[b][i] / x)) : null);
    const ratios = [
      { name: 'sync iteration: readline time / TempFile sync time', value: ratio('sync', 'readline'), target: { min: 3 } },
      { name: 'sync iteration: TempFile sync time / Python time', value: ratio('python', 'sync'), target: { max: 1.5 } },
      { name: 'async iteration: readline time / TempFile async time', value: ratio('async', 'readline'), target: { min: 1.5 } },
      { name: 'binary: TempFile sync time / Python rb time', value: ratio('pythonBin', 'binSync'), target: null },
    ].map((q) => ({
      ...q,
      pass: q.value === null || !q.target ? null : q.target.min !== undefined ? q.value >= q.target.min : q.value <= q.target.max,
    }));
    return { base, fs: fsType(base), lines: LINES, rounds: LINE_ROUNDS, results, ratios };
  } finally {
    text.closeSync();
    bin.closeSync();
    scratch.remove(work, true);
  }
}

function printLines(d) {
  const w = 60;
  const out = [''];
  out.push(`== line reading: ${d.lines.toLocaleString('en-US')} lines of 80 B, ${d.base} (${d.fs}) — ${d.rounds} rounds, after a warm-up ==`);
  out.push(`${'case'.padEnd(w)} ${'seconds'.padStart(8)} ${'ns/line'.padStart(9)}   min–max s`);
  for (const r of Object.values(d.results)) {
    out.push(
      `${r.label.padEnd(w)} ${r.median.toFixed(3).padStart(8)} ${((r.median / d.lines) * 1e9).toFixed(1).padStart(9)}   ${r.min.toFixed(3)}–${r.max.toFixed(3)}`,
    );
  }
  out.push(`${'ratio (median of per-round ratios)'.padEnd(w)} ${'value'.padStart(8)}   target`);
  for (const q of d.ratios) {
    const t = q.target ? (q.target.min !== undefined ? `≥ ${q.target.min}` : `≤ ${q.target.max}`) : '';
    const v = q.value === null ? 'n/a' : q.value.toFixed(2);
    out.push(`${q.name.padEnd(w)} ${v.padStart(8)}   ${t.padEnd(6)} ${verdict(q.pass)}`.trimEnd());
  }
  console.log(out.join('\n'));
}

// --- printing ------------------------------------------------------------------

const MiB = (x) => `${(x / 1048576).toFixed(1)} MiB`;

function verdict(p) {
  return p === null ? '' : p ? 'PASS' : 'MISS';
}

function printSmall(d) {
  const w = 60;
  const out = [''];
  out.push(
    `== small writes: ${d.writes.toLocaleString('en-US')} × ${SMALL} B per case per round, ${d.base} (${d.fs}) — ${d.rounds} rounds × ${d.slices} interleaved slices, after a warm-up ==`,
  );
  out.push(`${'case'.padEnd(w)} ${'seconds'.padStart(8)} ${'ns/write'.padStart(9)}   min–max s`);
  for (const r of Object.values(d.results)) {
    out.push(
      `${r.label.padEnd(w)} ${r.median.toFixed(3).padStart(8)} ${((r.median / d.writes) * 1e9).toFixed(1).padStart(9)}   ${r.min.toFixed(3)}–${r.max.toFixed(3)}`,
    );
  }
  for (const s of d.skipped) out.push(`(skipped: ${s.label}: ${s.reason})`);
  out.push(`${'ratio (median of per-round ratios)'.padEnd(w)} ${'value'.padStart(8)}   target`);
  for (const q of d.ratios) {
    const t = q.target ? (q.target.min !== undefined ? `≥ ${q.target.min}` : `≤ ${q.target.max}`) : '';
    const v = q.value === null ? 'n/a' : q.value.toFixed(2);
    out.push(`${q.name.padEnd(w)} ${v.padStart(8)}   ${t.padEnd(6)} ${verdict(q.pass)}${q.note ? ` (${q.note})` : ''}`.trimEnd());
  }
  console.log(out.join('\n'));
}

function printBulk(d) {
  const w = 52;
  const out = [''];
  out.push(
    `== bulk: ${d.mib} MiB in 1 MiB chunks, ${d.base} (${d.fs}) — ${d.rounds} round${d.rounds > 1 ? 's' : ''}; ` +
      `each pair side by side in ${d.sliceMiB} MiB slices, after each case ran once alone ==`,
  );
  out.push('   GB/s = 10^9 bytes/s; "alone": the single full-size run of the case (RSS pass, also the warm-up)');
  out.push(`${'case (pairs side by side)'.padEnd(w)} ${'write GB/s'.padStart(10)} ${'read GB/s'.padStart(10)}   min–max write / read   alone w / r`);
  for (const r of Object.values(d.results)) {
    out.push(
      `${r.label.padEnd(w)} ${r.writeGBs.toFixed(2).padStart(10)} ${r.readGBs.toFixed(2).padStart(10)}   ` +
        `${r.writeRange.map((x) => x.toFixed(2)).join('–')} / ${r.readRange.map((x) => x.toFixed(2)).join('–')}`.padEnd(24) +
        `${r.alone.writeGBs.toFixed(2)} / ${r.alone.readGBs.toFixed(2)}`,
    );
  }
  out.push(`${'ratio (median of per-round ratios)'.padEnd(w)} ${'value'.padStart(10)}   target`);
  for (const q of d.ratios) {
    out.push(`${q.name.padEnd(w)} ${q.value.toFixed(2).padStart(10)}   ≥ ${q.target.min}  ${verdict(q.pass)}`);
  }
  out.push('RSS growth = peak while the case ran alone − RSS before it (after gc); sampled every 16 chunks and 5 ms');
  for (const q of d.rss) {
    out.push(`${q.name.padEnd(w + 8)} ${MiB(q.value).padStart(10)}   ${q.target ? `< 64 MiB  ${verdict(q.pass)}` : ''}`.trimEnd());
  }
  console.log(out.join('\n'));
}

// --- the run ---------------------------------------------------------------------

const bases = ['/dev/shm', '/tmp'].filter((b) => {
  try {
    return fs.statSync(b).isDirectory();
  } catch {
    return false;
  }
});
const bulkBase = DIR_OPT ?? (bases.includes('/dev/shm') && freeBytes('/dev/shm') > 2 * MIB * CHUNK ? '/dev/shm' : '/tmp');

const t0 = Date.now();
if (!JSON_OUT) {
  console.log(
    `securetemp I/O benchmark — node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}, ` +
      `${os.cpus().length} CPUs${QUICK ? ', --quick' : ''}`,
  );
  console.log('Ratios are within this run only.');
}
const smallRuns = [];
let bulk = null;
if (!ONLY_LINES) {
  for (const b of bases) {
    const d = benchSmall(b);
    smallRuns.push(d);
    if (!JSON_OUT) printSmall(d);
  }
  bulk = await benchBulk(bulkBase);
  if (!JSON_OUT) printBulk(bulk);
}
const lines = await benchLines(DIR_OPT ?? '/tmp');
if (!JSON_OUT) printLines(lines);
const seconds = (Date.now() - t0) / 1000;

const misses = [
  ...smallRuns.flatMap((d) => d.ratios.filter((q) => q.pass === false).map((q) => `${d.base}: ${q.name}`)),
  ...(bulk ? [...bulk.ratios, ...bulk.rss] : []).filter((q) => q.pass === false).map((q) => `${bulk.base}: ${q.name}`),
  ...lines.ratios.filter((q) => q.pass === false).map((q) => `${lines.base}: ${q.name}`),
];
if (JSON_OUT) {
  console.log(
    JSON.stringify(
      {
        node: process.version,
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        cpus: os.cpus().length,
        python: PYTHON,
        quick: QUICK,
        seconds,
        leftovers: scratch.leftovers,
        small: smallRuns,
        bulk,
        lines,
        misses,
      },
      null,
      2,
    ),
  );
} else {
  console.log('');
  console.log(`done in ${seconds.toFixed(1)} s; ${scratch.leftovers === 0 ? 'nothing left behind' : `${scratch.leftovers} entries were left behind (removed)`}`);
  console.log(misses.length === 0 ? 'all targets met' : `targets missed (information only): ${misses.join('; ')}`);
}
