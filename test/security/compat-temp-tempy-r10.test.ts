// Tenth outside review (2026-12-03), securetemp/temp and securetemp/tempy:
// F1: the directory chain was checked on the real path, but files and directories were then made
//     by the path as given (another user's link in it could be flipped in between), and
//     rootDirectory / affixes.dir were made with mkdir -p, which follows another user's link
//     in the middle of the path. Now: resolved once, checked, made and returned by the real
//     path; missing directories are made one component at a time, another user's link refused.
// F4: tempy's temporaryWrite(stream) closed the descriptor twice when the source failed (the
//     WriteStream closes it even with autoClose: false): EBADF replaced the source's error and
//     the partial file was left.
// F6: temp.track() removed at a worker's exit what the worker handed to the main thread.
// F7: temp's exit cleanup threw out of the 'exit' listener: later listeners never ran.
// Note: temp took a prefix/suffix object with its own toString.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isRoot, runNode, scratch } from '../_helpers';
import { NOBODY, isLinux } from './_security';

const require = createRequire(import.meta.url);
const temp = require('securetemp/temp') as {
  dir: string;
  path(a?: unknown): string;
  openSync(a?: unknown): { path: string; fd: number };
  open(a?: unknown): Promise<{ path: string; fd: number }>;
  mkdirSync(a?: unknown): string;
  createWriteStream(a?: unknown): fs.WriteStream;
};
const tempy = require('securetemp/tempy') as {
  rootTemporaryDirectory: string;
  temporaryFile(o?: unknown): string;
  temporaryDirectory(o?: unknown): string;
  temporaryWrite(c: unknown, o?: unknown): Promise<string>;
};

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
  fs.chmodSync(s.dir, 0o755);
});
afterAll(() => s.remove());

describe.skipIf(!isLinux || !isRoot)('F1: made and returned by the real path, no link of another user followed', () => {
  let theirs: string; // nobody's 0755 directory
  let link: string; // nobody's link in it, to a directory of root's
  let real: string;
  let sticky: string;
  beforeAll(() => {
    theirs = path.join(s.dir, 'theirs');
    fs.mkdirSync(theirs, { mode: 0o755 });
    real = path.join(s.dir, 'roots');
    fs.mkdirSync(real, { mode: 0o755 });
    link = path.join(theirs, 'tmp');
    fs.symlinkSync(real, link);
    fs.lchownSync(link, NOBODY, NOBODY);
    fs.chownSync(theirs, NOBODY, NOBODY);
    sticky = path.join(s.dir, 'shared');
    fs.mkdirSync(sticky);
    fs.chmodSync(sticky, 0o1777);
  });

  it('temp.openSync, open, createWriteStream and path with dir through their link: made in the real directory, the real path returned', async () => {
    const o = temp.openSync({ dir: link });
    fs.closeSync(o.fd);
    const a = await temp.open({ dir: link });
    fs.closeSync(a.fd);
    const w = temp.createWriteStream({ dir: link });
    await new Promise((r) => w.end(r));
    const p = temp.path({ dir: link });
    for (const got of [o.path, a.path, w.path as string, p]) {
      expect(got.startsWith(real + path.sep)).toBe(true);
      expect(fs.realpathSync(path.dirname(got))).toBe(path.dirname(got));
    }
  });

  it('temp.dir is the real path of os.tmpdir() (TMPDIR through their link), and what temp makes by default is under it', () => {
    const r = spawnSync(process.execPath, ['-e', `const temp = require('securetemp/temp'); const f = temp.openSync(); console.log(JSON.stringify([temp.dir, f.path]))`], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, TMPDIR: link },
    });
    expect(r.stderr).toBe('');
    const [dir, file] = JSON.parse(r.stdout) as [string, string];
    expect(dir).toBe(real);
    expect(path.dirname(file)).toBe(real);
  });

  it("tempy rootDirectory and temp mkdirSync dir through their link in the middle of the path (sticky shared dir): EACCES, nothing made where it points", () => {
    const target = path.join(s.dir, 'etc'); // root's, stands for /etc
    fs.mkdirSync(target, { mode: 0o755 });
    const myapp = path.join(sticky, 'myapp');
    fs.symlinkSync(target, myapp);
    fs.lchownSync(myapp, NOBODY, NOBODY);
    const refused = expect.objectContaining({ code: 'EACCES' });
    expect(() => tempy.temporaryDirectory({ rootDirectory: path.join(myapp, 'cache') })).toThrow(refused);
    expect(() => tempy.temporaryFile({ rootDirectory: path.join(myapp, 'cache', 'deeper') })).toThrow(refused);
    expect(() => temp.mkdirSync({ dir: path.join(myapp, 'spool') })).toThrow(refused);
    expect(fs.readdirSync(target)).toEqual([]);
  });

  it('a missing rootDirectory is still made (0700, component by component) and what is made in it is under its real path', () => {
    const root = path.join(sticky, 'mine', 'cache');
    const d = tempy.temporaryDirectory({ rootDirectory: root });
    expect(path.dirname(d)).toBe(root);
    expect(fs.statSync(path.join(sticky, 'mine')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    // a link of root's own is followed, and the real path handed out
    const mine = path.join(sticky, 'mylink');
    fs.symlinkSync(path.join(sticky, 'mine'), mine);
    const d2 = temp.mkdirSync({ dir: path.join(mine, 'cache') });
    expect(path.dirname(d2)).toBe(root);
  });

  it('a directory of theirs on the path as given (not only on the real path): EACCES', () => {
    expect(() => temp.mkdirSync({ dir: path.join(link, 'sub') })).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(fs.existsSync(path.join(real, 'sub'))).toBe(false);
  });
});

