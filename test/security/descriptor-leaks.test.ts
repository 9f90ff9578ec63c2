// Attack class: descriptor leaks. A descriptor of a temp file (or of its directory) that
// reaches a child process, or outlives the worker thread that made it, hands the file to
// code that was never meant to have it. Every descriptor the package opens is O_CLOEXEC
// from the moment it exists (no window between open and fcntl(FD_CLOEXEC) for another
// thread's fork to fall into), and what a worker left open is closed when it exits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ls, scratch, tempfile } from '../_helpers';
import { childOpenTargets, isLinux, openTargets, parseStrace, portable, requireStrace, sw, type Syscall } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

// System calls that make a descriptor, and how each says close-on-exec.
const CLOEXEC: Record<string, (c: Syscall) => boolean> = {
  open: (c) => c.args.includes('O_CLOEXEC'),
  openat: (c) => c.args.includes('O_CLOEXEC'),
  openat2: (c) => c.args.includes('O_CLOEXEC'),
  creat: () => false,
  dup: () => false, // dup() never sets it
  dup2: () => false,
  dup3: (c) => c.args.includes('O_CLOEXEC'),
  fcntl: (c) => !/F_DUPFD\b/.test(c.args) && !/F_SETFD, 0\b/.test(c.args), // F_DUPFD_CLOEXEC is fine
  pipe: () => false,
  pipe2: (c) => c.args.includes('O_CLOEXEC'),
  socket: (c) => c.args.includes('SOCK_CLOEXEC'),
  socketpair: (c) => c.args.includes('SOCK_CLOEXEC'),
  accept: () => false,
  accept4: (c) => c.args.includes('SOCK_CLOEXEC'),
  eventfd2: (c) => c.args.includes('EFD_CLOEXEC'),
  epoll_create1: (c) => c.args.includes('EPOLL_CLOEXEC'),
  memfd_create: (c) => c.args.includes('MFD_CLOEXEC'),
  inotify_init1: (c) => c.args.includes('IN_CLOEXEC'),
};

describe.runIf(isLinux)('no descriptor can reach a child process', () => {
  it('every descriptor opened by every operation is O_CLOEXEC from its creation (strace audit of all threads)', () => {
    const strace = requireStrace();
    const work = path.join(s.dir, 'audit');
    fs.mkdirSync(work);
    const log = path.join(s.dir, 'audit.strace');
    const r = spawnSync(
      strace,
      ['-f', '-qq', '-o', log, '-e', `trace=${[...Object.keys(CLOEXEC), 'access'].join(',')}`, process.execPath, 'test/security/fixtures/every-operation.cjs', work],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('done\n');
    const calls = parseStrace(fs.readFileSync(log, 'utf8'));
    const begin = calls.findIndex((c) => c.name === 'access' && c.args.includes('/securetemp-audit-begin'));
    const end = calls.findIndex((c) => c.name === 'access' && c.args.includes('/securetemp-audit-end'));
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    const made = calls.slice(begin + 1, end).filter((c) => c.name in CLOEXEC && !c.ret.startsWith('-'));
    const leaky = made.filter((c) => !CLOEXEC[c.name]!(c)).map((c) => `${c.name}(${c.args}) = ${c.ret}`);
    expect(leaky).toEqual([]);
    // The audit saw the calls it is about (it would pass vacuously on an empty log).
    const seen = made.map((c) => `${c.name}(${c.args})`).join('\n');
    expect(seen).toMatch(/O_EXCL/); // mkstemp, the fallbacks
    expect(seen).toMatch(/"[^"]+", O_RDONLY.*O_NOFOLLOW.*O_DIRECTORY/); // tree removal
    expect(seen).toMatch(/F_DUPFD_CLOEXEC/); // reading a directory while removing it
    if (!portable) {
      expect(seen).toMatch(/O_TMPFILE/); // TemporaryFile, writeFileAtomic
      expect(seen).toMatch(/O_PATH.*O_DIRECTORY/); // directory handles
      expect(seen).toMatch(/\/proc\/self\/fd\/\d+/); // reopen
    }
  });

  it('while every kind of object is open, and in the middle of writeFileAtomic (temp file and directory handle open)', async () => {
    const dir = path.join(s.dir, 'open');
    fs.mkdirSync(dir);
    const held: { close(): unknown }[] = [];
    const fds: number[] = [];
    const mk = tempfile.mkstempSync({ dir });
    fds.push(mk.fd, (await tempfile.mkstemp({ dir })).fd);
    for (const fallback of [false, true]) {
      sw.forceNoTmpfile = fallback;
      const u = tempfile.TemporaryFileSync({ dir });
      held.push(u, await tempfile.TemporaryFile({ dir }));
      if (!fallback && !portable) held.push(u.reopenSync()); // through /proc/self/fd
    }
    sw.forceNoTmpfile = false;
    const n = tempfile.NamedTemporaryFileSync({ dir });
    const sp = tempfile.SpooledTemporaryFile({ dir });
    sp.rolloverSync();
    held.push(n, await n.reopen(), await tempfile.NamedTemporaryFile({ dir }), sp);
    const open = held.map((f) => (f as unknown as { fd: number }).fd).concat(fds);
    for (const fd of open) expect(fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)).toBe(true);
    expect(childOpenTargets().filter((t) => t.startsWith(s.dir))).toEqual([]);

    // writeFileAtomic between its write and its commit: a child spawned there sees nothing.
    const during: string[][] = [];
    sw.beforeAtomicCommit = (fd) => {
      expect(fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)).toBe(true);
      during.push(childOpenTargets().filter((t) => t.startsWith(s.dir)));
    };
    try {
      tempfile.writeFileAtomicSync(path.join(dir, 'atomic'), 'x');
      await tempfile.writeFileAtomic(path.join(dir, 'atomic'), 'y');
    } finally {
      sw.beforeAtomicCommit = null;
    }
    expect(during).toEqual([[], []]);
    for (const f of held) await f.close();
    for (const fd of fds) fs.closeSync(fd);
  });
});

