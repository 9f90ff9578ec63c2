// write-file-atomic's test/basic.js and test/concurrency.js (npm/write-file-atomic, 7.x), ported
// test by test and run against the real write-file-atomic 7.0.1 and securetemp/write-file-atomic.
// The originals replace `fs` with stand-ins (t.mock / require-inject) whose calls fail by file
// name (`noopen`, `nowrite`, …). securetemp/write-file-atomic makes its system calls in the
// addon, where no stand-in reaches, so the same failures are made at the system-call level, for
// both implementations alike (test/compat/wfa-suite/cases.cjs, one child process per kind of
// failure): the creating open and the write by test/faults/shim.c (LD_PRELOAD, armed around
// the one call), fsync/rename/unlink/chown/chmod by `strace -f -e inject` (a Node process makes
// no other such call). Where the original checks an error's message (its stand-in's `ENOWRITE`),
// this checks the injected errno; and the observable outcome besides: the target untouched,
// no temp file left, no descriptor left open (its "closed all files").
// What the originals check of the internals (the order of realpath and rename calls, that writes
// to two files overlapped) cannot be seen from outside; what those orders are for can, and is
// checked instead: completion in call order, and the last call's data in the file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from './_helpers';

const require = createRequire(import.meta.url);
const CASES = path.join(__dirname, 'compat', 'wfa-suite', 'cases.cjs');
const linux = process.platform === 'linux';
const isRoot = process.getuid?.() === 0;

type Wfa = ((f: string, d: unknown, o?: unknown, cb?: (err?: Error | null) => void) => Promise<unknown>) & {
  sync(f: string, d: unknown, o?: unknown): void;
  _getTmpname?: (f: string) => string;
  _cleanupOnExit?: (f: unknown) => () => void;
};
interface Result {
  name: string;
  api: 'async' | 'sync';
  err: { code?: string; syscall?: string; message: string } | null;
  created: unknown;
  fired: string | false | null;
  leakedFds: number;
  content: string | null;
  left: string[];
}

const CHOWN = 'chown,fchown,fchownat,lchown';
const CHMOD = 'chmod,fchmod,fchmodat';
const RENAME = 'rename,renameat,renameat2';
// [key, group in cases.cjs, how: 'shim' or the strace injection]
const RUNS: [string, string, string][] = [
  ['open', 'open', 'shim'],
  ['write', 'write', 'shim'],
  ['fsync', 'fsync', 'fsync,fdatasync:error=EIO'],
  ['rename', 'rename', `${RENAME}:error=EIO`],
  ['renameunlink', 'renameunlink', `${RENAME},unlink,unlinkat:error=EIO`],
  ['chown', 'chown', `${CHOWN}:error=EIO`],
  ['chmod', 'chmod', `${CHMOD}:error=EIO`],
  ...(['ENOSYS', 'EINVAL', 'EPERM'] as const).flatMap((e): [string, string, string][] => [
    [`refused ${e}`, 'refused', `${CHOWN},${CHMOD}:error=${e}`],
    [`chmodrefused ${e}`, 'chmodrefused', `${CHMOD}:error=${e}`],
  ]),
];

