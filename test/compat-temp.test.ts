// securetemp/temp: temp 0.9's own test (bruce/node-temp test/temp-test.js) ported assertion by
// assertion and run against temp 0.9.4 and the drop-in; temp's README examples; differential
// runs (shapes, what is on disk, errors); temp.path's not-yet-existing name, which must be
// un-plantable; and affixes that would lead out of the directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type Temp from 'securetemp/temp';
import { isLinux, isRoot, ls, runNode, scratch } from './_helpers';
import { runAsNobody } from './security/_security';

const require = createRequire(import.meta.url);
const ours: typeof Temp = require('securetemp/temp');
const real: typeof Temp = require('temp'); // 0.9.4
const exists = (p: string, mode?: number) => {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  return st !== undefined && (mode === undefined || (st.mode & 0o777) === mode);
};
const cb = <T>(f: (done: (err: Error | null, r: T) => void) => void) =>
  new Promise<[Error | null, T]>((resolve) => f((err, r) => resolve([err, r])));

let s: ReturnType<typeof scratch>;
let shared: string;
let own: string;
beforeAll(() => {
  s = scratch();
  fs.chmodSync(s.dir, 0o755);
  shared = path.join(s.dir, 'shared');
  fs.mkdirSync(shared);
  fs.chmodSync(shared, 0o1777);
  own = path.join(s.dir, 'own');
  fs.mkdirSync(own, { mode: 0o700 });
});
afterAll(() => s.remove());

describe.each([
  ['temp 0.9.4', real],
  ['securetemp/temp', ours],
])("temp's own test, assertion by assertion: %s", (_, temp) => {
  beforeAll(() => temp.track());
  afterEach(() => temp.cleanupSync());

  it('mkdir with a prefix: no error, the prefix used, 0700; cleanupSync removes it with a file in it', async () => {
    const [err, tpath] = await cb<string>((done) => temp.mkdir('foo', done));
    expect(err).toBeFalsy();
    expect(path.basename(tpath).slice(0, 3)).toBe('foo');
    expect(exists(tpath, 0o700)).toBe(true);
    fs.writeFileSync(path.join(tpath, 'a file'), 'a content');
    temp.cleanupSync();
    expect(exists(tpath)).toBe(false);
  });

  it('mkdir/mkdirSync with a mode: temp 0.9.4 ignores it (0700); its test expects the mode, which temp 0.9.4 fails too', async () => {
    const [, a] = await cb<string>((done) => temp.mkdir({ mode: 0o755 } as never, done));
    expect(exists(a, 0o700)).toBe(true);
    expect(exists(temp.mkdirSync({ mode: '0711' } as never), 0o700)).toBe(true);
    expect(exists(temp.mkdirSync({ mode: 'zzz' } as never), 0o700)).toBe(true);
  });

  it('open with a prefix: {path, fd}; the file exists; cleanupSync removes it', async () => {
    const [, info] = await cb<Temp.OpenFile>((done) => temp.open('bar', done));
    expect(typeof info).toBe('object');
    expect(typeof info.fd).toBe('number');
    fs.writeSync(info.fd, 'foo');
    fs.closeSync(info.fd);
    expect(typeof info.path).toBe('string');
    expect(exists(info.path)).toBe(true);
    temp.cleanupSync();
    expect(exists(info.path)).toBe(false);
  });

  it('createWriteStream: an fs.WriteStream whose path exists; mkdirSync; cleanupSync removes both', async () => {
    const stream = temp.createWriteStream('baz');
    expect(stream instanceof fs.WriteStream).toBe(true);
    stream.write('foo');
    stream.end('More text here\nand more...');
    // temp's test looks at once; temp's stream opens its file asynchronously, so it is looked at once written
    await new Promise<void>((r) => stream.on('close', () => r()));
    expect(exists(stream.path as string)).toBe(true);
    const tempDir = temp.mkdirSync('foobar');
    expect(exists(tempDir)).toBe(true);
    temp.cleanupSync();
    expect(exists(stream.path as string)).toBe(false);
    expect(exists(tempDir)).toBe(false);
  });

  it('cleanup(callback): removes an openSync file and reports {files: 1}', async () => {
    const tempFile = temp.openSync();
    fs.writeSync(tempFile.fd, 'foo');
    fs.closeSync(tempFile.fd);
    expect(exists(tempFile.path)).toBe(true);
    const [err, counts] = await cb<Temp.Stats>((done) => temp.cleanup(done));
    expect(err).toBeFalsy();
    expect(exists(tempFile.path)).toBe(false);
    expect(counts.files).toBe(1);
  });

  it('path({dir}) in a directory only we can write: the name is directly in it', () => {
    expect(path.dirname(temp.path({ dir: own }))).toBe(own);
  });
});

