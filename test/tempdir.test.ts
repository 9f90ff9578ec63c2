// TemporaryDirectory: removal that never follows a link out of the directory, survives
// hostile trees and a directory swapped for a symlink mid-removal, and reports errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fork } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isRoot, ls, runNode, scratch, tempfile } from './_helpers';

let s: ReturnType<typeof scratch>;
let outside: string;
beforeAll(() => {
  s = scratch();
  outside = path.join(s.dir, 'outside');
  fs.mkdirSync(path.join(outside, 'deep'), { recursive: true });
  for (const n of ['a', 'b', 'deep/c']) fs.writeFileSync(path.join(outside, n), n);
});
afterAll(() => s.remove());

function outsideIntact(): void {
  expect(fs.readFileSync(path.join(outside, 'a'), 'utf8')).toBe('a');
  expect(fs.readFileSync(path.join(outside, 'b'), 'utf8')).toBe('b');
  expect(fs.readFileSync(path.join(outside, 'deep/c'), 'utf8')).toBe('deep/c');
}

function hostileTree(root: string): void {
  fs.mkdirSync(path.join(root, 'x/y/z'), { recursive: true });
  fs.writeFileSync(path.join(root, 'x/y/z/f'), '1');
  fs.writeFileSync(path.join(root, 'x/ro-file'), '1', { mode: 0o400 });
  fs.symlinkSync(outside, path.join(root, 'link-to-dir'));
  fs.symlinkSync(path.join(outside, 'a'), path.join(root, 'x/link-to-file'));
  fs.symlinkSync(path.join(root, 'missing'), path.join(root, 'dangling'));
  fs.mkdirSync(path.join(root, 'ro-dir'));
  fs.writeFileSync(path.join(root, 'ro-dir/f'), '1');
  fs.chmodSync(path.join(root, 'ro-dir'), 0o500);
  fs.mkdirSync(path.join(root, 'no-access/inner'), { recursive: true });
  fs.writeFileSync(path.join(root, 'no-access/inner/f'), '1');
  fs.chmodSync(path.join(root, 'no-access/inner'), 0o000);
  fs.chmodSync(path.join(root, 'no-access'), 0o000);
}

