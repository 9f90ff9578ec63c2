#!/usr/bin/env node
// Tree removal benchmark: TemporaryDirectory cleanup against fs.rmSync / fs.promises.rm,
// a C walk doing the same system calls as the addon, and Python's shutil.rmtree, on
// tmpfs (/dev/shm) and on the disk (/tmp).
//
//   node bench/cleanup.mjs            default run (well under 2 minutes)
//   node bench/cleanup.mjs --quick    a smoke test (a few seconds; 2,000 files)
//   node bench/cleanup.mjs --json     machine-readable results on stdout instead of tables
//   --rounds=N --files=N --dirs=N --bytes=N   override rounds, tree size, bytes per file
//
// Trees (built fresh before every removal; only the removal is timed):
//   flat: --files files spread over --dirs directories (default 10,000 in 100)
//   deep: the same number of files in a 10 × 10 × 10 tree of directories (1,110
//         directories, the files spread over the 1,000 at depth 3)
// Files are empty unless --bytes is given.
// Cases:
//   - TemporaryDirectorySync({dir}) … cleanupSync()
//   - await TemporaryDirectory cleanup() (the addon on the thread pool)
//   - fs.rmSync(p, {recursive: true, force: true})
//   - await fs.promises.rm(p, {recursive: true, force: true})
//   - a C walk: open the parent, then openat(O_NOFOLLOW|O_DIRECTORY) / fdopendir / readdir
//     (names first, then) unlinkat per entry, unlinkat(AT_REMOVEDIR) per directory, using
//     d_type to go straight to openat for directories. Written to a private temp dir,
//     compiled with `cc -O2` at start-up (skipped with a note when there is no compiler),
//     run once per removal, timed inside the program with clock_gettime (process start
//     not counted).
//   - Python's shutil.rmtree, timed inside Python with time.perf_counter (information).
//
// Method: each round runs every case once per tree shape, in a rotated order (builds
// interleaved with removals), after an untimed warm-up round. A case's figure is the
// median of its per-round figures; a ratio is the median over rounds of the ratio within
// the round. Compare figures only within one run.
//
// On ext4 without a journal (this machine's /tmp), creating an inode skips every inode of
// its block group freed in the last 60 s (360 s while the inode table block is dirty; see
// recently_deleted() in fs/ext4/ialloc.c), so building tree after tree in one directory
// gets slower and slower (0.2 s → 2 s per 10,000 files here after 30,000 removals). The
// private work directory under /tmp therefore gets `chattr +T` (ext4's "top of directory
// hierarchy" flag): each tree's root then goes to a new block group (Orlov allocator), as
// top-level directories do, and builds stay fast. The trees themselves are laid out as
// usual (subdirectories and files near their parent). Without chattr, a time budget caps
// the rounds instead.
//
// All work happens in a private 0o700 directory under each base, removed at the end,
// also on Ctrl-C. Targets are printed as PASS/MISS for information; the exit status does
// not depend on them.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fsType, median, workDirs } from './_common.mjs';

// --- options --------------------------------------------------------------

