// Attack class: resource exhaustion in the middle of an operation. Another local user (or a
// leak elsewhere in the process) can use up descriptors, blocks or inodes, or the file system
// can turn read-only. Every operation then fails with the system's error (EMFILE, ENOSPC,
// EROFS: code, syscall, path), leaves no descriptor open and nothing half-made on disk: a
// creation that fails leaves no file, a writeFileAtomic that fails leaves the old file and no
// temp file, and space taken by temp files comes back when they are closed.
// EDQUOT is not tested: this machine's tmpfs has no quota support and the suite mounts no
// other file system; it takes the same paths as ENOSPC.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isLinux, ls, runNode, scratch, tempfile } from '../_helpers';
import { mountTmpfs } from '../_mount';
import { openTargets, sw } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

type Outcome = 'ok' | { code: string; syscall: string; path: string; message: string };
interface Attempt {
  free: number;
  outcome: Outcome;
  made: string[];
  gone: string[];
  targetNow: string;
  open: number;
}

const NO_DESCRIPTOR = new Set(['mkdtempSync', 'mkdtemp']);

describe.runIf(isLinux)('EMFILE: descriptors used up (ulimit -n 48, then all but 0…12 taken)', () => {
  let report: { baseline: number; results: Record<string, Attempt[]> };
  beforeAll(() => {
    const dir = path.join(s.dir, 'emfile');
    fs.mkdirSync(dir);
    const r = spawnSync('/bin/sh', ['-c', 'ulimit -n 48; exec "$0" "$@"', process.execPath, 'test/security/fixtures/exhaust-fds.cjs', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    report = JSON.parse(r.stdout);
  });

  it('every operation either works or throws EMFILE naming its system call and path', () => {
    const ops = Object.keys(report.results);
    expect(ops.length).toBeGreaterThanOrEqual(17);
    for (const op of ops) {
      const tries = report.results[op]!;
      // None works with no descriptor, but a directory made where a live object already holds
      // the directory's handle (issue 12: `named` holds the handle of `dir`) needs none.
      const first = NO_DESCRIPTOR.has(op) ? 'ok' : 'EMFILE';
      expect({ op, first: tries[0]!.outcome === 'ok' ? 'ok' : (tries[0]!.outcome as { code: string }).code }).toEqual({ op, first });
      expect({ op, last: tries[tries.length - 1]!.outcome }).toEqual({ op, last: 'ok' }); // all work with 12
      let worked = false;
      for (const t of tries) {
        if (t.outcome === 'ok') worked = true;
        else {
          expect({ op, free: t.free, worked }).toEqual({ op, free: t.free, worked: false }); // more descriptors never make it fail
          expect(t.outcome.code).toBe('EMFILE');
          expect(t.outcome.message).toMatch(/^EMFILE: too many open files, \w+ '\/.+'$/);
          expect(typeof t.outcome.syscall).toBe('string');
          // The path of the object, or (reopen on Linux) of the descriptor it reopens.
          expect({ op, path: t.outcome.path.startsWith(s.dir) || t.outcome.path.startsWith('/proc/self/fd/') }).toEqual({ op, path: true });
        }
      }
    }
  });

  it('no descriptor stays open after any outcome', () => {
    for (const [op, tries] of Object.entries(report.results)) {
      for (const t of tries) expect({ op, free: t.free, open: t.open }).toEqual({ op, free: t.free, open: report.baseline });
    }
  });

  it('a failed creation leaves nothing; a successful one exactly its object; writeFileAtomic: old or new, no temp file', () => {
    const keeps = new Set(['mkstempSync', 'mkstemp', 'mkdtempSync', 'mkdtemp', 'NamedTemporaryFileSync', 'NamedTemporaryFile', 'TemporaryDirectorySync']);
    for (const [op, tries] of Object.entries(report.results)) {
      for (const t of tries) {
        const ok = t.outcome === 'ok';
        const made = keeps.has(op) && ok ? 1 : 0;
        expect({ op, free: t.free, made: t.made.length }).toEqual({ op, free: t.free, made });
        if (op.startsWith('writeFileAtomic')) expect({ op, free: t.free, target: t.targetNow }).toEqual({ op, free: t.free, target: ok ? 'new' : 'old' });
        // A tree whose removal failed is still there (removal needs one descriptor per level:
        // documented); one that was removed is gone.
        if (op.includes('7 levels')) expect({ op, free: t.free, gone: t.gone.length }).toEqual({ op, free: t.free, gone: ok ? 1 : 0 });
      }
    }
  });
});

describe.runIf(isLinux)('ENOSPC on a small tmpfs (mounted by the test)', () => {
  let mnt: string;
  let unmount: () => void;
  beforeAll(() => {
    mnt = path.join(s.dir, 'full');
    unmount = mountTmpfs(mnt, '256k,nr_inodes=32'); // tmpfs options after size= (see _mount.ts)
  });
  afterAll(() => unmount());

  // What objects hold open there: the directory handle table's idle handles (issue 12) closed first.
  const ours = () => {
    sw.releaseIdleDirHandles();
    return openTargets().filter((p) => p.startsWith(mnt));
  };

  it('no inode left: every creator fails with ENOSPC, nothing created, no descriptor left open', async () => {
    const fillers = path.join(mnt, 'fillers');
    fs.mkdirSync(fillers);
    let i = 0;
    try {
      for (;;) fs.writeFileSync(path.join(fillers, `f${i++}`), '');
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const before = ls(mnt);
    const creators: [string, () => unknown][] = [
      ['mkstempSync', () => tempfile.mkstempSync({ dir: mnt })],
      ['mkstemp', () => tempfile.mkstemp({ dir: mnt })],
      ['mkdtempSync', () => tempfile.mkdtempSync({ dir: mnt })],
      ['mkdtemp', () => tempfile.mkdtemp({ dir: mnt })],
      ['NamedTemporaryFileSync', () => tempfile.NamedTemporaryFileSync({ dir: mnt })],
      ['NamedTemporaryFile', () => tempfile.NamedTemporaryFile({ dir: mnt })],
      ['TemporaryDirectorySync', () => tempfile.TemporaryDirectorySync({ dir: mnt })],
      ['TemporaryDirectory', () => tempfile.TemporaryDirectory({ dir: mnt })],
      ['TemporaryFileSync', () => tempfile.TemporaryFileSync({ dir: mnt })],
      ['TemporaryFile', () => tempfile.TemporaryFile({ dir: mnt })],
      ['TemporaryFileSync (create-then-unlink)', () => { sw.forceNoTmpfile = true; try { return tempfile.TemporaryFileSync({ dir: mnt }); } finally { sw.forceNoTmpfile = false; } }],
      ['writeFileAtomicSync', () => tempfile.writeFileAtomicSync(path.join(mnt, 'new-target'), 'x')],
      ['writeFileAtomic (O_EXCL temp)', () => { sw.forceNoTmpfile = true; try { return tempfile.writeFileAtomic(path.join(mnt, 'new-target'), 'x'); } finally { sw.forceNoTmpfile = false; } }],
    ];
    const wrong: string[] = [];
    for (const [name, make] of creators) {
      try {
        await make();
        wrong.push(`${name}: worked`);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== 'ENOSPC' || !err.syscall || !err.message.startsWith('ENOSPC: no space left on device')) wrong.push(`${name}: ${err.code} ${err.message}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(ls(mnt)).toEqual(before);
    expect(ours()).toEqual([]);
    fs.rmSync(fillers, { recursive: true });
  });

  it('no block left while writing: ENOSPC at write or close, and closing gives every block back', () => {
    const free = fs.statfsSync(mnt).bfree;
    const big = Buffer.alloc(512 * 1024, 'x'); // twice the file system
    for (const [name, make] of [
      ['NamedTemporaryFileSync', () => tempfile.NamedTemporaryFileSync({ dir: mnt })],
      ['TemporaryFileSync', () => tempfile.TemporaryFileSync({ dir: mnt })],
      ['TemporaryFileSync, unbuffered', () => tempfile.TemporaryFileSync({ dir: mnt, bufsize: 0 })],
    ] as const) {
      const f = make();
      let code: string | undefined;
      try {
        f.writeSync(big);
        f.flushSync();
      } catch (e) {
        code = (e as NodeJS.ErrnoException).code;
      }
      expect({ name, code }).toEqual({ name, code: 'ENOSPC' });
      // close() flushes again and fails again, yet the descriptor is closed and the file removed.
      try {
        f.closeSync();
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      expect(f.closed).toBe(true);
      expect(ls(mnt)).toEqual([]);
      expect(ours()).toEqual([]);
      expect(fs.statfsSync(mnt).bfree).toBe(free);
    }
  });

  it('SpooledTemporaryFile whose rollover does not fit: ENOSPC, its data still in memory, nothing left on disk', () => {
    const f = tempfile.SpooledTemporaryFile({ dir: mnt });
    f.writeSync(Buffer.alloc(512 * 1024, 's'));
    expect(() => f.rolloverSync()).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(f.rolledOver).toBe(false);
    expect(ls(mnt)).toEqual([]);
    expect(ours()).toEqual([]);
    f.seekSync(0);
    expect(f.readSync(3).toString()).toBe('sss');
    f.closeSync();
  });
});

describe.runIf(isLinux)('EROFS: the file system turned read-only', () => {
  let mnt: string;
  let unmount: () => void;
  let dirObj: ReturnType<typeof tempfile.TemporaryDirectorySync>;
  beforeAll(() => {
    mnt = path.join(s.dir, 'ro');
    unmount = mountTmpfs(mnt, '1m');
    fs.writeFileSync(path.join(mnt, 'target'), 'old');
    dirObj = tempfile.TemporaryDirectorySync({ dir: mnt, prefix: 'made-before-' });
    fs.writeFileSync(path.join(dirObj.path, 'inside'), 'x');
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
  });
  afterAll(() => {
    execFileSync('mount', ['-o', 'remount,rw', mnt]);
    unmount();
  });

  it('every creator and writeFileAtomic: EROFS, nothing changed', async () => {
    const before = ls(mnt);
    const wrong: string[] = [];
    for (const [name, make] of [
      ['mkstempSync', () => tempfile.mkstempSync({ dir: mnt })],
      ['mkdtemp', () => tempfile.mkdtemp({ dir: mnt })],
      ['NamedTemporaryFileSync', () => tempfile.NamedTemporaryFileSync({ dir: mnt })],
      ['TemporaryDirectory', () => tempfile.TemporaryDirectory({ dir: mnt })],
      ['TemporaryFileSync', () => tempfile.TemporaryFileSync({ dir: mnt })],
      ['TemporaryFile', () => tempfile.TemporaryFile({ dir: mnt })],
      ['writeFileAtomicSync', () => tempfile.writeFileAtomicSync(path.join(mnt, 'target'), 'new')],
      ['writeFileAtomic (O_EXCL temp)', () => { sw.forceNoTmpfile = true; try { return tempfile.writeFileAtomic(path.join(mnt, 'target'), 'new'); } finally { sw.forceNoTmpfile = false; } }],
    ] as const) {
      try {
        await make();
        wrong.push(`${name}: worked`);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== 'EROFS' || !err.path?.startsWith(mnt)) wrong.push(`${name}: ${err.code} ${err.path}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(ls(mnt)).toEqual(before);
    expect(fs.readFileSync(path.join(mnt, 'target'), 'utf8')).toBe('old');
    // Only what the live directory made before holds (issue 12): its parent's handle and its own.
    sw.releaseIdleDirHandles();
    expect(openTargets().filter((p) => p.startsWith(mnt)).sort()).toEqual([mnt, dirObj.path].sort());
  });

  it('cleanup() of a directory made before: EROFS reported (not swallowed), everything left as it was', () => {
    expect(() => dirObj.cleanupSync()).toThrow(expect.objectContaining({ code: 'EROFS', syscall: 'unlink' }));
    expect(ls(dirObj.path)).toEqual(['inside']);
  });

  it('gettempdir() skips a read-only TMPDIR', () => {
    const r = runNode(`console.log(require('securetemp').gettempdir())`, { env: { ...process.env, TMPDIR: mnt, TEMP: '', TMP: '' } });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('/tmp');
  });
});