describe.runIf(linux).each([
  ['write-file-atomic 7.0.1', 'write-file-atomic'],
  ['securetemp/write-file-atomic', 'securetemp/write-file-atomic'],
])("write-file-atomic's basic.js and concurrency.js: %s", (_, mod) => {
  const writeFileAtomic = require(mod) as Wfa;
  const writeFileAtomicSync = writeFileAtomic.sync;
  const dropIn = mod.startsWith('securetemp');
  let s: ReturnType<typeof scratch>;
  const results = new Map<string, Result[]>();

  function runGroup(key: string, group: string, how: string, shim: string): Promise<void> {
    const dir = path.join(s.dir, key.replace(/\W+/g, '-'));
    fs.mkdirSync(dir);
    const node = [process.execPath, CASES, mod, dir, group];
    const env = { ...process.env, UV_USE_IO_URING: '0' };
    const cmd: string = how === 'shim' ? process.execPath : 'strace';
    const args: string[] = how === 'shim'
      ? node.slice(1)
      : ['-f', '-qq', '-o', '/dev/null', '-e', `trace=${how.split(':')[0]}`, '-e', `inject=${how}`, ...node];
    if (how === 'shim') Object.assign(env, { LD_PRELOAD: shim });
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`${key}: exit ${code}\n${err}`));
        results.set(key, out.trim().split('\n').map((l) => JSON.parse(l) as Result));
        resolve();
      });
    });
  }

  beforeAll(async () => {
    s = scratch();
    const shim = path.join(s.dir, 'shim.so');
    const cc = spawnSync('gcc', ['-O1', '-shared', '-fPIC', '-o', shim, path.join(__dirname, 'faults', 'shim.c'), '-ldl'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
    if (spawnSync('strace', ['-V']).status !== 0) throw new Error('strace is needed (apt-get install strace)');
    // four at a time: the machine is shared
    const queue = [...RUNS];
    await Promise.all([0, 1, 2, 3].map(async () => {
      for (let r = queue.shift(); r; r = queue.shift()) await runGroup(r[0], r[1], r[2], shim);
    }));
  }, 120_000);
  afterAll(() => s?.remove());

  const get = (key: string, name: string, api: 'async' | 'sync', nth = 0): Result => {
    const r = results.get(key)?.filter((x) => x.name === name && x.api === api)[nth];
    if (r === undefined) throw new Error(`no result for ${key} ${name} ${api}`);
    return r;
  };
  /** The failure surfaced with the injected errno; the target untouched; nothing left; no fd open. */
  const propagates = (r: Result, code: string, syscall: RegExp) => {
    expect(r.err?.code).toBe(code);
    expect(r.err?.syscall).toMatch(syscall);
    expect(r.content).toBe('old');
    expect(r.left).toEqual([]);
    expect(r.leakedFds).toBe(0);
  };
  const noError = (r: Result) => {
    expect(r.err).toBe(null);
    expect(r.content).toBe('test');
    expect(r.left).toEqual([]);
    expect(r.leakedFds).toBe(0);
  };

  // --- basic.js -------------------------------------------------------------------------------
  describe('getTmpname, cleanupOnExit', () => {
    // write-file-atomic's helpers "for testing"; the drop-in has no temp name to make and no exit
    // handler (README "Migrating", securetemp/write-file-atomic: `_getTmpname`, `_cleanupOnExit`)
    const t = dropIn ? it.fails : it;
    t('getTmpname: different invocations of getTmpname get different results', () => {
      const getTmpname = writeFileAtomic._getTmpname!;
      expect(getTmpname('abc.def')).not.toBe(getTmpname('abc.def'));
    });
    t('cleanupOnExit: cleanup code unlinks; exceptions are caught', () => {
      const file = path.join(s.dir, 'tmpname');
      fs.writeFileSync(file, '');
      writeFileAtomic._cleanupOnExit!(() => file)();
      expect(fs.existsSync(file)).toBe(false);
      expect(writeFileAtomic._cleanupOnExit!(path.join(s.dir, 'nounlink'))).not.toThrow();
    });
  });

  describe('async tests: non-root tests', () => {
    const target = () => path.join(s.dir, `good-${Math.random().toString(36).slice(2)}`);
    const cb = (f: (done: (err?: Error | null) => void) => void) => new Promise<Error | null | undefined>((resolve) => f(resolve));
    it('No errors occur when passing in options', async () => expect(await cb((d) => writeFileAtomic(target(), 'test', { mode: '0777' }, d))).toBeFalsy());
    it('No errors occur when passing in options as string', async () => expect(await cb((d) => writeFileAtomic(target(), 'test', 'utf8', d))).toBeFalsy());
    it('No errors occur when NOT passing in options', async () => expect(await cb((d) => writeFileAtomic(target(), 'test', undefined, d))).toBeFalsy());
    it('no options, a callback', async () => expect(await cb((d) => writeFileAtomic(target(), 'test', d as never))).toBeFalsy());
    it('fs.open failures propagate', () => propagates(get('open', 'noopen', 'async'), 'EIO', /^open/));
    it('fs.writewrite failures propagate', () => propagates(get('write', 'nowrite', 'async'), 'EIO', /write/));
    it('fs.writewrite failures propagate for buffers', () => propagates(get('write', 'nowrite buffer', 'async'), 'EIO', /write/));
    it('Chown failures propagate', () => propagates(get('chown', 'nochown', 'async'), 'EIO', /chown/));
    it('No attempt to chown when no uid/gid passed in', () => {
      const r = get('chown', 'nochown', 'async', 1);
      expect([r.err, r.content]).toEqual([null, 'test']);
    });
    it('Chmod failures propagate', () => propagates(get('chmod', 'nochmod', 'async'), 'EIO', /chmod/));
    it('fsync skipped if options.fsync is false', () => noError(get('fsync', 'nofsyncopt', 'async')));
    it('Rename errors propagate', () => propagates(get('rename', 'norename', 'async'), 'EIO', /^rename/));
    it('Failure to unlink the temp file does not clobber the original error', () => {
      const r = get('renameunlink', 'norename nounlink', 'async');
      expect([r.err?.code, r.err?.syscall, r.content]).toEqual(['EIO', 'rename', 'old']);
    });
    it('Fsync failures propagate', () => propagates(get('fsync', 'nofsync', 'async'), 'EIO', /fsync/));
    it('No errors on ENOSYS', () => {
      noError(get('refused ENOSYS', 'chown non-root', 'async'));
      noError(get('refused ENOSYS', 'chown root', 'async'));
      noError(get('chmodrefused ENOSYS', 'chmod root', 'async'));
    });
    it('No errors on EINVAL for non root (mode)', () => {
      noError(get('refused EINVAL', 'chmod non-root', 'async'));
      noError(get('chmodrefused EINVAL', 'chmod non-root', 'async'));
    });
    it('No errors on EPERM for non root (mode)', () => {
      noError(get('refused EPERM', 'chmod non-root', 'async'));
      noError(get('chmodrefused EPERM', 'chmod non-root', 'async'));
    });
    it('No errors on EINVAL for non root (chown)', () => noError(get('refused EINVAL', 'chown non-root', 'async')));
    it('No errors on EPERM for non root (chown)', () => noError(get('refused EPERM', 'chown non-root', 'async')));
  });

  describe('async tests: errors for root', () => {
    it('EINVAL (chown)', () => propagates(get('refused EINVAL', 'chown root', 'async'), 'EINVAL', /chown/));
    it('EINVAL (mode)', () => {
      propagates(get('refused EINVAL', 'chmod root', 'async'), 'EINVAL', /chown/); // the owner-keeping chown comes first
      propagates(get('chmodrefused EINVAL', 'chmod root', 'async'), 'EINVAL', /chmod/);
    });
  });

  describe('sync tests: non-root', () => {
    const target = (name = 'good') => path.join(s.dir, `${name}-${Math.random().toString(36).slice(2)}`);
    it('No errors occur when passing in options', () => writeFileAtomicSync(target(), 'test', { mode: '0777' }));
    it('No errors occur when passing in options as string', () => writeFileAtomicSync(target(), 'test', 'utf8'));
    it('No errors occur when NOT passing in options', () => writeFileAtomicSync(target(), 'test'));
    it('fsync never called if options.fsync is falsy', () => noError(get('fsync', 'nofsyncopt', 'sync')));
    // the drop-in calls tmpfileCreated with null: its temp file has no name (README "Migrating")
    (dropIn ? it.fails : it)('tmpfileCreated is called on success: tmpfileCreated called for success', () => {
      let tmpfile: unknown;
      const f = target();
      writeFileAtomicSync(f, 'test', { tmpfileCreated: (t: unknown) => (tmpfile = t) });
      expect(tmpfile).toMatch(new RegExp(`^${f}\\.\\d+$`));
    });
    it('fs.openSync failures propagate; tmpfileCreated not called for open failure', () => {
      const r = get('open', 'noopen', 'sync');
      propagates(r, 'EIO', /^open/);
      expect(r.created).toBe('not called');
    });
    it('fs.writeSync failures propagate', () => propagates(get('write', 'nowrite', 'sync'), 'EIO', /write/));
    (dropIn ? it.fails : it)('tmpfileCreated called for failure after open', () => {
      expect(get('write', 'nowrite', 'sync').created).toMatch(/nowrite-\d+\.\d+$/);
    });
    it('tmpfileCreated called for failure after open (called at all)', () => {
      expect(get('write', 'nowrite', 'sync').created).not.toBe('not called');
    });
    it('Chown failures propagate', () => propagates(get('chown', 'nochown', 'sync'), 'EIO', /chown/));
    it('No attempt to chown when false passed in', () => noError(get('chown', 'nochown false', 'sync')));
    it('No errors occured when chown is undefined and original file owner used', () => {
      const f = target('chowncopy');
      fs.writeFileSync(f, 'old');
      if (isRoot) fs.chownSync(f, 42, 43);
      writeFileAtomicSync(f, 'test', { chown: undefined });
      const st = fs.statSync(f);
      expect([fs.readFileSync(f, 'utf8'), st.uid, st.gid]).toEqual(['test', isRoot ? 42 : process.getuid!(), isRoot ? 43 : process.getgid!()]);
    });
    it('Rename errors propagate', () => propagates(get('rename', 'norename', 'sync'), 'EIO', /^rename/));
    it('Failure to unlink the temp file does not clobber the original error', () => {
      const r = get('renameunlink', 'norename nounlink', 'sync');
      expect([r.err?.code, r.err?.syscall, r.content]).toEqual(['EIO', 'rename', 'old']);
    });
    it('Fsync errors propagate', () => propagates(get('fsync', 'nofsync', 'sync'), 'EIO', /fsync/));
    it('No errors on ENOSYS', () => noError(get('refused ENOSYS', 'chown non-root', 'sync')));
    it('No errors on EINVAL for non root', () => noError(get('refused EINVAL', 'chown non-root', 'sync')));
    it('No errors on EPERM for non root', () => noError(get('refused EPERM', 'chown non-root', 'sync')));
    it('Chmod failures propagate', () => propagates(get('chmod', 'nochmod', 'sync'), 'EIO', /chmod/));
    it('No errors on EPERM for non root (mode)', () => {
      noError(get('refused EPERM', 'chmod non-root', 'sync'));
      noError(get('chmodrefused EPERM', 'chmod non-root', 'sync'));
    });
    it('No attempt to chmod when no mode provided', () => noError(get('chmod', 'nochmod false', 'sync')));
  });

  describe('sync tests: errors for root', () => {
    it('Chown error as root user', () => propagates(get('refused EINVAL', 'chown root', 'sync'), 'EINVAL', /chown/));
    it('Chmod error as root user', () => propagates(get('chmodrefused EINVAL', 'chmod root', 'sync'), 'EINVAL', /chmod/));
  });

  describe('promises', () => {
    const target = () => path.join(s.dir, `good-${Math.random().toString(36).slice(2)}`);
    (dropIn ? it.fails : it)('tmpfileCreated is called for success', async () => {
      let tmpfile: unknown;
      const f = target();
      await writeFileAtomic(f, 'test', { tmpfileCreated: (t: unknown) => (tmpfile = t) });
      expect(tmpfile).toMatch(new RegExp(`^${f}\\.\\d+$`));
    });
    it('tmpfileCreated returning a Promise', async () => {
      await writeFileAtomic(target(), 'test', { tmpfileCreated: () => Promise.resolve() });
    });
    it('reject from tmpfileCreated', async () => {
      const f = target();
      await expect(writeFileAtomic(f, 'test', { tmpfileCreated: () => Promise.reject(new Error('reject from tmpfileCreated')) })).rejects.toThrow('reject from tmpfileCreated');
      expect(fs.readdirSync(s.dir).filter((x) => x.includes(path.basename(f)))).toEqual([]);
    });
    it('throw from tmpfileCreated', async () => {
      const f = target();
      await expect(writeFileAtomic(f, 'test', { tmpfileCreated: () => { throw new Error('throw from tmpfileCreated'); } })).rejects.toThrow('throw from tmpfileCreated');
      expect(fs.readdirSync(s.dir).filter((x) => x.includes(path.basename(f)))).toEqual([]);
    });
    it('tmpfileCreated is not called on open failure', () => {
      const r = get('open', 'noopen', 'async');
      expect(r.err?.code).toBe('EIO');
      expect(r.created).toBe('not called');
    });
    it('tmpfileCreated is called if failure is after open', () => {
      const r = get('write', 'nowrite', 'async');
      expect(r.err?.code).toBe('EIO');
      expect(r.created).not.toBe('not called');
    });
  });

  it('async, sync and promises closed all files (no descriptor left open by any case)', () => {
    const all = [...results.values()].flat();
    expect(all.length).toBeGreaterThan(30);
    expect(all.filter((r) => r.leakedFds !== 0)).toEqual([]);
  });

  it('every shim fault fired (the case failed the call it names)', () => {
    const shimmed = [...(results.get('open') ?? []), ...(results.get('write') ?? [])];
    expect(shimmed.map((r) => r.fired).filter((f) => !f)).toEqual([]);
  });

  // --- concurrency.js -------------------------------------------------------------------------
  // Its stand-in checks that realpath and rename alternate (one write to a file at a time), and
  // that two files' writes overlapped; neither is visible from outside. What serial writes are
  // for is: each completes in call order and the file ends with the last call's data.
  it('ensure writes to the same file are serial', async () => {
    const f = path.join(s.dir, 'test');
    const ops = 5;
    const done: number[] = [];
    const writes = Array.from({ length: ops }, (_x, i) =>
      new Promise<void>((resolve, reject) => writeFileAtomic(f, `test${i}`, (err?: Error | null) => (err ? reject(err) : (done.push(i), resolve())))));
    await Promise.all(writes);
    expect(done).toEqual([0, 1, 2, 3, 4]);
    expect(fs.readFileSync(f, 'utf8')).toBe('test4');
    await new Promise((r) => setTimeout(r, 50));
    await new Promise<void>((resolve, reject) => writeFileAtomic(f, 'test', (err?: Error | null) => (err ? reject(err) : resolve())));
    expect(fs.readFileSync(f, 'utf8')).toBe('test'); // successive writes after delay
  });

  it('allow write to multiple files in parallel, but same file writes are serial', async () => {
    const f1 = path.join(s.dir, 'test1');
    const f2 = path.join(s.dir, 'test2');
    const order: string[] = [];
    const w = (f: string, d: string) => new Promise<void>((resolve, reject) => writeFileAtomic(f, d, (err?: Error | null) => (err ? reject(err) : (order.push(d), resolve()))));
    const all: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) all.push(w(f1, `a${i}`), w(f2, `b${i}`));
    await Promise.all(all);
    expect(order.filter((x) => x[0] === 'a')).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(order.filter((x) => x[0] === 'b')).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect([fs.readFileSync(f1, 'utf8'), fs.readFileSync(f2, 'utf8')]).toEqual(['a4', 'b4']);
  });
});