const argv = process.argv.slice(2);
const USAGE = 'usage: node bench/cleanup.mjs [--quick] [--json] [--rounds=N] [--files=N] [--dirs=N] [--bytes=N]';
for (const a of argv) {
  if (!/^--(quick|json|rounds=\d+|files=\d+|dirs=\d+|bytes=\d+)$/.test(a)) {
    console.error(`unknown argument: ${a}\n${USAGE}`);
    process.exit(2);
  }
}
const flag = (name) => argv.includes(name);
const numOpt = (name, dflt, min = 1) => {
  const a = argv.find((x) => x.startsWith(`${name}=`));
  if (a === undefined) return dflt;
  const n = Number(a.slice(name.length + 1));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`);
  return n;
};
const QUICK = flag('--quick');
const JSON_OUT = flag('--json');
const ROUNDS = numOpt('--rounds', QUICK ? 2 : 9);
const FILES = numOpt('--files', QUICK ? 2000 : 10000);
const DIRS = numOpt('--dirs', QUICK ? 20 : 100);
const BYTES = numOpt('--bytes', 0, 0);
const WARMUP = 1;
// Past this many seconds on one base, no new round is started once MIN_ROUNDS are done.
const BUDGET_S = QUICK ? 10 : 45;
const MIN_ROUNDS = Math.min(ROUNDS, QUICK ? 1 : 5);

const require = createRequire(import.meta.url);
const st = require('../dist/index.js');

const hr = () => process.hrtime.bigint();
const msSince = (t0) => Number(hr() - t0) / 1e6;



// --- private directories, removed at exit ------------------------------------

const scratch = workDirs();

// --- the C walk ------------------------------------------------------------------

const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void fail(const char *what, const char *name) {
  if (failures++ == 0) fprintf(stderr, "%s %s: %s\n", what, name, strerror(errno));
}

static void rm_entry(int dirfd, const char *name, int kind);

/* Empties the directory open as fd and closes it: names first, then removal (as the addon). */
static void rm_contents(int fd, const char *path) {
  DIR *d = fdopendir(fd);
  if (!d) {
    fail("fdopendir", path);
    close(fd);
    return;
  }
  size_t n = 0, cap = 0;
  char **names = NULL;
  unsigned char *kinds = NULL;
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d)) != NULL) {
    const char *s = e->d_name;
    if (s[0] == '.' && (s[1] == 0 || (s[1] == '.' && s[2] == 0))) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 128;
      names = realloc(names, cap * sizeof *names);
      kinds = realloc(kinds, cap);
      if (!names || !kinds) abort();
    }
    names[n] = strdup(s);
    kinds[n] = e->d_type == DT_DIR ? 1 : e->d_type == DT_UNKNOWN ? 2 : 0;
    n++;
  }
  if (errno) fail("readdir", path);
  for (size_t i = 0; i < n; i++) {
    rm_entry(dirfd(d), names[i], kinds[i]);
    free(names[i]);
  }
  free(names);
  free(kinds);
  closedir(d);
}

/* kind: 0 not a directory (unlink; a directory after all is handled), 1 directory, 2 unknown */
static void rm_entry(int dirfd, const char *name, int kind) {
  if (kind != 1) {
    if (unlinkat(dirfd, name, 0) == 0) return;
    if (errno != EISDIR && errno != EPERM) {
      fail("unlinkat", name);
      return;
    }
  }
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    fail("openat", name);
    return;
  }
  rm_contents(fd, name);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0) fail("rmdir", name);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH\n", argv[0]);
    return 2;
  }
  char *path = strdup(argv[1]);
  char *slash = strrchr(path, '/');
  if (!slash || slash == path || !slash[1]) {
    fprintf(stderr, "need an absolute path with a parent\n");
    return 2;
  }
  *slash = 0;
  const char *base = slash + 1;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int pfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) {
    fail("open", path);
    return 1;
  }
  rm_entry(pfd, base, 1);
  close(pfd);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.6f\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  return failures ? 1 : 0;
}
`;

/** Compiles the C walk in a private temp dir; returns { exe } or { skip: reason }. */
function buildCWalk() {
  const cc = process.env.CC || 'cc';
  const where = fs.mkdtempSync(path.join(os.tmpdir(), 'securetemp-bench-cc-'));
  scratch.add(where);
  const src = path.join(where, 'rmwalk.c');
  const exe = path.join(where, 'rmwalk');
  fs.writeFileSync(src, C_SOURCE);
  const r = spawnSync(cc, ['-O2', '-o', exe, src], { encoding: 'utf8' });
  if (r.error) return { skip: `no C compiler (${cc}: ${r.error.code})`, where };
  if (r.status !== 0) return { skip: `${cc} failed: ${r.stderr.trim().split('\n')[0]}`, where };
  return { exe, cc, where };
}

// --- Python --------------------------------------------------------------------------

const PY_RMTREE = `
import shutil, sys, time
t = time.perf_counter()
shutil.rmtree(sys.argv[1])
print((time.perf_counter() - t) * 1e3)
`;

// The interpreter itself, not a wrapper such as a pyenv shim (slow to start).
const [PYTHON, PYTHON_EXE] = (() => {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.version.split()[0]); print(sys.executable)'], {
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0) return [null, null];
  const [version, exe] = r.stdout.trim().split('\n');
  return [version, exe || 'python3'];
})();