/** Runs `code` in a worker thread (the package required there as `t`, `dir` given); resolves when it has ended. */
function inWorker(code: string, dir: string, terminate = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(
      `const t = require(${JSON.stringify(ROOT)}); const { workerData: dir, parentPort } = require('worker_threads');
       (async () => { ${code} })().then(() => parentPort.postMessage('made'), (e) => { throw e; });
       ${terminate ? 'setInterval(() => {}, 1000); // alive until terminated, not ending by itself first' : ''}`,
      { eval: true, workerData: dir },
    );
    w.on('message', () => {
      if (terminate) void w.terminate();
    });
    w.on('error', reject);
    w.on('exit', () => resolve());
  });
}

const MAKE_EVERYTHING = `
  const a = t.TemporaryFileSync({ dir });
  const b = await t.TemporaryFile({ dir });
  const n = t.NamedTemporaryFileSync({ dir, prefix: 'deleted-' });
  n.writeSync(Buffer.from('buffered, not yet written'));
  const r = n.reopenSync();
  const kept = t.NamedTemporaryFileSync({ dir, prefix: 'kept-', delete: false });
  kept.writeSync(Buffer.from('kept'));
  const sp = t.SpooledTemporaryFile({ dir });
  sp.writeSync(Buffer.from('spooled'));
  sp.rolloverSync();
  const d = t.TemporaryDirectorySync({ dir, prefix: 'dir-' });
  require('fs').writeFileSync(d.path + '/f', 'x');
  globalThis.keep = [a, b, r, n, kept, sp, d]; // nothing collected before the worker ends
`;

describe.runIf(isLinux)('worker threads share the descriptor table', () => {
  // Named delete files and directories are not removed at the worker's end: the rest of the
  // process may still use their paths (test/security/worker-handover.test.ts); the addon
  // removes them at the process's exit.
  it('what a worker left open is closed when it ends; named delete files and directories stay for the process exit', async () => {
    const dir = path.join(s.dir, 'worker-end');
    fs.mkdirSync(dir);
    await inWorker(MAKE_EVERYTHING, dir);
    sw.releaseIdleDirHandles(); // the handle table's idle handles (issue 12); held ones stay
    expect(openTargets().filter((t) => t.startsWith(dir))).toEqual([]);
    expect(ls(dir).map((n) => n.replace(/[a-z0-9]{12}$/, ''))).toEqual(['deleted-', 'dir-', 'kept-']);
    const kept = ls(dir).find((n) => n.startsWith('kept-'))!;
    expect(fs.readFileSync(path.join(dir, kept), 'utf8')).toBe('kept'); // flushed at close
  });

  it('the same when the worker calls process.exit()', async () => {
    const dir = path.join(s.dir, 'worker-exit');
    fs.mkdirSync(dir);
    await inWorker(`${MAKE_EVERYTHING}; process.exit(0);`, dir);
    sw.releaseIdleDirHandles();
    expect(openTargets().filter((t) => t.startsWith(dir))).toEqual([]);
    expect(ls(dir).map((n) => n.replace(/[a-z0-9]{12}$/, ''))).toEqual(['deleted-', 'dir-', 'kept-']);
  });

  it('worker.terminate() runs no JavaScript in the worker: its objects stay open and named ones stay (documented, like SIGKILL)', async () => {
    const dir = path.join(s.dir, 'worker-terminated');
    fs.mkdirSync(dir);
    await inWorker(MAKE_EVERYTHING, dir, true);
    const stale = openTargets().filter((t) => t.startsWith(dir));
    expect(stale.length).toBeGreaterThan(0);
    expect(ls(dir).map((n) => n.replace(/[a-z0-9]{12}$/, ''))).toEqual(['deleted-', 'dir-', 'kept-']);
    // Nothing in the package can reach these any more; close them so the test leaks nothing.
    for (const fd of fs.readdirSync('/proc/self/fd')) {
      try {
        if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) fs.closeSync(Number(fd));
      } catch {
        // gone meanwhile
      }
    }
  });
});
