// securetemp/tmp-promise: tmp-promise's README examples run against it, its result shapes
// compared with the real tmp-promise 3.0.3, disposers that clean up on return and on throw,
// and one state with securetemp/tmp.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type TmpPromise from 'securetemp/tmp-promise';
import type Tmp from 'securetemp/tmp';
import { runNode, scratch } from './_helpers';

const require = createRequire(import.meta.url);
const tmp: typeof TmpPromise = require('securetemp/tmp-promise');
const real: typeof TmpPromise = require('tmp-promise'); // npm tmp-promise 3.0.3 (on npm tmp 0.2.7)
const tmpCallbacks: typeof Tmp = require('securetemp/tmp');

let s: ReturnType<typeof scratch>;
let n = 0;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
const freshRoot = () => fs.realpathSync(fs.mkdtempSync(path.join(s.dir, `r${n++}-`)));

const umask = process.umask();
const modeOf = (p: string) => fs.statSync(p).mode & 0o777;
const exists = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
const OURS = /^tmp-\d+-[a-z0-9]{12}$/;
/** What somePromiseReturningFn() stands for in the README. */
const somePromiseReturningFn = () => new Promise<string>((r) => setTimeout(() => r('value'), 5));

describe('the README examples of tmp-promise, against securetemp/tmp-promise', () => {
  it('file(): {fd, path, cleanup}; cleanup() removes it', async () => {
    const { fd, path: p, cleanup } = await tmp.file();
    expect(fs.fstatSync(fd).ino).toBe(fs.statSync(p).ino);
    expect(path.basename(p)).toMatch(OURS);
    await cleanup();
    expect(exists(p)).toBe(false);
  });

  it('tmp.file().then(o => …): the older way', async () => {
    await tmp.file().then(async (o) => {
      expect(o.path).toBeTypeOf('string');
      expect(o.fd).toBeTypeOf('number');
      await o.cleanup();
      expect(exists(o.path)).toBe(false);
    });
  });

  it('withFile: the file exists while the function runs, is removed after, the value comes back', async () => {
    let seen = '';
    const v = await tmp.withFile((o) => {
      seen = o.path;
      expect(fs.fstatSync(o.fd).ino).toBe(fs.statSync(o.path).ino);
      return somePromiseReturningFn();
    });
    expect(v).toBe('value');
    expect(exists(seen)).toBe(false);
  });

  it('withFile with an async function and destructuring (the ES module example)', async () => {
    let seen = '';
    await tmp.withFile(async ({ path: p, fd }) => {
      seen = p;
      fs.writeSync(fd, 'db');
      expect(fs.readFileSync(p, 'utf8')).toBe('db');
    });
    expect(exists(seen)).toBe(false);
  });

  it('fileSync: {name, fd, removeCallback}', () => {
    const tmpobj = tmp.fileSync();
    expect(Object.keys(tmpobj).sort()).toEqual(['fd', 'name', 'removeCallback']);
    tmpobj.removeCallback();
    expect(exists(tmpobj.name)).toBe(false);
  });

  it('dir(): {path, cleanup}; withDir: removed once the promise resolves', async () => {
    const o = await tmp.dir();
    expect(fs.statSync(o.path).isDirectory()).toBe(true);
    await o.cleanup();
    expect(exists(o.path)).toBe(false);
    let seen = '';
    const v = await tmp.withDir((d) => {
      seen = d.path;
      expect(fs.statSync(d.path).isDirectory()).toBe(true);
      return somePromiseReturningFn();
    });
    expect(v).toBe('value');
    expect(exists(seen)).toBe(false);
  });

  it('dirSync: {name, removeCallback}', () => {
    const tmpobj = tmp.dirSync();
    expect(fs.statSync(tmpobj.name).isDirectory()).toBe(true);
    tmpobj.removeCallback();
    expect(exists(tmpobj.name)).toBe(false);
  });

  it('tmpName() and tmpNameSync(): names that do not exist', async () => {
    const p = await tmp.tmpName();
    expect(exists(p)).toBe(false);
    expect(path.basename(tmp.tmpNameSync())).toMatch(OURS);
  });

  it('Advanced: file and fileSync with mode 0644, prefix "prefix-", postfix ".txt"', async () => {
    const o = await tmp.file({ mode: 0o644, prefix: 'prefix-', postfix: '.txt' });
    const tmpobj = tmp.fileSync({ mode: 0o644, prefix: 'prefix-', postfix: '.txt' });
    for (const p of [o.path, tmpobj.name]) {
      expect(path.basename(p)).toMatch(/^prefix--\d+-[a-z0-9]{12}-\.txt$/);
      expect(modeOf(p)).toBe(0o644 & ~umask);
    }
    await o.cleanup();
    tmpobj.removeCallback();
  });

  it('Advanced: dir and dirSync with mode 0750, prefix "myTmpDir_"', async () => {
    const o = await tmp.dir({ mode: 0o750, prefix: 'myTmpDir_' });
    const tmpobj = tmp.dirSync({ mode: 0o750, prefix: 'myTmpDir_' });
    for (const p of [o.path, tmpobj.name]) {
      expect(path.basename(p)).toMatch(/^myTmpDir_-\d+-[a-z0-9]{12}$/);
      expect(modeOf(p)).toBe(0o750 & ~umask);
    }
    await o.cleanup();
    tmpobj.removeCallback();
  });

  // The README writes the template as '/tmp/tmp-XXXXXX': a path inside the temporary directory.
  // So this one test sets the run's private root (test/_tmproot.ts) aside for the real /tmp,
  // and removes what it made there even when it fails.
  const inTmp = fs.realpathSync('/tmp') === '/tmp';
  it.runIf(inTmp)("mkstemp like: dir, dirSync, tmpName, tmpNameSync with template '/tmp/tmp-XXXXXX', literally", async () => {
    vi.stubEnv('TMPDIR', '/tmp');
    const made: string[] = [];
    try {
      expect(os.tmpdir()).toBe('/tmp');
      const o = await tmp.dir({ template: '/tmp/tmp-XXXXXX' });
      made.push(o.path);
      const tmpobj = tmp.dirSync({ template: '/tmp/tmp-XXXXXX' });
      made.push(tmpobj.name);
      const names = [await tmp.tmpName({ template: '/tmp/tmp-XXXXXX' }), tmp.tmpNameSync({ template: '/tmp/tmp-XXXXXX' })];
      for (const p of [o.path, tmpobj.name, ...names]) expect(p).toMatch(/^\/tmp\/tmp-[0-9A-Za-z]{6}$/);
      expect(modeOf(o.path)).toBe(0o700 & ~umask);
      await o.cleanup();
      tmpobj.removeCallback();
      for (const p of made) expect(fs.existsSync(p)).toBe(false);
    } finally {
      vi.unstubAllEnvs();
      for (const p of made) fs.rmSync(p, { recursive: true, force: true });
    }
  });

  it('mkstemp like, wherever the temporary directory is: template `${tmpdir}/tmp-XXXXXX`', async () => {
    const template = path.join(tmp.tmpdir, 'tmp-XXXXXX');
    const o = await tmp.dir({ template });
    expect(path.dirname(o.path)).toBe(tmp.tmpdir);
    expect(path.basename(o.path)).toMatch(/^tmp-[0-9A-Za-z]{6}$/);
    await o.cleanup();
  });

  it('Graceful cleanup: setGracefulCleanup is tmp\'s, shared state with securetemp/tmp', () => {
    expect(tmp.setGracefulCleanup).toBe(tmpCallbacks.setGracefulCleanup);
    expect(tmp.fileSync).toBe(tmpCallbacks.fileSync);
    expect(tmp.dirSync).toBe(tmpCallbacks.dirSync);
    expect(tmp.tmpNameSync).toBe(tmpCallbacks.tmpNameSync);
  });
});