// --- trees -----------------------------------------------------------------------------

const content = BYTES > 0 ? Buffer.alloc(BYTES, 0x61) : null;

function makeFile(p) {
  if (content) fs.writeFileSync(p, content, { mode: 0o600, flag: 'wx' });
  else fs.closeSync(fs.openSync(p, 'wx', 0o600));
}

/** Leaf directories get the files: `dirs` of them under the root (flat) or at depth 3 (deep). */
const SHAPES = {
  flat: {
    describe: () => `${FILES.toLocaleString('en-US')} files in ${DIRS} directories`,
    build(root) {
      for (let d = 0; d < DIRS; d++) {
        const dd = path.join(root, `d${d}`);
        fs.mkdirSync(dd);
        const lo = Math.floor((d * FILES) / DIRS);
        const hi = Math.floor(((d + 1) * FILES) / DIRS);
        for (let f = lo; f < hi; f++) makeFile(path.join(dd, `f${f}`));
      }
    },
  },
  deep: {
    describe: () => `${FILES.toLocaleString('en-US')} files in a 10×10×10 tree (1,110 directories)`,
    build(root) {
      let leaf = 0;
      for (let a = 0; a < 10; a++) {
        const da = path.join(root, `a${a}`);
        fs.mkdirSync(da);
        for (let b = 0; b < 10; b++) {
          const db = path.join(da, `b${b}`);
          fs.mkdirSync(db);
          for (let c = 0; c < 10; c++, leaf++) {
            const dc = path.join(db, `c${c}`);
            fs.mkdirSync(dc);
            const lo = Math.floor((leaf * FILES) / 1000);
            const hi = Math.floor(((leaf + 1) * FILES) / 1000);
            for (let f = lo; f < hi; f++) makeFile(path.join(dc, `f${f}`));
          }
        }
      }
    },
  },
};

// --- cases -----------------------------------------------------------------------------

/**
 * make(work) → { path, remove() → ms (or a Promise of it) }. The tree is built into `path`
 * between the two; remove() must leave nothing behind.
 */
function makeCases(cwalk) {
  const plain = (work) => fs.mkdtempSync(path.join(work, 'tree-'));
  return {
    ours: {
      label: 'TemporaryDirectorySync … cleanupSync()',
      make(work) {
        const td = st.TemporaryDirectorySync({ dir: work });
        return {
          path: td.path,
          remove() {
            const t0 = hr();
            td.cleanupSync();
            return msSince(t0);
          },
        };
      },
    },
    oursAsync: {
      label: 'await TemporaryDirectory … cleanup()',
      make(work) {
        const td = st.TemporaryDirectorySync({ dir: work });
        return {
          path: td.path,
          async remove() {
            const t0 = hr();
            await td.cleanup();
            return msSince(t0);
          },
        };
      },
    },
    rmSync: {
      label: 'fs.rmSync(p, {recursive, force})',
      make(work) {
        const p = plain(work);
        return {
          path: p,
          remove() {
            const t0 = hr();
            fs.rmSync(p, { recursive: true, force: true });
            return msSince(t0);
          },
        };
      },
    },
    rmAsync: {
      label: 'await fs.promises.rm(p, {recursive, force})',
      make(work) {
        const p = plain(work);
        return {
          path: p,
          async remove() {
            const t0 = hr();
            await fsp.rm(p, { recursive: true, force: true });
            return msSince(t0);
          },
        };
      },
    },
    cwalk: {
      label: `C walk (${cwalk.cc ?? 'cc'} -O2; openat/fdopendir/unlinkat), timed in C`,
      skip: cwalk.skip ?? null,
      make(work) {
        const p = plain(work);
        return {
          path: p,
          remove() {
            const r = spawnSync(cwalk.exe, [p], { encoding: 'utf8' });
            if (r.status !== 0) throw new Error(`C walk failed: ${r.stderr || r.error}`);
            return Number(r.stdout.trim());
          },
        };
      },
    },
    py: {
      label: `Python ${PYTHON ?? ''} shutil.rmtree, timed in Python`,
      skip: PYTHON === null ? 'python3 not found' : null,
      make(work) {
        const p = plain(work);
        return {
          path: p,
          remove() {
            const r = spawnSync(PYTHON_EXE, ['-c', PY_RMTREE, p], { encoding: 'utf8' });
            if (r.status !== 0) throw new Error(`shutil.rmtree failed: ${r.stderr}`);
            return Number(r.stdout.trim());
          },
        };
      },
    },
  };
}

