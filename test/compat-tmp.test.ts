// securetemp/tmp: npm tmp's README examples run against it, its callback and return shapes,
// options and cleanup (at exit only after setGracefulCleanup, as tmp), the three path-escape
// CVEs of tmp refused (tmp's Error and words where tmp refuses too, our TypeError where it follows), and differential runs against the real tmp 0.2.7.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type Tmp from 'securetemp/tmp';
import { isLinux, ls, runNode, scratch } from './_helpers';

const require = createRequire(import.meta.url);
const tmp: typeof Tmp = require('securetemp/tmp');
const real: typeof Tmp = require('tmp'); // npm tmp 0.2.7, for differential runs

let s: ReturnType<typeof scratch>;
let n = 0;
/** A fresh root temporary directory for one test (passed as `tmpdir`). */
let root: string;
const made: string[] = [];
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
function freshRoot(): string {
  root = fs.realpathSync(fs.mkdtempSync(path.join(s.dir, `r${n++}-`)));
  return root;
}
afterEach(() => {
  for (const p of made.splice(0)) fs.rmSync(p, { recursive: true, force: true });
});

const umask = process.umask();
const modeOf = (p: string) => fs.statSync(p).mode & 0o777;
const exists = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
/** Our generated part: securetemp's 12 characters of [a-z0-9]; tmp's: 12 of [0-9A-Za-z]. */
const OURS = /^tmp-(\d+)-([a-z0-9]{12})$/;
const THEIRS = /^tmp-(\d+)-([0-9A-Za-z]{12})$/;

/** Calls `f` with a callback and resolves with the arguments it was called with. */
function args(f: (cb: (...a: unknown[]) => void) => void): Promise<unknown[]> {
  return new Promise((resolve) => f((...a: unknown[]) => resolve(a)));
}

const shape = (a: unknown[]) => a.map((v) => (v === null ? 'null' : typeof v));