describe('F4: temporaryWrite(stream) whose source fails', () => {
  it("rejects with the source's error (not EBADF), leaves no file, and closes the descriptor once", async () => {
    const root = fs.mkdtempSync(path.join(s.dir, 'f4-'));
    for (let i = 0; i < 3; i++) {
      let k = 0;
      const src = new Readable({
        read() {
          if (k++ < 3) setTimeout(() => this.push(Buffer.alloc(65536, 65)), 5);
          else setTimeout(() => this.destroy(new Error('source failed')), 5);
        },
      });
      await expect(tempy.temporaryWrite(src, { rootDirectory: root })).rejects.toThrow('source failed');
      expect(fs.readdirSync(root)).toEqual([]);
    }
  });

  it('the descriptor is closed exactly once (strace: no close of the file number after the stream closed it)', () => {
    const root = fs.mkdtempSync(path.join(s.dir, 'f4s-'));
    const code = `const tempy = require('securetemp/tempy'); const { Readable } = require('stream');
      let k = 0; const src = new Readable({ read() { if (k++ < 2) setTimeout(() => this.push(Buffer.alloc(65536, 65)), 5); else setTimeout(() => this.destroy(new Error('boom')), 5); } });
      tempy.temporaryWrite(src, { rootDirectory: ${JSON.stringify(root)} }).then(() => console.log('resolved'), (e) => console.log(e.message));`;
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=close', '-o', path.join(root, '..', 'f4.strace'), process.execPath, '-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('boom');
    const log = fs.readFileSync(path.join(root, '..', 'f4.strace'), 'utf8');
    expect(log).not.toMatch(/close\(\d+\)\s+= -1 EBADF/);
    expect(fs.readdirSync(root)).toEqual([]);
  });
});

describe('F6, F7: temp.track() at exit', () => {
  it("a worker's tracked directory and file stay while the process runs, and are removed at the process's exit", () => {
    const dir = fs.mkdtempSync(path.join(s.dir, 'f6-'));
    const r = runNode(`const { Worker } = require('worker_threads'); const fs = require('fs');
      const w = new Worker(\`const temp = require(\${JSON.stringify(require.resolve('securetemp/temp'))}).track();
        const d = temp.mkdirSync({ dir: ${JSON.stringify(dir)}, prefix: 'job-' });
        const f = temp.openSync({ dir: ${JSON.stringify(dir)}, prefix: 'job-' });
        const p = temp.path({ dir: ${JSON.stringify(dir)} });
        require('worker_threads').parentPort.postMessage([d, f.path]);\`, { eval: true });
      let got; w.on('message', (m) => (got = m));
      w.on('exit', () => console.log(JSON.stringify(got.map((p) => fs.existsSync(p)))));`);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([true, true]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!isLinux || !isRoot)('a removal that fails at exit is reported, the next ones still run, and the process exits 0', () => {
    const dir = fs.mkdtempSync(path.join(s.dir, 'f7-'));
    fs.chownSync(dir, NOBODY, NOBODY);
    const r = runNode(`const temp = require('securetemp/temp'); const st = require('securetemp'); const fs = require('fs');
      process.setgid(${NOBODY}); process.setuid(${NOBODY});
      temp.track();
      const sub = ${JSON.stringify(dir)} + '/sub'; fs.mkdirSync(sub);
      const f = temp.openSync({ dir: sub, prefix: 'file-' }); // its unlink will fail: sub is made read-only
      fs.chmodSync(sub, 0o555);
      const d = temp.mkdirSync({ dir: ${JSON.stringify(dir)}, prefix: 'job-' }); // removed after the failure
      const later = st.NamedTemporaryFileSync({ dir: ${JSON.stringify(dir)}, prefix: 'named-' });
      process.on('exit', () => fs.writeSync(1, 'later listener ran\\n'));`);
    expect(r.stdout).toContain('later listener ran');
    expect(r.stderr).toMatch(/CleanupWarning: securetemp\/temp: cleanup at exit failed: .*EACCES/);
    expect(r.stderr).not.toContain('    at '); // no stack trace
    expect(r.status).toBe(0);
    expect(fs.readdirSync(dir)).toEqual(['sub']); // job- and named- removed
    expect(fs.readdirSync(path.join(dir, 'sub'))).toHaveLength(1); // the file that could not be
  });
});

describe('Note: affixes are strings', () => {
  it.each(['prefix', 'suffix'])('a %s object with its own toString: TypeError ERR_INVALID_ARG_TYPE, nothing made, toString never called', (k) => {
    const dir = fs.mkdtempSync(path.join(s.dir, 'aff-'));
    let called = 0;
    const hostile = { toString: () => (called++, 'x') }; // a harmless name: only its type is refused
    for (const call of [() => temp.path({ dir, [k]: hostile }), () => temp.openSync({ dir, [k]: hostile }), () => temp.mkdirSync({ dir, [k]: hostile }), () => temp.createWriteStream({ dir, [k]: hostile })]) {
      expect(call).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    }
    expect(called).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