// Ratios of times (num/den); target { min } or { max }; fs: only on tmpfs, or only on disk.
// Targets apply to the flat tree (the issue's 10,000 files in 100 directories).
const RATIOS = [
  { name: 'fs.rmSync / cleanupSync', num: 'rmSync', den: 'ours', target: { min: 1.7 }, fs: 'tmpfs' },
  { name: 'fs.rmSync / cleanupSync', num: 'rmSync', den: 'ours', target: { min: 1.3 }, fs: 'disk' },
  { name: 'cleanupSync / C walk', num: 'ours', den: 'cwalk', target: { max: 1.2 } },
  { name: 'fs.promises.rm / cleanup()', num: 'rmAsync', den: 'oursAsync' },
  { name: 'cleanup() / cleanupSync', num: 'oursAsync', den: 'ours' },
  { name: 'shutil.rmtree / cleanupSync', num: 'py', den: 'ours' },
];

// --- the run ---------------------------------------------------------------------------

async function removeOnce(c, shape, work) {
  const h = c.make(work);
  SHAPES[shape].build(h.path);
  const ms = await h.remove();
  if (fs.existsSync(h.path)) throw new Error(`${c.label}: ${h.path} still exists after removal`);
  return ms;
}

async function benchBase(base, allCases) {
  const work = fs.mkdtempSync(path.join(base, 'securetemp-bench-cleanup-'));
  scratch.add(work);
  fs.chmodSync(work, 0o700);
  const kind = fsType(base);
  let topdir = null;
  if (kind === 'ext4') {
    const r = spawnSync('chattr', ['+T', work], { encoding: 'utf8' });
    topdir = r.status === 0 ? 'chattr +T on the work directory' : `chattr +T failed (${(r.stderr || r.error?.code || '').toString().trim()}); time budget only`;
  }
  try {
    const cases = Object.entries(allCases)
      .filter(([, c]) => !c.skip)
      .map(([id, c]) => ({ id, ...c }));
    // Sanity: each case removes a small tree of each shape completely.
    for (const c of cases) {
      for (const shape of Object.keys(SHAPES)) {
        const h = c.make(work);
        fs.mkdirSync(path.join(h.path, 'x', 'y'), { recursive: true });
        makeFile(path.join(h.path, 'x', 'y', 'f'));
        makeFile(path.join(h.path, 'g'));
        fs.symlinkSync('/', path.join(h.path, 'x', 'link-out')); // must be unlinked, not followed
        await h.remove();
        if (fs.existsSync(h.path)) throw new Error(`${c.label}: sanity tree left behind (${shape})`);
      }
    }
    const per = {};
    for (const shape of Object.keys(SHAPES)) per[shape] = Object.fromEntries(cases.map((c) => [c.id, []]));
    const began = Date.now();
    let pass = 0;
    let rounds = 0;
    for (let r = -WARMUP; r < ROUNDS; r++) {
      if (r >= MIN_ROUNDS && Date.now() - began > BUDGET_S * 1000) break;
      for (const shape of Object.keys(SHAPES)) {
        const start = pass++ % cases.length;
        for (let k = 0; k < cases.length; k++) {
          const c = cases[(start + k) % cases.length];
          const ms = await removeOnce(c, shape, work);
          if (r >= 0) per[shape][c.id].push(ms);
        }
      }
      if (r >= 0) rounds++;
    }
    const shapes = {};
    for (const shape of Object.keys(SHAPES)) {
      const results = {};
      for (const c of cases) {
        const xs = per[shape][c.id];
        results[c.id] = { label: c.label, median: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs };
      }
      const ratios = [];
      for (const q of RATIOS) {
        if (q.fs !== undefined && (q.fs === 'tmpfs') !== (kind === 'tmpfs')) continue;
        const a = per[shape][q.num];
        const b = per[shape][q.den];
        if (!a || !b) {
          ratios.push({ name: q.name, value: null, target: null, pass: null, note: 'case skipped' });
          continue;
        }
        const value = median(a.map((x, i) => x / b[i]));
        const target = shape === 'flat' ? q.target ?? null : null;
        let pass = null;
        if (target) pass = target.min !== undefined ? value >= target.min : value <= target.max;
        ratios.push({ name: q.name, value, target, pass });
      }
      shapes[shape] = { describe: SHAPES[shape].describe(), results, ratios };
    }
    const skipped = Object.entries(allCases)
      .filter(([, c]) => c.skip)
      .map(([id, c]) => ({ id, label: c.label, reason: c.skip }));
    return { base, fs: kind, topdir, rounds, seconds: (Date.now() - began) / 1000, shapes, skipped };
  } finally {
    scratch.remove(work, true);
  }
}