describe('TemporaryDirectory', () => {
  it('creates a private directory and removes it with cleanupSync(); a second call does nothing', () => {
    const d = tempfile.TemporaryDirectorySync({ dir: s.dir, prefix: 'td-' });
    expect(path.basename(d.path)).toMatch(/^td-[a-z0-9]{12}$/);
    expect(fs.statSync(d.path).mode & 0o777).toBe(0o700 & ~process.umask());
    expect(d.name).toBe(d.path);
    expect(String(d)).toBe(d.path);
    hostileTree(d.path);
    d.cleanupSync();
    expect(fs.existsSync(d.path)).toBe(false);
    expect(d.cleaned).toBe(true);
    d.cleanupSync();
    outsideIntact();
  });

  it('async cleanup(), and dispose', async () => {
    const d = await tempfile.TemporaryDirectory({ dir: s.dir });
    hostileTree(d.path);
    await d.cleanup();
    await d.cleanup();
    expect(fs.existsSync(d.path)).toBe(false);
    const e = tempfile.TemporaryDirectorySync({ dir: s.dir });
    e[Symbol.dispose]();
    expect(fs.existsSync(e.path)).toBe(false);
    const f = await tempfile.TemporaryDirectory({ dir: s.dir });
    await f[Symbol.asyncDispose]();
    expect(fs.existsSync(f.path)).toBe(false);
    outsideIntact();
  });

  it('delete: false is left by dispose, but cleanup() still removes it', () => {
    const d = tempfile.TemporaryDirectorySync({ dir: s.dir, delete: false });
    d[Symbol.dispose]();
    expect(fs.existsSync(d.path)).toBe(true);
    d.cleanupSync();
    expect(fs.existsSync(d.path)).toBe(false);
  });

  it('a directory already removed is not an error', async () => {
    const d = tempfile.TemporaryDirectorySync({ dir: s.dir });
    fs.rmdirSync(d.path);
    d.cleanupSync();
    const e = await tempfile.TemporaryDirectory({ dir: s.dir });
    fs.rmdirSync(e.path);
    await e.cleanup();
  });

  it('the root swapped for a symlink: neither the link (not ours) nor its target is touched', () => {
    // Issue 12: the directory is removed through its parent's handle only while the name
    // leads to it (device and inode); before, the link was unlinked by path.
    const d = tempfile.TemporaryDirectorySync({ dir: s.dir });
    fs.rmdirSync(d.path);
    fs.symlinkSync(outside, d.path);
    d.cleanupSync();
    expect(fs.lstatSync(d.path).isSymbolicLink()).toBe(true);
    outsideIntact();
    fs.unlinkSync(d.path);
  });

  it('cannot be constructed directly (it would remove any path given)', () => {
    expect(() => new (tempfile.TempDir as unknown as new (...a: unknown[]) => unknown)('/', false, false)).toThrow(
      expect.objectContaining({ code: 'ERR_ILLEGAL_CONSTRUCTOR' }),
    );
  });

  it('checks its options', () => {
    expect(() => tempfile.TemporaryDirectorySync({ dir: s.dir, delete: 1 as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => tempfile.TemporaryDirectorySync({ dir: s.dir, ignoreCleanupErrors: 'no' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => tempfile.TemporaryDirectorySync({ dir: s.dir, prefix: '../' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  // Root is never denied, so the permission-restoring path only runs for another user.
  // Needs root to switch to 'nobody' (CI runs as root).
  it.runIf(isRoot)('as an ordinary user: read-only and 0000 subdirectories are removed (permissions restored via handles)', () => {
    const r = runNode(
      `const fs = require('fs'), path = require('path');
       const t = require('securetemp');
       // loaded as root: the checkout may not be readable by nobody
       process.setgid(65534); process.setuid(65534);
       const d = t.TemporaryDirectorySync({ dir: require('os').tmpdir() });
       fs.mkdirSync(path.join(d.path, 'ro/inner'), { recursive: true });
       fs.writeFileSync(path.join(d.path, 'ro/inner/f'), '1');
       fs.chmodSync(path.join(d.path, 'ro/inner'), 0o500);
       fs.chmodSync(path.join(d.path, 'ro'), 0o000);
       fs.mkdirSync(path.join(d.path, 'locked'));
       fs.writeFileSync(path.join(d.path, 'locked/f'), '1');
       fs.chmodSync(path.join(d.path, 'locked'), 0o000);
       let denied = false;
       try { fs.readdirSync(path.join(d.path, 'locked')); } catch (e) { denied = e.code === 'EACCES'; }
       d.cleanupSync();
       console.log(JSON.stringify({ denied, exists: fs.existsSync(d.path) }));`,
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ denied: true, exists: false });
  });

  it.runIf(isRoot)('removes everything it can, then throws the first error (ignoreCleanupErrors: false)', () => {
    // A subdirectory owned by root inside a directory of 'nobody': nobody cannot empty it.
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'securetemp-perm-'));
    fs.chmodSync(base, 0o755);
    const r = runNode(
      `const fs = require('fs'), path = require('path');
       const { adoptDir } = require('./dist/_internals.js');
       const base = ${JSON.stringify(base)};
       const mk = (ignore) => {
         const d = path.join(base, 'd' + ignore);
         fs.mkdirSync(d); fs.chownSync(d, 65534, 65534);
         for (const n of ['a', 'z']) { fs.writeFileSync(path.join(d, n), n); fs.chownSync(path.join(d, n), 65534, 65534); }
         fs.mkdirSync(path.join(d, 'rootdir'), { mode: 0o755 });
         fs.writeFileSync(path.join(d, 'rootdir/x'), 'x');
         return d;
       };
       const d0 = mk(false), d1 = mk(true);
       process.setgid(65534); process.setuid(65534);
       const out = {};
       // TempDir objects for existing paths (an internal switch: the constructor is closed).
       const dir0 = adoptDir(d0, false, false);
       try { dir0.cleanupSync(); out.threw = false; } catch (e) { out.threw = true; out.err = { code: e.code, syscall: e.syscall, path: e.path, errors: e.errors }; }
       out.left0 = fs.readdirSync(d0).sort();
       const dir1 = adoptDir(d1, true, false);
       dir1.cleanupSync();
       out.left1 = fs.readdirSync(d1).sort();
       console.log(JSON.stringify(out));`,
    );
    fs.rmSync(base, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.threw).toBe(true);
    expect(out.err).toMatchObject({ code: 'EACCES', syscall: 'unlink', path: path.join(base, 'dfalse/rootdir/x') });
    expect(out.err.errors).toBeGreaterThanOrEqual(1);
    expect(out.left0).toEqual(['rootdir']); // a and z removed despite the failure
    expect(out.left1).toEqual(['rootdir']); // same, silently
  });

  it.runIf(isRoot)("never widens the permissions of the directory it was created in (not its to change)", () => {
    const r = runNode(
      `const fs = require('fs'), path = require('path');
       const t = require('securetemp');
       // loaded as root: the checkout may not be readable by nobody
       process.setgid(65534); process.setuid(65534);
       const parent = fs.mkdtempSync(path.join(require('os').tmpdir(), 'securetemp-parent-'));
       const d = t.TemporaryDirectorySync({ dir: parent });
       fs.writeFileSync(path.join(d.path, 'f'), '1');
       fs.chmodSync(parent, 0o500);
       let err = null;
       try { d.cleanupSync(); } catch (e) { err = { code: e.code, syscall: e.syscall, path: e.path }; }
       const mode = fs.statSync(parent).mode & 0o777;
       const left = fs.readdirSync(d.path);
       fs.chmodSync(parent, 0o700); fs.rmSync(parent, { recursive: true });
       console.log(JSON.stringify({ err, mode, left, dir: d.path }));`,
    );
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.mode).toBe(0o500);
    expect(out.err).toEqual({ code: 'EACCES', syscall: 'rmdir', path: out.dir });
    expect(out.left).toEqual([]); // its contents were still removed
  });

  it('a directory swapped for a symlink by another process during removal never redirects it (200 rounds)', async () => {
    const attacker = fork(path.join(ROOT, 'test/fixtures/swapper.cjs'), [outside], { stdio: 'ignore' });
    const ask = (m: object, key: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const on = (r: Record<string, unknown>) => {
          if (key in r) {
            attacker.off('message', on);
            resolve(r);
          }
        };
        attacker.on('message', on);
        attacker.send(m);
      });
    let swaps = 0;
    try {
      for (let round = 0; round < 200; round++) {
        const d = tempfile.TemporaryDirectorySync({ dir: s.dir, ignoreCleanupErrors: true });
        fs.mkdirSync(path.join(d.path, 'sub/deeper'), { recursive: true });
        for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(d.path, 'sub', `f${i}`), 'x');
        for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(d.path, 'sub/deeper', `g${i}`), 'x');
        await ask({ dir: d.path }, 'started');
        await new Promise((r) => setTimeout(r, 1));
        await d.cleanup();
        swaps += (await ask({ stop: true }, 'stopped')).swaps as number;
        outsideIntact();
        // whatever the race left (a link, a moved dir) is inside s.dir; clear it for the next round
        fs.rmSync(d.path, { recursive: true, force: true });
      }
    } finally {
      attacker.send({ exit: true });
    }
    expect(swaps).toBeGreaterThan(0); // the attack really ran
    outsideIntact();
    expect(ls(outside)).toEqual(['a', 'b', 'deep']);
  });
});