describe("temp's own test in a child process, as it runs (exit listener, temp.path() in temp.dir)", () => {
  /** The assertions of temp's test that need a process of their own, with `mod` and TMPDIR. */
  function run(mod: string, tmpdir: string) {
    const r = runNode(
      `const temp = require(${JSON.stringify(require.resolve(mod))}).track(); const path = require('path');
       const out = {};
       out.pathInDir = path.dirname(temp.path()) === temp.dir;
       out.pathInCwd = path.dirname(temp.path({ dir: process.cwd() })) === process.cwd();
       for (let i = 0; i <= 10; i++) temp.openSync();
       out.exitListeners = process.listeners('exit').length;
       console.log(JSON.stringify(out));`,
      { cwd: own, env: { ...process.env, TMPDIR: tmpdir } },
    );
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout);
  }

  it('with a private TMPDIR (0700, ours): every assertion passes, for temp and the drop-in; nothing left at exit', () => {
    const priv = fs.mkdtempSync(path.join(s.dir, 'priv-'));
    const want = { pathInDir: true, pathInCwd: true, exitListeners: 1 };
    expect(run('temp', priv)).toEqual(want);
    expect(run('securetemp/temp', priv)).toEqual(want);
    expect(ls(priv)).toEqual([]);
  });

  it('with a shared TMPDIR (1777, as /tmp): temp.path() is in a fresh 0700 directory, not temp.dir (the documented difference)', () => {
    expect(run('temp', shared)).toEqual({ pathInDir: true, pathInCwd: true, exitListeners: 1 });
    expect(run('securetemp/temp', shared)).toEqual({ pathInDir: false, pathInCwd: true, exitListeners: 1 });
    expect(ls(shared)).toEqual([]);
  });
});

describe("temp's README examples, against the drop-in", () => {
  beforeAll(() => ours.track());
  afterEach(() => ours.cleanupSync());

  it('open("myprefix"), write, close, read back; tracked and removed', async () => {
    const [err, info] = await cb<Temp.OpenFile>((done) => ours.open('myprefix', done));
    expect(err).toBeNull();
    fs.writeSync(info.fd, 'foo\nbar\nfoo\nbaz');
    fs.closeSync(info.fd);
    expect(fs.readFileSync(info.path, 'utf8').split('\n').filter((l) => l === 'foo')).toHaveLength(2);
    expect(path.basename(info.path)).toMatch(/^myprefix\d+-\d+-[a-z0-9]{12}$/);
    expect(fs.statSync(info.path).mode & 0o777).toBe(0o600);
  });

  it('require("temp").track() is chainable; cleanup() returns counts', async () => {
    expect(ours.track()).toBe(ours);
    ours.openSync();
    ours.mkdirSync('pdfcreator');
    expect(await ours.cleanup()).toEqual({ files: 1, dirs: 1 });
  });

  it('mkdir("pdfcreator"), a file written in it; createWriteStream(); open({suffix: ".pdf"}); path({suffix: ".pdf"})', async () => {
    const [, dirPath] = await cb<string>((done) => ours.mkdir('pdfcreator', done));
    fs.writeFileSync(path.join(dirPath, 'input.tex'), '\\starttext\nHello World\n\\stoptext');
    const stream = ours.createWriteStream();
    stream.write('Some data');
    stream.end();
    await new Promise<void>((r) => stream.on('close', () => r()));
    expect(fs.readFileSync(stream.path as string, 'utf8')).toBe('Some data');
    const [, pdf] = await cb<Temp.OpenFile>((done) => ours.open({ suffix: '.pdf' }, done));
    fs.closeSync(pdf.fd);
    expect(pdf.path.endsWith('.pdf')).toBe(true);
    const name = ours.path({ suffix: '.pdf' });
    expect([name.endsWith('.pdf'), exists(name)]).toEqual([true, false]);
  });

  it('affixes: "aprefix", {prefix}, {suffix}, {prefix, suffix}, {dir}, null', () => {
    const base = (p: string) => path.basename(p);
    expect(base(ours.mkdirSync('aprefix'))).toMatch(/^aprefix/);
    expect(base(ours.mkdirSync({ prefix: 'aprefix' }))).toMatch(/^aprefix/);
    expect(base(ours.mkdirSync({ suffix: '.asuffix' }))).toMatch(/^\d+-\d+-[a-z0-9]{12}\.asuffix$/);
    expect(base(ours.mkdirSync({ prefix: 'myprefix', suffix: 'mysuffix' }))).toMatch(/^myprefix.*mysuffix$/);
    const app = path.join(own, 'myapp');
    expect(path.dirname(ours.mkdirSync({ dir: app }))).toBe(app); // made if missing, as temp does
    expect(base(ours.mkdirSync(null))).toMatch(/^d-/);
    expect(base(ours.openSync(null).path)).toMatch(/^f-/);
  });
});