function printBase(d) {
  const w = 58;
  const out = [''];
  out.push(
    `== ${d.base} (${d.fs}) — ${d.rounds} rounds${d.rounds < ROUNDS ? ` (of ${ROUNDS}: time budget reached)` : ''}, ` +
      `every case once per shape per round, rotated order, after ${WARMUP} warm-up round ==`,
  );
  if (d.topdir) out.push(`   (${d.topdir}: keeps tree building fast despite recent deletions; see the header)`);
  for (const s of d.skipped) out.push(`   skipped: ${s.label}: ${s.reason}`);
  for (const [shape, x] of Object.entries(d.shapes)) {
    out.push(`-- ${shape}: ${x.describe}${BYTES ? `, ${BYTES} bytes each` : ', empty'}`);
    out.push(`${'removal'.padEnd(w)} ${'ms'.padStart(8)}   min–max`);
    for (const r of Object.values(x.results)) {
      out.push(`${r.label.padEnd(w)} ${r.median.toFixed(1).padStart(8)}   ${r.min.toFixed(1)}–${r.max.toFixed(1)}`);
    }
    out.push(`${'ratio of times (median of per-round ratios)'.padEnd(w)} ${'value'.padStart(8)}   target`);
    for (const q of x.ratios) {
      const t = q.target ? (q.target.min !== undefined ? `≥ ${q.target.min}` : `≤ ${q.target.max}`) : '';
      const p = q.pass === null ? '' : q.pass ? 'PASS' : 'MISS';
      const v = q.value === null ? 'n/a' : q.value.toFixed(2);
      out.push(`${q.name.padEnd(w)} ${v.padStart(8)}   ${t.padEnd(6)} ${p}${q.note ? ` (${q.note})` : ''}`.trimEnd());
    }
  }
  console.log(out.join('\n'));
}

const t0 = Date.now();
const cwalk = buildCWalk();
const CASES = makeCases(cwalk);
if (!JSON_OUT) {
  console.log(
    `securetemp cleanup benchmark — node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}, ` +
      `${os.cpus().length} CPUs${QUICK ? ', --quick' : ''}`,
  );
  console.log('Times in ms, lower is better; ratios are within this run only.');
}
const bases = ['/dev/shm', '/tmp'].filter((b) => {
  try {
    return fs.statSync(b).isDirectory();
  } catch {
    return false;
  }
});
const results = [];
try {
  for (const b of bases) {
    const d = await benchBase(b, CASES);
    results.push(d);
    if (!JSON_OUT) printBase(d);
  }
} finally {
  scratch.remove(cwalk.where, false);
}
const seconds = (Date.now() - t0) / 1000;
const misses = results.flatMap((d) =>
  Object.entries(d.shapes).flatMap(([shape, x]) => x.ratios.filter((q) => q.pass === false).map((q) => `${d.base} ${shape}: ${q.name}`)),
);
if (JSON_OUT) {
  console.log(
    JSON.stringify(
      {
        node: process.version,
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        cpus: os.cpus().length,
        python: PYTHON,
        quick: QUICK,
        files: FILES,
        dirs: DIRS,
        bytes: BYTES,
        maxRounds: ROUNDS,
        seconds,
        leftovers: scratch.leftovers,
        bases: results,
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
