// Attack class: process-wide state changed behind the application's back. Node's
// process.umask() with no argument is umask(0) then umask(old) (DEP0139): for that moment the
// whole process has umask 0, and a file created then by another thread (the libuv pool running
// any async call, a worker) comes out 0666 under a 077 umask. securetemp/write-file-atomic's
// `mode: false` ("the system default permissions") read the umask so; it now lets the kernel
// apply it (the file is created 0o666 and never chmod-ed). Nothing in the package may write the
// umask, change the working directory or install a signal listener to do its job.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isLinux, runNode, scratch } from '../_helpers';
import { requireStrace } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

function child(code: string) {
  const r = runNode(code, { timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/**
 * The child under strace, which traces its main thread only (no -f): each umask() it makes
 * stops in the tracer, so the moment with umask 0 lasts tens of microseconds instead of one,
 * as on a loaded machine. Worker and pool threads run untraced, at full speed.
 */
function childUnderStrace(code: string) {
  const r = spawnSync(requireStrace(), ['-e', 'trace=umask', '-o', '/dev/null', process.execPath, '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('securetemp/write-file-atomic with mode: false', () => {
  it('never calls process.umask (which writes the umask to read it); the kernel applies the umask', () => {
    const dir = path.join(s.dir, 'spy');
    fs.mkdirSync(dir);
    const out = child(`
      const fs = require('fs');
      const wfa = require('securetemp/write-file-atomic');
      process.umask(0o027);
      const real = process.umask;
      let calls = 0;
      process.umask = function (...a) { calls++; return real.apply(process, a); };
      const dir = ${JSON.stringify(dir)};
      const mode = (p) => fs.statSync(p).mode & 0o7777;
      const out = {};
      (async () => {
        wfa.sync(dir + '/new-sync', 'x', { mode: false });
        out.newSync = mode(dir + '/new-sync');
        await wfa(dir + '/new-async', 'x', { mode: false });
        out.newAsync = mode(dir + '/new-async');
        // an existing file's mode is not kept with mode: false
        fs.writeFileSync(dir + '/old', 'old', { mode: 0o604 }); fs.chmodSync(dir + '/old', 0o604);
        wfa.sync(dir + '/old', 'x', { mode: false });
        out.oldSync = mode(dir + '/old');
        fs.chmodSync(dir + '/old', 0o604);
        await wfa(dir + '/old', 'y', { mode: false, tmpfileCreated() {} }); // the streamed path too
        out.oldAsync = mode(dir + '/old');
        out.data = fs.readFileSync(dir + '/old', 'utf8');
        out.calls = calls;
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`);
    expect(out).toEqual({ newSync: 0o640, newAsync: 0o640, oldSync: 0o640, oldAsync: 0o640, data: 'y', calls: 0 });
  });

  it.runIf(isLinux)('a file created by the libuv pool or a worker meanwhile is never wider than the 077 umask allows', () => {
    // Before the fix this found a 0666 file within 20 to 50 calls under strace (and within a
    // few hundred to a few thousand without it): a worker thread creates files in a loop, the
    // libuv pool creates 4 more around each batch of the drop-in's calls.
    const dir = path.join(s.dir, 'race');
    fs.mkdirSync(dir);
    const out = childUnderStrace(`
      const fs = require('fs'), path = require('path');
      const { Worker } = require('worker_threads');
      const wfa = require('securetemp/write-file-atomic');
      process.umask(0o077);
      const dir = ${JSON.stringify(dir)};
      const target = path.join(dir, 'target');
      const flag = new Int32Array(new SharedArrayBuffer(8)); // [stop, widest mode a worker saw]
      const w = new Worker(\`
        const fs = require('fs'); const { workerData: { flag, dir } } = require('worker_threads');
        for (let i = 0; Atomics.load(flag, 0) === 0; i++) {
          const p = dir + '/w' + (i % 8);
          const fd = fs.openSync(p, 'wx'); // 0o666 & ~umask
          const m = fs.fstatSync(fd).mode & 0o777;
          fs.closeSync(fd); fs.unlinkSync(p);
          if (m & 0o077) Atomics.or(flag, 1, m);
        }\`, { eval: true, workerData: { flag, dir } });
      (async () => {
        await new Promise((r) => setTimeout(r, 100));
        const pool = [];
        let calls = 0;
        while (calls < 300 && pool.length === 0 && Atomics.load(flag, 1) === 0) {
          const opens = [];
          for (let k = 0; k < 4; k++) {
            const p = path.join(dir, 'p' + k);
            opens.push(fs.promises.open(p, 'wx').then(async (h) => {
              const m = (await h.stat()).mode & 0o777;
              await h.close();
              await fs.promises.unlink(p);
              if (m & 0o077) pool.push(m);
            }));
          }
          for (let j = 0; j < 9; j++, calls++) wfa.sync(target, 'x', { mode: false, fsync: false });
          await wfa(target, 'x', { mode: false, fsync: false });
          calls++;
          await Promise.all(opens);
        }
        Atomics.store(flag, 0, 1);
        await new Promise((r) => w.on('exit', r));
        const wide = [...pool, Atomics.load(flag, 1)].filter((m) => m !== 0).map((m) => m.toString(8));
        console.log(JSON.stringify({ wide, target: (fs.statSync(target).mode & 0o777).toString(8), enough: calls >= 300 }));
      })().catch((e) => { console.error(e); process.exit(1); });`);
    expect(out).toEqual({ wide: [], target: '600', enough: true });
  });
});

describe('no public function changes process-wide state to do its job', () => {
  it('umask, working directory and signal listeners untouched by every creator, the drop-ins and writeFileAtomic', () => {
    const dir = path.join(s.dir, 'audit');
    fs.mkdirSync(dir);
    const out = child(`
      const fs = require('fs');
      const t = require('securetemp');
      const wfa = require('securetemp/write-file-atomic');
      const tmp = require('securetemp/tmp');
      const tmpPromise = require('securetemp/tmp-promise');
      const touched = [];
      for (const name of ['umask', 'chdir']) {
        const real = process[name];
        process[name] = function (...a) { touched.push(name); return real.apply(process, a); };
      }
      const signals = () => ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'].map((s) => process.listenerCount(s)).join();
      const before = signals();
      const dir = ${JSON.stringify(dir)};
      (async () => {
        fs.closeSync(t.mkstempSync({ dir }).fd);
        t.mkdtempSync({ dir });
        t.NamedTemporaryFileSync({ dir }).closeSync();
        t.TemporaryFileSync({ dir }).closeSync();
        t.TemporaryDirectorySync({ dir }).cleanupSync();
        await (await t.NamedTemporaryFile({ dir })).close();
        await (await t.TemporaryFile({ dir })).close();
        t.writeFileAtomicSync(dir + '/a', 'x');
        await t.writeFileAtomic(dir + '/a', 'y');
        for (const mode of [false, 0o640, undefined]) {
          wfa.sync(dir + '/b', 'x', { mode });
          await wfa(dir + '/b', 'x', { mode, chown: false });
        }
        tmp.fileSync({ tmpdir: dir }).removeCallback();
        tmp.dirSync({ tmpdir: dir }).removeCallback();
        await new Promise((res, rej) => tmp.file({ tmpdir: dir }, (e, p, fd, cb) => (e ? rej(e) : (cb(), res()))));
        (await tmpPromise.file({ tmpdir: dir })).cleanup();
        console.log(JSON.stringify({ touched, signals: signals() === before }));
      })().catch((e) => { console.error(e); process.exit(1); });`);
    expect(out).toEqual({ touched: [], signals: true });
  });
});