describe('the README examples of tmp, against securetemp/tmp', () => {
  it('Graceful cleanup: setGracefulCleanup() is there and returns nothing', () => {
    expect(tmp.setGracefulCleanup).toBeTypeOf('function');
    // what it does at exit is tested in child processes below
  });

  it('Asynchronous file creation: (err, path, fd, cleanupCallback); cleanupCallback removes it', async () => {
    const [err, p, fd, cleanup] = (await args((cb) => tmp.file(cb))) as [Error | null, string, number, (next?: () => void) => void];
    expect(err).toBeNull();
    expect(path.dirname(p)).toBe(tmp.tmpdir);
    expect(path.basename(p)).toMatch(OURS);
    expect(fs.fstatSync(fd).ino).toBe(fs.statSync(p).ino);
    await new Promise<void>((r) => cleanup(r));
    expect(exists(p)).toBe(false);
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('Synchronous file creation: {name, fd, removeCallback}', () => {
    const tmpobj = tmp.fileSync();
    expect(Object.keys(tmpobj).sort()).toEqual(['fd', 'name', 'removeCallback']);
    expect(fs.fstatSync(tmpobj.fd).ino).toBe(fs.statSync(tmpobj.name).ino);
    tmpobj.removeCallback();
    expect(exists(tmpobj.name)).toBe(false);
  });

  it('Asynchronous directory creation: (err, path, cleanupCallback)', async () => {
    const [err, p, cleanup] = (await args((cb) => tmp.dir(cb))) as [Error | null, string, (next?: () => void) => void];
    expect(err).toBeNull();
    expect(fs.statSync(p).isDirectory()).toBe(true);
    expect(modeOf(p)).toBe(0o700 & ~umask);
    await new Promise<void>((r) => cleanup(r));
    expect(exists(p)).toBe(false);
  });

  it('Synchronous directory creation: {name, removeCallback}', () => {
    const tmpobj = tmp.dirSync();
    expect(Object.keys(tmpobj).sort()).toEqual(['name', 'removeCallback']);
    expect(fs.statSync(tmpobj.name).isDirectory()).toBe(true);
    tmpobj.removeCallback();
    expect(exists(tmpobj.name)).toBe(false);
  });

  it('Asynchronous and synchronous filename generation: a name that does not exist', async () => {
    const [err, name] = await args((cb) => tmp.tmpName(cb));
    expect(err).toBeNull();
    expect(exists(name as string)).toBe(false);
    const sync = tmp.tmpNameSync();
    expect(path.basename(sync)).toMatch(OURS);
    expect(exists(sync)).toBe(false);
  });

  it('Advanced file creation: mode 0644, prefix "prefix-", postfix ".txt" (async and sync)', async () => {
    const [err, p, fd] = (await args((cb) => tmp.file({ mode: 0o644, prefix: 'prefix-', postfix: '.txt' }, cb))) as [null, string, number];
    made.push(p);
    expect(err).toBeNull();
    expect(fd).toBeTypeOf('number');
    expect(path.basename(p)).toMatch(/^prefix--\d+-[a-z0-9]{12}-\.txt$/); // tmp's shape: prefix-pid-random-postfix
    expect(modeOf(p)).toBe(0o644 & ~umask);
    const tmpobj = tmp.fileSync({ mode: 0o644, prefix: 'prefix-', postfix: '.txt' });
    made.push(tmpobj.name);
    expect(path.basename(tmpobj.name)).toMatch(/^prefix--\d+-[a-z0-9]{12}-\.txt$/);
    expect(modeOf(tmpobj.name)).toBe(0o644 & ~umask);
  });

  it.runIf(isLinux)('Controlling the Descriptor: discardDescriptor gives fd undefined, the file closed', async () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    const [err, p, fd, cleanup] = (await args((cb) => tmp.file({ discardDescriptor: true }, cb))) as [null, string, undefined, () => void];
    expect(err).toBeNull();
    expect(fd).toBeUndefined();
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
    expect(fs.readFileSync(p, 'utf8')).toBe(''); // fs.createReadStream(path) works
    cleanup();
    await new Promise((r) => setTimeout(r, 20));
    expect(exists(p)).toBe(false);
  });

  it('Controlling the Descriptor: detachDescriptor keeps the fd usable after cleanupCallback', async () => {
    const [err, p, fd, cleanup] = (await args((cb) => tmp.file({ detachDescriptor: true }, cb))) as [null, string, number, (n: () => void) => void];
    expect(err).toBeNull();
    await new Promise<void>((r) => cleanup(r));
    expect(exists(p)).toBe(false);
    expect(fs.writeSync(fd, 'still mine')).toBe(10); // "Application can store data through fd here"
    fs.closeSync(fd);
  });

  it('Advanced directory creation: mode 0750, prefix "myTmpDir_" (async and sync)', async () => {
    const [err, p] = (await args((cb) => tmp.dir({ mode: 0o750, prefix: 'myTmpDir_' }, cb))) as [null, string];
    made.push(p);
    expect(err).toBeNull();
    expect(path.basename(p)).toMatch(/^myTmpDir_-\d+-[a-z0-9]{12}$/);
    expect(modeOf(p)).toBe(0o750 & ~umask);
    const tmpobj = tmp.dirSync({ mode: 0o750, prefix: 'myTmpDir_' });
    made.push(tmpobj.name);
    expect(modeOf(tmpobj.name)).toBe(0o750 & ~umask);
  });

  it('mkstemp like: template "tmp-XXXXXX", async and sync, mode 0700', async () => {
    const [err, p] = (await args((cb) => tmp.dir({ template: 'tmp-XXXXXX' }, cb))) as [null, string];
    made.push(p);
    expect(err).toBeNull();
    expect(path.basename(p)).toMatch(/^tmp-[0-9A-Za-z]{6}$/);
    expect(modeOf(p)).toBe(0o700 & ~umask);
    const tmpobj = tmp.dirSync({ template: 'tmp-XXXXXX' });
    made.push(tmpobj.name);
    expect(path.dirname(tmpobj.name)).toBe(tmp.tmpdir);
    expect(path.basename(tmpobj.name)).toMatch(/^tmp-[0-9A-Za-z]{6}$/);
  });

  it('filename generation with options ({} and none)', async () => {
    const options = {};
    const [err, p] = await args((cb) => tmp.tmpName(options, cb));
    expect(err).toBeNull();
    expect(path.basename(p as string)).toMatch(OURS);
    expect(path.basename(tmp.tmpNameSync(options))).toMatch(OURS);
  });

  it('tmp.tmpdir: os.tmpdir(), realpath\'d, read at each access', () => {
    expect(tmp.tmpdir).toBe(fs.realpathSync(os.tmpdir()));
    expect(tmp.tmpdir).toBe(real.tmpdir);
  });
});

describe('shapes, compared with npm tmp', () => {
  it('exports the same names', () => {
    expect(Object.keys(tmp).sort()).toEqual(Object.keys(real).sort());
  });

  it.each([
    ['file', {}],
    ['file', { discardDescriptor: true }],
    ['file', { detachDescriptor: true }],
    ['dir', {}],
    ['tmpName', {}],
  ] as const)('%s(%o, cb): the same callback arguments, the same kinds of things on disk', async (fn, opts) => {
    const r = freshRoot();
    const ours = await args((cb) => (tmp[fn] as (o: object, c: typeof cb) => void)({ ...opts, tmpdir: r }, cb));
    const theirs = await args((cb) => (real[fn] as (o: object, c: typeof cb) => void)({ ...opts, tmpdir: r }, cb));
    expect(shape(ours)).toEqual(shape(theirs));
    const [, a] = ours as [null, string];
    const [, b] = theirs as [null, string];
    expect(path.dirname(a)).toBe(path.dirname(b));
    expect(path.basename(a)).toMatch(OURS);
    expect(path.basename(b)).toMatch(THEIRS);
    expect(path.basename(a).split('-')[1]).toBe(path.basename(b).split('-')[1]); // the pid
    expect(exists(a)).toBe(exists(b));
    if (fn !== 'tmpName') {
      expect(modeOf(a)).toBe(modeOf(b));
      const cleanA = ours[ours.length - 1] as (next: (...x: unknown[]) => void) => void;
      const cleanB = theirs[theirs.length - 1] as (next: (...x: unknown[]) => void) => void;
      const doneA = await args((cb) => cleanA(cb));
      const doneB = await args((cb) => cleanB(cb));
      expect(doneA).toEqual(doneB); // file: next(); dir: next(null)
      expect(exists(a)).toBe(false);
      expect(exists(b)).toBe(false);
    }
    for (const fd of [ours[2], theirs[2]]) if (typeof fd === 'number' && opts !== undefined && 'detachDescriptor' in opts) fs.closeSync(fd);
  });

  it.each(['fileSync', 'dirSync'] as const)('%s: the same result keys, modes and removal', (fn) => {
    const r = freshRoot();
    const a = tmp[fn]({ tmpdir: r, mode: 0o640 });
    const b = real[fn]({ tmpdir: r, mode: 0o640 });
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    expect(modeOf(a.name)).toBe(modeOf(b.name));
    expect(a.removeCallback()).toBe(b.removeCallback());
    expect([exists(a.name), exists(b.name)]).toEqual([false, false]);
  });

  it('errors reach the callback alone, asynchronously, as in tmp', async () => {
    let sync = true;
    const got = args((cb) => tmp.file({ tmpdir: path.join(s.dir, 'nope') }, cb));
    sync = false;
    const [err, ...rest] = await got;
    expect(sync).toBe(false);
    expect(err).toMatchObject({ code: 'ENOENT' });
    expect(rest).toEqual([]);
  });

  it('a missing callback is a TypeError, thrown at once (tmp would create, then crash)', () => {
    expect(() => (tmp.file as unknown as (o: object) => void)({})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('an exception thrown by the callback is not turned into a rejection', async () => {
    // in a scratch directory: the child exits before its asynchronous cleanup has removed the file
    const r = runNode(`
      const tmp = require('securetemp/tmp');
      process.on('uncaughtException', (e) => { console.log('uncaught', e.message); process.exit(0); });
      process.on('unhandledRejection', () => { console.log('rejection'); process.exit(0); });
      tmp.file({ tmpdir: ${JSON.stringify(freshRoot())} }, (err, p, fd, cleanup) => { cleanup(); throw new Error('from the callback'); });`);
    expect(r.stdout.trim()).toBe('uncaught from the callback');
  });

  it('removeCallback a second time does nothing', () => {
    const f = tmp.fileSync({ tmpdir: freshRoot() });
    f.removeCallback();
    fs.writeFileSync(f.name, 'someone else');
    f.removeCallback();
    expect(fs.readFileSync(f.name, 'utf8')).toBe('someone else');
  });
});

describe('options', () => {
  it('name: that name, tried once; taken: EEXIST, and the existing file is untouched', async () => {
    const r = freshRoot();
    const f = tmp.fileSync({ tmpdir: r, name: 'fixed.txt' });
    expect(f.name).toBe(path.join(r, 'fixed.txt'));
    fs.writeSync(f.fd, 'first');
    expect(() => tmp.fileSync({ tmpdir: r, name: 'fixed.txt' })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    const [err] = await args((cb) => tmp.dir({ tmpdir: r, name: 'fixed.txt' }, cb));
    expect(err).toMatchObject({ code: 'EEXIST' });
    expect(() => tmp.tmpNameSync({ tmpdir: r, name: 'fixed.txt' })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(fs.readFileSync(f.name, 'utf8')).toBe('first');
    f.removeCallback();
  });

  it('template: only its first XXXXXX is replaced, with characters of [0-9A-Za-z]', () => {
    const r = freshRoot();
    const d = tmp.dirSync({ tmpdir: r, template: 'a-XXXXXX-XXXXXX.d' });
    expect(path.basename(d.name)).toMatch(/^a-[0-9A-Za-z]{6}-XXXXXX\.d$/);
    const names = new Set(Array.from({ length: 2000 }, () => path.basename(tmp.tmpNameSync({ tmpdir: r, template: 'XXXXXX' }))));
    expect(names.size).toBe(2000);
    const chars = new Set([...names].join(''));
    expect(chars.size).toBe(62); // every character of the alphabet shows up in 12000 draws
  });

  it('template: without XXXXXX in its last component is refused', () => {
    // tmp refuses this one too: its Error, its words, our code
    expect(() => tmp.fileSync({ template: 'no-x' })).toThrow(expect.objectContaining({ name: 'Error', message: 'Invalid template, found "no-x".', code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => real.fileSync({ template: 'no-x' })).toThrow('Invalid template, found "no-x".');
    // tmp takes this one (and fails on the directory "XXXXXX"): our TypeError
    expect(() => tmp.fileSync({ template: 'XXXXXX/name' })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('template with a directory part inside tmpdir, as tmp (and the tmp-promise README) allow', () => {
    const r = freshRoot();
    fs.mkdirSync(path.join(r, 'sub'));
    const a = tmp.fileSync({ tmpdir: r, template: path.join(r, 'sub', 'tmp-XXXXXX') });
    const b = tmp.fileSync({ tmpdir: r, template: 'sub/tmp-XXXXXX' });
    const c = real.fileSync({ tmpdir: r, template: 'sub/tmp-XXXXXX' });
    for (const f of [a, b, c]) {
      expect(path.dirname(f.name)).toBe(path.join(r, 'sub'));
      f.removeCallback();
    }
  });

  it('dir: relative to tmpdir, or absolute inside it', () => {
    const r = freshRoot();
    fs.mkdirSync(path.join(r, 'inner'));
    for (const dir of ['inner', path.join(r, 'inner')]) {
      const ours = tmp.fileSync({ tmpdir: r, dir });
      const theirs = real.fileSync({ tmpdir: r, dir });
      expect(path.dirname(ours.name)).toBe(path.join(r, 'inner'));
      expect(path.dirname(theirs.name)).toBe(path.join(r, 'inner'));
      ours.removeCallback();
      theirs.removeCallback();
    }
  });

  it('tries: validated; 0 means tmp\'s default', () => {
    const r = freshRoot();
    for (const tries of [-1, 'many', NaN]) {
      const message = `Invalid tries, found "${String(tries)}".`;
      expect(() => tmp.fileSync({ tmpdir: r, tries: tries as number })).toThrow(expect.objectContaining({ name: 'Error', message, code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => real.fileSync({ tmpdir: r, tries: tries as number })).toThrow(message);
    }
    tmp.fileSync({ tmpdir: r, tries: 0 }).removeCallback();
    tmp.fileSync({ tmpdir: r, tries: 1 }).removeCallback();
  });

  it('mode: 0 is the default, an octal string works as in fs, setuid/sticky bits are refused', () => {
    const r = freshRoot();
    expect(modeOf(tmp.fileSync({ tmpdir: r, mode: 0 }).name)).toBe(0o600 & ~umask);
    expect(modeOf(tmp.fileSync({ tmpdir: r, mode: '640' as unknown as number }).name)).toBe(0o640 & ~umask);
    expect(modeOf(tmp.dirSync({ tmpdir: r, mode: 0o755 }).name)).toBe(0o755 & ~umask);
    for (const mode of [0o4755, 0o1777, -1, 0.5, 'rwx'])
      expect(() => tmp.dirSync({ tmpdir: r, mode: mode as number })).toThrow(TypeError);
  });

  it.runIf(isLinux)('files are close-on-exec (tmp\'s are not): a child process does not inherit them', () => {
    const f = tmp.fileSync({ tmpdir: freshRoot() });
    const flags = fs.readFileSync(`/proc/self/fdinfo/${f.fd}`, 'utf8');
    const octal = /flags:\s+(\d+)/.exec(flags)![1]!;
    expect(parseInt(octal, 8) & 0o2000000).not.toBe(0); // O_CLOEXEC
    f.removeCallback();
  });

  it('unsafeCleanup: everything removed, a link inside is removed, never followed', () => {
    const r = freshRoot();
    const outside = fs.mkdtempSync(path.join(s.dir, 'outside-'));
    fs.writeFileSync(path.join(outside, 'keep'), 'precious');
    const d = tmp.dirSync({ tmpdir: r, unsafeCleanup: true });
    fs.mkdirSync(path.join(d.name, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(d.name, 'a/b/f'), 'x');
    fs.symlinkSync(outside, path.join(d.name, 'a/link'));
    d.removeCallback();
    expect(exists(d.name)).toBe(false);
    expect(fs.readFileSync(path.join(outside, 'keep'), 'utf8')).toBe('precious');
  });

  it('without unsafeCleanup a directory that is not empty is not removed: ENOTEMPTY, as tmp', async () => {
    const r = freshRoot();
    for (const t of [tmp, real]) {
      const d = t.dirSync({ tmpdir: r });
      fs.writeFileSync(path.join(d.name, 'f'), 'x');
      expect(() => d.removeCallback()).toThrow(expect.objectContaining({ code: 'ENOTEMPTY' }));
      expect(exists(d.name)).toBe(true);
      const [err, p, cleanup] = await args((cb) => t.dir({ tmpdir: r }, cb));
      expect(err).toBeNull();
      fs.writeFileSync(path.join(p as string, 'f'), 'x');
      const [e2] = await args((cb) => (cleanup as (n: typeof cb) => void)(cb));
      expect(e2).toMatchObject({ code: 'ENOTEMPTY' });
    }
  });

  it('an async cleanupCallback that fails without a `next` is reported, not dropped (tmp drops it)', async () => {
    const [, p, cleanup] = (await args((cb) => tmp.dir({ tmpdir: freshRoot() }, cb))) as [null, string, () => void];
    fs.writeFileSync(path.join(p, 'f'), 'x');
    // Caught at process.emitWarning, so that a green run prints no warning on stderr.
    const warned = new Promise<[unknown, unknown]>((resolve) => {
      const spy = vi.spyOn(process, 'emitWarning').mockImplementationOnce((w: unknown, type?: unknown) => {
        spy.mockRestore();
        resolve([w, type]);
      });
    });
    cleanup();
    const [message, type] = await warned;
    expect(type).toBe('CleanupWarning');
    expect(message).toMatch(/ENOTEMPTY/);
  });

  it('unknown options are ignored, as tmp ignores them', () => {
    const f = tmp.fileSync({ tmpdir: freshRoot(), suffix: '.nope' } as object);
    expect(path.basename(f.name)).toMatch(OURS);
    f.removeCallback();
  });

  it('a world-writable directory without the sticky bit is refused (tmp uses it)', () => {
    const r = freshRoot();
    fs.chmodSync(r, 0o777);
    expect(() => tmp.fileSync({ tmpdir: r })).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_TEMPDIR' }));
    real.fileSync({ tmpdir: r }).removeCallback();
    fs.chmodSync(r, 0o700);
  });
});

describe('removal never touches what is no longer ours', () => {
  it('a file whose name now leads to another file is left alone', async () => {
    const r = freshRoot();
    const f = tmp.fileSync({ tmpdir: r });
    fs.unlinkSync(f.name);
    fs.writeFileSync(f.name, 'replacement');
    f.removeCallback();
    expect(fs.readFileSync(f.name, 'utf8')).toBe('replacement');
    const [, p, , cleanup] = (await args((cb) => tmp.file({ tmpdir: r }, cb))) as [null, string, number, (n: () => void) => void];
    fs.renameSync(path.join(r, path.basename(f.name)), p); // another file under our name
    await new Promise<void>((res) => cleanup(res));
    expect(fs.readFileSync(p, 'utf8')).toBe('replacement');
  });

  it('a descriptor the caller closed, whose number now holds another file, is not closed', () => {
    const r = freshRoot();
    const f = tmp.fileSync({ tmpdir: r });
    fs.closeSync(f.fd);
    // open files until the kernel hands out f.fd's number again (it gives the lowest free one)
    const held: number[] = [];
    for (let i = 0; i < 1000 && !held.includes(f.fd); i++) held.push(fs.openSync(path.join(r, 'other'), 'w'));
    expect(held).toContain(f.fd);
    f.removeCallback();
    expect(fs.writeSync(f.fd, 'still open')).toBe(10);
    for (const fd of held) fs.closeSync(fd);
    expect(exists(f.name)).toBe(false);
  });

  it('(npm tmp closes that other file: its removeCallback closes the number it was given)', () => {
    const r = freshRoot();
    const f = real.fileSync({ tmpdir: r });
    fs.closeSync(f.fd);
    const held: number[] = [];
    for (let i = 0; i < 1000 && !held.includes(f.fd); i++) held.push(fs.openSync(path.join(r, 'other'), 'w'));
    f.removeCallback();
    expect(() => fs.writeSync(f.fd, 'x')).toThrow(expect.objectContaining({ code: 'EBADF' }));
    for (const fd of held) if (fd !== f.fd) fs.closeSync(fd);
  });
});

describe("tmp's path-escape CVEs: refused, nothing created outside (with tmp's Error and words where tmp refuses too)", () => {
  let r: string;
  let outside: string;
  const escapes = () => ls(outside);
  beforeAll(() => {
    r = freshRoot();
    outside = fs.mkdtempSync(path.join(s.dir, 'outside-'));
    fs.symlinkSync(outside, path.join(r, 'evil'));
  });

  const sync = [
    ['fileSync', (o: object) => tmp.fileSync(o)],
    ['dirSync', (o: object) => tmp.dirSync(o)],
    ['tmpNameSync', (o: object) => tmp.tmpNameSync(o)],
  ] as const;
  const async = [
    ['file', (o: object) => args((cb) => tmp.file(o, cb))],
    ['dir', (o: object) => args((cb) => tmp.dir(o, cb))],
    ['tmpName', (o: object) => args((cb) => tmp.tmpName(o, cb))],
  ] as const;

  // CVE-2025-54798 (tmp <= 0.2.3): `dir` through a symbolic link out of the temporary directory.
  // CVE-2026-44705 (tmp < 0.2.6): '../' in prefix or postfix (or template).
  // CVE-2026-49982 (tmp < 0.2.7): the same in an Array, a Buffer or an object with toString.
  const cases: [string, () => object, string][] = [
    ['CVE-2025-54798: dir is a link to outside', () => ({ tmpdir: r, dir: 'evil' }), 'ERR_INVALID_ARG_VALUE'],
    ['CVE-2025-54798: dir is a path through that link', () => ({ tmpdir: r, dir: path.join(r, 'evil') }), 'ERR_INVALID_ARG_VALUE'],
    ['CVE-2025-54798: template through that link', () => ({ tmpdir: r, template: 'evil/x-XXXXXX' }), 'ERR_INVALID_ARG_VALUE'],
    ['dir is simply elsewhere', () => ({ tmpdir: r, dir: outside }), 'ERR_INVALID_ARG_VALUE'],
    ['CVE-2026-44705: prefix "../"', () => ({ tmpdir: r, prefix: `../${path.basename(outside)}/x` }), 'ERR_INVALID_ARG_VALUE'],
    ['CVE-2026-44705: postfix "/../../"', () => ({ tmpdir: r, postfix: `/../../${path.basename(outside)}/x` }), 'ERR_INVALID_ARG_VALUE'],
    ['CVE-2026-44705: template "../"', () => ({ tmpdir: r, template: `../${path.basename(outside)}/XXXXXX` }), 'ERR_INVALID_ARG_VALUE'],
    ['CVE-2026-49982: prefix as an Array', () => ({ tmpdir: r, prefix: [`../${path.basename(outside)}/x`] }), 'ERR_INVALID_ARG_TYPE'],
    ['CVE-2026-49982: postfix as a Buffer', () => ({ tmpdir: r, postfix: Buffer.from(`/../../${path.basename(outside)}/x`) }), 'ERR_INVALID_ARG_TYPE'],
    ['CVE-2026-49982: template as an object', () => ({ tmpdir: r, template: { toString: () => `../${path.basename(outside)}/XXXXXX`, includes: () => false } }), 'ERR_INVALID_ARG_TYPE'],
    ['a separator in prefix (tmp 0.2.7 follows it into a subdirectory, or a link there)', () => ({ tmpdir: r, prefix: 'evil/x' }), 'ERR_INVALID_ARG_VALUE'],
    ['an absolute prefix', () => ({ tmpdir: r, prefix: outside + '/x' }), 'ERR_INVALID_ARG_VALUE'],
    ['name with a directory part', () => ({ tmpdir: r, name: `../${path.basename(outside)}/x` }), 'ERR_INVALID_ARG_VALUE'],
    ['name ".."', () => ({ tmpdir: r, name: '..' }), 'ERR_INVALID_ARG_VALUE'],
    ['a NUL byte in postfix', () => ({ tmpdir: r, postfix: 'a\0b' }), 'ERR_INVALID_ARG_VALUE'],
  ];

  /** What npm tmp 0.2.7 refuses the same input with (tmpNameSync creates nothing), or null where it accepts it. */
  function tmpsRefusal(opts: object): { name: string; message: string } | null {
    try {
      real.tmpNameSync(opts as Tmp.TmpNameOptions);
      return null;
    } catch (e) {
      const err = e as Error & { code?: string };
      // a system error (ENOENT from where a separator led) is not a refusal of the input
      return err.constructor === Error && err.code === undefined ? { name: 'Error', message: err.message } : null;
    }
  }

  /** tmp's Error, its message text and our code where tmp refuses; else our TypeError. */
  function expected(opts: object, code: string) {
    const refused = tmpsRefusal(opts);
    return refused === null ? { name: 'TypeError', code } : { ...refused, code };
  }

  describe.each(cases)('%s', (_, opts, code) => {
    it.each(sync)('%s throws', (__, f) => {
      let err: unknown;
      try {
        f(opts());
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject(expected(opts(), code));
      expect(err instanceof TypeError).toBe(expected(opts(), code).name === 'TypeError');
      expect(escapes()).toEqual([]);
    });
    it.each(async)('%s calls back with the error', async (__, f) => {
      const [err, ...rest] = await f(opts());
      expect(err).toMatchObject(expected(opts(), code));
      expect(rest).toEqual([]);
      expect(escapes()).toEqual([]);
    });
  });

  it("which of the cases tmp refuses itself (and so gets tmp's Error): all but the separator, the absolute prefix and NUL", () => {
    expect(cases.map(([what, opts]) => [what, tmpsRefusal(opts()) !== null])).toEqual(
      cases.map(([what]) => [what, !/separator in prefix|absolute prefix|NUL byte/.test(what)]),
    );
    expect(tmpsRefusal({ tmpdir: r, template: 'no-x' })).toEqual({ name: 'Error', message: 'Invalid template, found "no-x".' });
    expect(escapes()).toEqual([]);
  });

  it('npm tmp 0.2.7 refuses the CVE cases too, with a plain Error (the message differs, the type is a subclass)', () => {
    for (const [, opts] of cases.slice(0, 10)) {
      expect(() => real.fileSync(opts() as Tmp.FileOptions)).toThrow(Error);
    }
    expect(escapes()).toEqual([]);
  });

  it('tmp 0.2.7 lets a separator in prefix through into a linked subdirectory; we do not', () => {
    const f = real.fileSync({ tmpdir: r, prefix: 'evil/x' });
    expect(fs.realpathSync(path.dirname(f.name))).toBe(fs.realpathSync(outside));
    f.removeCallback();
  });
});

describe('at exit (child processes), as npm tmp', () => {
  /** Runs a script with `mod` as tmp in a fresh root; returns what is left there. */
  function atExit(mod: string, body: string): string[] {
    const r = freshRoot();
    const code = `const tmp = require(${JSON.stringify(mod)}); const fs = require('fs'); const r = ${JSON.stringify(r)};\n${body}`;
    const out = runNode(code);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    return ls(r);
  }
  const both = (body: string) => [atExit('securetemp/tmp', body), atExit('tmp', body)].map((l) => l.map((x) => x.replace(/-\d+-[0-9A-Za-z]{12}/, '-PID-R')));

  it('without setGracefulCleanup nothing is removed (the README says otherwise; the code does this)', () => {
    const [ours, theirs] = both(`tmp.fileSync({ tmpdir: r }); tmp.dirSync({ tmpdir: r });`);
    expect(ours).toHaveLength(2);
    expect(ours).toEqual(theirs);
  });

  it('with setGracefulCleanup: files and empty directories removed, keep kept', () => {
    const [ours, theirs] = both(`
      tmp.setGracefulCleanup();
      tmp.fileSync({ tmpdir: r }); tmp.dirSync({ tmpdir: r }); tmp.fileSync({ tmpdir: r, discardDescriptor: true });
      tmp.fileSync({ tmpdir: r, name: 'kept-file', keep: true }); tmp.dirSync({ tmpdir: r, name: 'kept-dir', keep: true });`);
    expect(ours).toEqual(['kept-dir', 'kept-file']);
    expect(ours).toEqual(theirs);
  });

  it('newest first: a file made in a directory is removed before it, so the directory goes too', () => {
    const [ours, theirs] = both(`
      tmp.setGracefulCleanup();
      const d = tmp.dirSync({ tmpdir: r, name: 'd' });
      tmp.fileSync({ tmpdir: r, dir: 'd' });`);
    expect(ours).toEqual([]);
    expect(ours).toEqual(theirs);
  });

  it('a directory that is not empty stays without unsafeCleanup, silently; goes with it', () => {
    const [ours, theirs] = both(`
      tmp.setGracefulCleanup();
      fs.writeFileSync(tmp.dirSync({ tmpdir: r, name: 'full' }).name + '/f', 'x');
      fs.writeFileSync(tmp.dirSync({ tmpdir: r, name: 'gone', unsafeCleanup: true }).name + '/f', 'x');`);
    expect(ours).toEqual(['full']);
    expect(ours).toEqual(theirs);
  });

  it('setGracefulCleanup may come after the files were made; removed ones are not removed twice', () => {
    const [ours, theirs] = both(`
      const a = tmp.fileSync({ tmpdir: r, name: 'a' }); a.removeCallback();
      fs.writeFileSync(r + '/a', 'not tmp\\'s any more');
      tmp.dirSync({ tmpdir: r });
      tmp.setGracefulCleanup();`);
    expect(ours).toEqual(['a']);
    expect(ours).toEqual(theirs);
  });

  it('an unexpected failure at exit is reported on stderr (tmp drops it), the rest still removed', () => {
    const r = freshRoot();
    const out = runNode(`
      const tmp = require('securetemp/tmp'); const fs = require('fs');
      tmp.setGracefulCleanup();
      tmp.fileSync({ tmpdir: ${JSON.stringify(r)} });
      const p = tmp.dirSync({ tmpdir: ${JSON.stringify(r)}, name: 'parent' });
      tmp.dirSync({ tmpdir: ${JSON.stringify(r)}, dir: 'parent', name: 'child' });
      // The parent moved away and a file put at its name: the child's path now fails with
      // ENOTDIR (reported), and the parent's name leads to a file that is not ours (left).
      fs.renameSync(p.name, p.name + '-moved'); fs.writeFileSync(p.name, 'now a file');
      tmp.fileSync({ tmpdir: ${JSON.stringify(r)} });`);
    expect(out.status).toBe(0);
    expect(out.stderr).toMatch(/CleanupWarning: securetemp\/tmp: cleanup at exit failed: ENOTDIR/);
    expect(ls(r)).toEqual(['parent', 'parent-moved']);
    expect(ls(path.join(r, 'parent-moved'))).toEqual(['child']);
  });

  it('loading it installs no exit listener; the first file not kept does', () => {
    const r = runNode(`
      const before = process.listenerCount('exit');
      const tmp = require('securetemp/tmp');
      const loaded = process.listenerCount('exit');
      const root = ${JSON.stringify(freshRoot())};
      tmp.fileSync({ keep: true, discardDescriptor: true, tmpdir: root });
      const kept = process.listenerCount('exit');
      tmp.fileSync({ discardDescriptor: true, tmpdir: root });
      console.log(JSON.stringify([loaded - before, kept - before, process.listenerCount('exit') - before]));`);
    expect(JSON.parse(r.stdout)).toEqual([0, 0, 1]);
  });
});

describe('module shapes', () => {
  it('import gives the same functions as require, the object as default, and named exports', () => {
    const out = runNode(
      `import tmp, { file, fileSync, dir, dirSync, tmpName, tmpNameSync, setGracefulCleanup } from 'securetemp/tmp';
       import { createRequire } from 'node:module';
       const req = createRequire(import.meta.url)('securetemp/tmp');
       const same = [file, fileSync, dir, dirSync, tmpName, tmpNameSync, setGracefulCleanup].every((f, i) =>
         f === req[['file', 'fileSync', 'dir', 'dirSync', 'tmpName', 'tmpNameSync', 'setGracefulCleanup'][i]]);
       console.log(JSON.stringify([tmp === req, same, typeof tmp.tmpdir]));`,
      { args: ['--input-type=module'] },
    );
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([true, true, 'string']);
  });

});