describe('compared with tmp-promise 3.0.3', () => {
  it('exports the same names', () => {
    expect(Object.keys(tmp).sort()).toEqual(Object.keys(real).sort());
    expect(tmp.tmpdir).toBe(real.tmpdir);
  });

  it.each([
    ['file', {}],
    ['file', { discardDescriptor: true }],
    ['dir', {}],
  ] as const)('%s(%o): the same result keys and kinds; cleanup resolves to undefined in both', async (fn, opts) => {
    const r = freshRoot();
    const a = await (tmp[fn] as unknown as (o: object) => Promise<Record<string, unknown>>)({ ...opts, tmpdir: r });
    const b = await (real[fn] as unknown as (o: object) => Promise<Record<string, unknown>>)({ ...opts, tmpdir: r });
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(a)) expect(typeof a[k]).toBe(typeof b[k]);
    expect(path.dirname(a.path as string)).toBe(path.dirname(b.path as string));
    expect(modeOf(a.path as string)).toBe(modeOf(b.path as string));
    expect(await (a.cleanup as () => Promise<unknown>)()).toBe(await (b.cleanup as () => Promise<unknown>)());
    expect([exists(a.path as string), exists(b.path as string)]).toEqual([false, false]);
  });

  it("withFile/withDir pass {path, fd, cleanup} and {path, cleanup}, as tmp-promise's declarations say", async () => {
    const r = freshRoot();
    const keys = async (m: typeof tmp) => [
      await m.withFile(async (o) => Object.keys(o).sort(), { tmpdir: r }),
      await m.withDir(async (o) => Object.keys(o).sort(), { tmpdir: r }),
    ];
    expect(await keys(tmp)).toEqual([['cleanup', 'fd', 'path'], ['cleanup', 'path']]);
    // tmp-promise's runtime leaves cleanup out although its index.d.ts has it (FileResult,
    // DirectoryResult): code that destructures it compiles, then calls undefined.
    expect(await keys(real)).toEqual([['fd', 'path'], ['path']]);
  });

  it('the cleanup handed to withFile/withDir removes early; the one after is then a no-op', async () => {
    const r = freshRoot();
    const seen: boolean[] = [];
    // destructuring `cleanup` type-checks (npm run typecheck) as it does against tmp-promise
    const v = await tmp.withFile(
      async ({ path: p, fd, cleanup }) => {
        expect(typeof fd).toBe('number');
        seen.push(exists(p));
        await cleanup();
        seen.push(exists(p));
        return 'file';
      },
      { tmpdir: r },
    );
    const w = await tmp.withDir(
      async ({ path: p, cleanup }) => {
        seen.push(exists(p));
        await cleanup();
        seen.push(exists(p));
        return 'dir';
      },
      { tmpdir: r },
    );
    expect([v, w, seen]).toEqual(['file', 'dir', [true, false, true, false]]);
    expect(fs.readdirSync(r)).toEqual([]);
  });

  it('a function that throws: the file and the directory are removed, the error comes back', async () => {
    let f = '';
    let d = '';
    await expect(
      tmp.withFile(({ path: p }) => {
        f = p;
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    await expect(
      tmp.withDir(async ({ path: p }) => {
        d = p;
        throw new Error('inside too');
      }),
    ).rejects.toThrow('inside too');
    expect([exists(f), exists(d)]).toEqual([false, false]);
  });

  it('withDir on a directory left full: rejects with ENOTEMPTY, as tmp-promise; unsafeCleanup empties it', async () => {
    for (const m of [tmp, real]) {
      const r = freshRoot();
      await expect(m.withDir(({ path: p }) => fs.writeFileSync(path.join(p, 'f'), 'x'), { tmpdir: r })).rejects.toMatchObject({ code: 'ENOTEMPTY' });
      await m.withDir(({ path: p }) => fs.writeFileSync(path.join(p, 'f'), 'x'), { tmpdir: r, unsafeCleanup: true });
      expect(fs.readdirSync(r)).toHaveLength(1);
    }
  });

  it("a bad option rejects (never throws synchronously); traversal is tmp's Error, or our TypeError where tmp accepts it", async () => {
    const bad = { prefix: '../escape' };
    let p: Promise<unknown> | undefined;
    expect(() => {
      p = tmp.file(bad);
    }).not.toThrow();
    await expect(p).rejects.toMatchObject({ name: 'Error', message: 'Relative value not allowed', code: 'ERR_INVALID_ARG_VALUE' });
    await expect(tmp.dir({ prefix: ['../escape'] as unknown as string })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    // tmp refuses '..' too: its Error and words, with our code
    await expect(tmp.tmpName({ postfix: '/../x' })).rejects.toMatchObject({ name: 'Error', message: 'Relative value not allowed', code: 'ERR_INVALID_ARG_VALUE' });
    await expect(tmp.withFile(async () => 'never', { template: '../XXXXXX' })).rejects.toMatchObject({ message: 'Relative value not allowed' });
    // tmp follows a separator into a subdirectory: our TypeError
    await expect(tmp.withFile(async () => 'never', { prefix: 'sub/x' })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('module shapes', () => {
  it('the ES module example: import { file, withFile } from the package; the same functions as require', () => {
    const out = runNode(
      `import { file, withFile, dir, withDir, tmpName, fileSync, dirSync, tmpNameSync, setGracefulCleanup, tmpdir } from 'securetemp/tmp-promise';
       import tmpDefault from 'securetemp/tmp-promise';
       import { createRequire } from 'node:module';
       import * as fs from 'node:fs';
       const req = createRequire(import.meta.url)('securetemp/tmp-promise');
       const { fd, path, cleanup } = await file();
       fs.writeSync(fd, 'x');
       await cleanup();
       const inside = await withFile(async ({ path }) => fs.existsSync(path));
       console.log(JSON.stringify([tmpDefault === req, file === req.file, withDir === req.withDir, typeof tmpdir, inside, fs.existsSync(path)]));`,
      { args: ['--input-type=module'] },
    );
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([true, true, true, 'string', true, false]);
  });
});