describe('differential against temp 0.9.4', () => {
  afterEach(() => {
    ours.track(false);
    real.track(false);
  });

  it('names: the same shape (prefix, date, pid, random, suffix) in the same directory', () => {
    const shape = (p: string) => path.basename(p).replace(/-[0-9a-z.]+(\.x)?$/, '-R$1');
    for (const affixes of ['pre', { prefix: 'p', suffix: '.x' }, { dir: own }, null]) {
      const a = ours.openSync(affixes as never);
      const b = real.openSync(affixes as never);
      expect([shape(a.path), path.dirname(a.path), fs.statSync(a.path).mode & 0o777]).toEqual([shape(b.path), path.dirname(b.path), fs.statSync(b.path).mode & 0o777]);
      for (const f of [a, b]) {
        fs.closeSync(f.fd);
        fs.unlinkSync(f.path); // not tracked: the run's temporary directory is left empty
      }
    }
  });

  it('promises without a callback: open/mkdir resolve to the same shapes', async () => {
    const [a, b] = [await ours.open({ dir: own }), await real.open({ dir: own })];
    expect(Object.keys(a!).sort()).toEqual(Object.keys(b!).sort());
    fs.closeSync(a!.fd);
    fs.closeSync(b!.fd);
    expect(typeof (await ours.mkdir({ dir: own }))).toBe(typeof (await real.mkdir({ dir: own })));
  });

  it('not tracking: cleanupSync is false, cleanup rejects "not tracking"', async () => {
    for (const m of [ours, real]) {
      m.track(false);
      expect(m.cleanupSync()).toBe(false);
      await expect(m.cleanup()).rejects.toThrow('not tracking');
    }
  });

  it('an affix of another type: the same Error', () => {
    for (const m of [ours, real]) expect(() => m.openSync(5 as never)).toThrow(new Error('Unknown affix declaration: [object Object]'));
  });

  it('temp.dir is os.tmpdir() resolved, the same', () => {
    expect(ours.dir).toBe(real.dir);
  });

  it('ESM: default and named exports, one state with require', () => {
    const out = runNode(
      `import temp, { track, openSync, dir } from 'securetemp/temp';
       import { createRequire } from 'node:module';
       const r = createRequire(import.meta.url)('securetemp/temp');
       console.log(JSON.stringify([temp === r, track === r.track, openSync === r.openSync, dir === r.dir]));`,
      { args: ['--input-type=module'] },
    );
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([true, true, true, true]);
  });
});

describe('what temp would let out of the directory, and temp.path where others can write', () => {
  const escapes: [string, unknown][] = [
    ['a prefix "../"', '../escaped-'],
    ['a suffix with a separator', { suffix: '/../../escaped' }],
    ['a prefix as an Array', { prefix: ['../x'] }],
    ['a NUL in the prefix', { prefix: 'a\0b', dir: own }],
  ];
  it.each(escapes)('%s: a TypeError for every function, nothing created (temp joins it into the path)', (_, affixes) => {
    for (const f of [ours.openSync, ours.mkdirSync, ours.createWriteStream, ours.path])
      expect(() => f(affixes as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: expect.stringMatching(/^ERR_INVALID_ARG_(TYPE|VALUE)$/) }));
    expect(ls(own)).not.toContainEqual(expect.stringMatching(/escaped|x20/));
    expect(ls(s.dir)).not.toContainEqual(expect.stringMatching(/escaped/));
    expect(fs.readdirSync(path.dirname(ours.dir))).not.toContainEqual(expect.stringMatching(/^escaped/));
  });

  it('path() in a shared (1777) directory: a fresh 0700 directory of ours holds the name; cleanup removes it when tracking', () => {
    ours.track();
    ours.cleanupSync(); // what earlier tests left tracked
    const p = ours.path({ dir: shared });
    expect(path.dirname(path.dirname(p))).toBe(shared);
    expect(fs.statSync(path.dirname(p)).mode & 0o7777).toBe(0o700);
    expect(exists(p)).toBe(false);
    expect(ours.cleanupSync()).toEqual({ files: 0, dirs: 1 });
    expect(ls(shared)).toEqual([]);
    ours.track(false);
  });

  it.runIf(isLinux && isRoot)('attack: nobody plants a link at the name temp.path hands out (and at the same name in the shared directory); the victim is untouched', () => {
    const victim = path.join(s.dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    const p = ours.path({ dir: shared });
    const r = runAsNobody(`
      const out = [];
      for (const at of [${JSON.stringify(p)}, ${JSON.stringify(path.join(shared, path.basename(p)))}]) {
        try { fs.symlinkSync(${JSON.stringify(victim)}, at); out.push('planted'); } catch (e) { out.push(e.code); }
      }
      console.log(JSON.stringify(out));`);
    expect(JSON.parse(r.stdout)).toEqual(['EACCES', 'planted']);
    fs.writeFileSync(p, 'root data');
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    fs.rmSync(path.dirname(p), { recursive: true });
    fs.unlinkSync(path.join(shared, path.basename(p)));
    fs.unlinkSync(victim);
  });

  it.runIf(isLinux && isRoot)("attack: affixes.dir made first by nobody in the shared directory is refused (temp's mkdirp uses it)", () => {
    const d = path.join(shared, 'myapp');
    runAsNobody(`fs.mkdirSync(${JSON.stringify(d)})`);
    expect(() => ours.mkdirSync({ dir: d })).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(ls(d)).toEqual([]);
    fs.rmSync(d, { recursive: true });
  });
});
