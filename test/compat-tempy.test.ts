// securetemp/tempy: tempy 3's own test suite (sindresorhus/tempy test.js) ported test by test and
// run against both tempy 3.2 and the drop-in; tempy's README examples; differential runs for
// every function and option (the result's shape, what is on disk, errors); and the paths that
// tempy hands out not yet existing, which must be un-plantable (fresh 0700 directory).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as stream from 'node:stream';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as realTempy from 'tempy';
import * as esmTempy from 'securetemp/tempy';
import type Tempy from 'securetemp/tempy';
import { isLinux, isRoot, ls, runNode, scratch } from './_helpers';
import { NOBODY, runAsNobody } from './security/_security';

const require = createRequire(import.meta.url);

// What the defaults make lands in the run's temporary directory (test/_tmproot.ts), which must be
// left empty: every path handed out is recorded, and its top entry there removed after the file.
const runRoot = fs.realpathSync(os.tmpdir());
const made = new Set<string>();
function record<T>(p: T): T {
  if (typeof p !== 'string') return p;
  const rel = path.relative(runRoot, p);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) made.add(path.join(runRoot, rel.split(path.sep)[0]!));
  return p;
}
/** The module with every path it hands out (or hands a task) recorded. */
function recorded(m: typeof Tempy): typeof Tempy {
  const task =
    <A extends unknown[]>(f: (...a: A) => unknown) =>
    (...a: A) =>
      f(...(a.map((x) => (typeof x === 'function' ? (p: string) => (x as (p: string) => unknown)(record(p)) : x)) as A));
  return {
    ...m,
    temporaryFile: (o) => record(m.temporaryFile(o)),
    temporaryDirectory: (o) => record(m.temporaryDirectory(o)),
    temporaryWriteSync: (c, o) => record(m.temporaryWriteSync(c, o)),
    temporaryWrite: async (c, o) => record(await m.temporaryWrite(c, o)),
    temporaryFileTask: task(m.temporaryFileTask) as typeof m.temporaryFileTask,
    temporaryDirectoryTask: task(m.temporaryDirectoryTask) as typeof m.temporaryDirectoryTask,
    temporaryWriteTask: task(m.temporaryWriteTask) as typeof m.temporaryWriteTask,
  };
}
// tempy names what it never hands out (a failed temporaryWrite's partial file) with 32 hex
// characters; its write stream may open that file after the promise rejected. This file is the
// only one that runs the real tempy: such names that appeared in the run's directory while it
// ran are its own, and go with the rest.
const TEMPY_NAME = /^[0-9a-f]{32}$/;
const atStart = new Set(fs.readdirSync(runRoot));
afterAll(() => {
  for (const e of fs.readdirSync(runRoot)) if (!atStart.has(e) && TEMPY_NAME.test(e)) made.add(path.join(runRoot, e));
  for (const p of made) fs.rmSync(p, { recursive: true, force: true });
});

const ours: typeof Tempy = recorded(require('securetemp/tempy'));
const real = recorded(realTempy as unknown as typeof Tempy);
const exists = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
const modeOf = (p: string) => fs.statSync(p).mode & 0o7777;

let s: ReturnType<typeof scratch>;
/** A directory like /tmp (1777): where others can add entries. */
let shared: string;
/** A directory only we can write (0700): like a per-user TMPDIR. */
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

// --- tempy's test.js (3.x), test by test, against tempy and the drop-in ------------------------

describe.each([
  ['tempy 3.2', real],
  ['securetemp/tempy', ours],
])("tempy's own tests: %s", (_, m) => {
  const { temporaryFile, temporaryFileTask, temporaryDirectory, temporaryDirectoryTask, temporaryWrite, temporaryWriteTask, temporaryWriteSync, rootTemporaryDirectory } = m;
  const tempDir = rootTemporaryDirectory; // temp-dir's value, which tempy re-exports

  it('.file()', () => {
    expect(temporaryFile().includes(tempDir)).toBe(true);
    expect(temporaryFile().endsWith('.')).toBe(false);
    expect(temporaryFile({ extension: undefined }).endsWith('.')).toBe(false);
    expect(temporaryFile({ extension: null as unknown as undefined }).endsWith('.')).toBe(false);
    expect(temporaryFile({ extension: 'png' }).endsWith('.png')).toBe(true);
    expect(temporaryFile({ extension: '.png' }).endsWith('.png')).toBe(true);
    expect(temporaryFile({ extension: '.png' }).endsWith('..png')).toBe(false);
    expect(temporaryFile({ name: 'custom-name.md' }).endsWith('custom-name.md')).toBe(true);
    expect(() => temporaryFile({ name: 'custom-name.md', extension: '.ext' } as never)).toThrow();
    expect(() => temporaryFile({ name: 'custom-name.md', extension: '' } as never)).toThrow();
    expect(() => temporaryFile({ name: 'custom-name.md', extension: undefined })).not.toThrow();
    expect(() => temporaryFile({ name: 'custom-name.md', extension: null } as never)).not.toThrow();
  });

  it('.file.task()', async () => {
    let temporaryFilePath = '';
    expect(
      await temporaryFileTask(async (temporaryFile) => {
        fs.writeFileSync(temporaryFile, ''); // touch
        temporaryFilePath = temporaryFile;
        return temporaryFile;
      }),
    ).toBe(temporaryFilePath);
    expect(exists(temporaryFilePath)).toBe(false);
  });

  it('.task() - cleans up even if callback throws', async () => {
    let temporaryDirectoryPath = '';
    await expect(
      temporaryDirectoryTask(async (temporaryDirectory) => {
        temporaryDirectoryPath = temporaryDirectory;
        throw new Error('Catch me if you can!');
      }),
    ).rejects.toThrow(expect.objectContaining({ message: 'Catch me if you can!' }));
    expect(exists(temporaryDirectoryPath)).toBe(false);
  });

  it('.directory()', () => {
    const prefix = 'name_';
    expect(temporaryDirectory().includes(tempDir)).toBe(true);
    expect(path.basename(temporaryDirectory({ prefix })).startsWith(prefix)).toBe(true);
  });

  it('.directory.task()', async () => {
    let temporaryDirectoryPath = '';
    expect(
      await temporaryDirectoryTask(async (temporaryDirectory) => {
        temporaryDirectoryPath = temporaryDirectory;
        return temporaryDirectory;
      }),
    ).toBe(temporaryDirectoryPath);
    expect(exists(temporaryDirectoryPath)).toBe(false);
  });

  it('.write(string)', async () => {
    const filePath = await temporaryWrite('unicorn', { name: 'test.png' });
    expect(fs.readFileSync(filePath, 'utf8')).toBe('unicorn');
    expect(path.basename(filePath)).toBe('test.png');
  });

  it('.write.task(string)', async () => {
    let temporaryFilePath = '';
    expect(
      await temporaryWriteTask('', async (temporaryFile) => {
        temporaryFilePath = temporaryFile;
        return temporaryFile;
      }),
    ).toBe(temporaryFilePath);
    expect(exists(temporaryFilePath)).toBe(false);
  });

  it('.write(buffer)', async () => {
    const filePath = await temporaryWrite(Buffer.from('unicorn'));
    expect(fs.readFileSync(filePath, 'utf8')).toBe('unicorn');
  });

  it('.write(stream)', async () => {
    const readable = new stream.Readable({ read() {} });
    readable.push('unicorn');
    readable.push(null);
    const filePath = await temporaryWrite(readable);
    expect(fs.readFileSync(filePath, 'utf8')).toBe('unicorn');
  });

  it('.write(stream) failing stream', async () => {
    const readable = new stream.Readable({ read() {} });
    readable.push('unicorn');
    setImmediate(() => {
      readable.emit('error', new Error('Catch me if you can!'));
      readable.push(null);
    });
    const before = new Set(fs.readdirSync(runRoot));
    await expect(temporaryWrite(readable)).rejects.toThrow(expect.objectContaining({ message: 'Catch me if you can!' }));
    // tempy leaves the partial file, whose name it never hands out: tempy's 32 hex characters
    for (const e of fs.readdirSync(runRoot)) if (!before.has(e) && TEMPY_NAME.test(e)) made.add(path.join(runRoot, e));
  });

  it('.writeSync()', () => {
    expect(fs.readFileSync(temporaryWriteSync('unicorn'), 'utf8')).toBe('unicorn');
  });

  it('.root', () => {
    expect(rootTemporaryDirectory.length > 0).toBe(true);
    expect(path.isAbsolute(rootTemporaryDirectory)).toBe(true);
  });
});

// --- tempy's README examples ---------------------------------------------------------------

describe("tempy's README examples, against the drop-in", () => {
  const { temporaryFile, temporaryDirectory, temporaryWrite, temporaryWriteSync, temporaryFileTask, temporaryDirectoryTask, temporaryWriteTask, rootTemporaryDirectory } = recorded(esmTempy as unknown as typeof Tempy);

  it('temporaryFile(), {extension: "png"}, {name: "unicorn.png"}; temporaryDirectory(), {prefix: "name"}', () => {
    // the run's root has /tmp's mode (test/_tmproot.ts): the name is in a fresh 0700 directory in it
    const f = temporaryFile();
    expect(path.dirname(path.dirname(f))).toBe(rootTemporaryDirectory);
    expect(modeOf(path.dirname(f))).toBe(0o700);
    expect(temporaryFile({ extension: 'png' })).toMatch(/\/[0-9a-f]{32}\.png$/);
    const u = temporaryFile({ name: 'unicorn.png' });
    expect(path.basename(u)).toBe('unicorn.png');
    expect(modeOf(path.dirname(u))).toBe(0o700);
    expect(exists(u)).toBe(false);
    const d = temporaryDirectory();
    expect(fs.statSync(d).isDirectory()).toBe(true);
    expect(path.basename(temporaryDirectory({ prefix: 'name' }))).toMatch(/^name/);
  });

  it('parentDirectory: "my-app" and rootDirectory', () => {
    const f = temporaryFile({ parentDirectory: 'my-app' });
    expect(path.dirname(f)).toBe(path.join(rootTemporaryDirectory, 'my-app')); // made 0700 by us: private, the bare name
    expect(modeOf(path.dirname(f))).toBe(0o700);
    const root = path.join(s.dir, 'fast-storage', 'tmp');
    expect(path.dirname(temporaryFile({ rootDirectory: root }))).toBe(root);
    expect(exists(root)).toBe(true);
  });

  it('await temporaryWrite("🦄"), temporaryWriteSync("🦄"), and the three tasks', async () => {
    expect(fs.readFileSync(await temporaryWrite('🦄'), 'utf8')).toBe('🦄');
    expect(fs.readFileSync(temporaryWriteSync('🦄'), 'utf8')).toBe('🦄');
    const seen: string[] = [];
    await temporaryFileTask((tempFile) => void seen.push(tempFile));
    await temporaryDirectoryTask((tempDirectory) => void seen.push(tempDirectory));
    await temporaryWriteTask('🦄', (tempFile) => void seen.push(fs.readFileSync(tempFile, 'utf8')));
    expect(seen[2]).toBe('🦄');
    expect([exists(seen[0]!), exists(seen[1]!)]).toEqual([false, false]);
  });

  it('require and import give the same functions', () => {
    const code = `
      import t, { temporaryFile, rootTemporaryDirectory } from 'securetemp/tempy';
      import * as ns from 'securetemp/tempy';
      import { createRequire } from 'node:module';
      const r = createRequire(import.meta.url)('securetemp/tempy');
      console.log(JSON.stringify([t === r, temporaryFile === r.temporaryFile, rootTemporaryDirectory === r.rootTemporaryDirectory, Object.keys(r).sort(), Object.keys(ns).filter((k) => k !== 'default').sort()]));
    `;
    const out = runNode(code, { args: ['--input-type=module'] });
    expect(out.stderr).toBe('');
    const keys = Object.keys(realTempy).sort();
    expect(JSON.parse(out.stdout)).toEqual([true, true, true, keys, keys]);
  });
});

// --- differential: every function and option -----------------------------------------------

describe('differential against tempy 3.2', () => {
  const shape = (p: string) => {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    return st === undefined ? 'none' : st.isDirectory() ? `dir ${ls(p).length}` : `file ${st.size}`;
  };

  it.each([
    ['temporaryFile()', {}],
    ['{extension}', { extension: 'txt' }],
    ['{name}', { name: 'n.txt' }],
    ['{parentDirectory}', { parentDirectory: 'app' }],
  ])('temporaryFile %s: a string path that does not exist, same basename shape', (_, o) => {
    const a = ours.temporaryFile({ rootDirectory: own, ...o });
    const b = real.temporaryFile({ rootDirectory: own, ...o });
    expect([typeof a, shape(a), path.extname(a)]).toEqual([typeof b, shape(b), path.extname(b)]);
    if ('name' in o) expect(path.basename(a)).toBe(path.basename(b));
    else expect(path.basename(a).length).toBe(path.basename(b).length);
  });

  it('temporaryDirectory, with prefix/parentDirectory/rootDirectory: an empty directory in the same place', () => {
    for (const o of [{}, { prefix: 'p_' }, { parentDirectory: 'app2' }, { rootDirectory: path.join(s.dir, 'rootd') }]) {
      const a = ours.temporaryDirectory(o);
      const b = real.temporaryDirectory(o);
      expect([shape(a), path.dirname(a), path.basename(a).startsWith((o as { prefix?: string }).prefix ?? '')]).toEqual([shape(b), path.dirname(b), true]);
      expect(modeOf(a)).toBe(0o700); // tempy: 0777 & ~umask
    }
  });

  it('temporaryWrite/temporaryWriteSync: string, Buffer, TypedArray, DataView, stream: same contents', async () => {
    const inputs = () => ['text', Buffer.from('buf'), new Uint8Array([65, 66]), new DataView(new Uint8Array([67]).buffer), stream.Readable.from(['a', 'b'])];
    const oursOut = [];
    const realOut = [];
    for (const c of inputs()) oursOut.push(fs.readFileSync(await ours.temporaryWrite(c as string, { rootDirectory: own }), 'latin1'));
    for (const c of inputs()) realOut.push(fs.readFileSync(await real.temporaryWrite(c as string, { rootDirectory: own }), 'latin1'));
    expect(oursOut).toEqual(realOut);
    expect(fs.readFileSync(ours.temporaryWriteSync(new Uint8Array([1, 2]), { extension: 'bin' }))).toEqual(fs.readFileSync(real.temporaryWriteSync(new Uint8Array([1, 2]), { extension: 'bin' })));
    const w = ours.temporaryWriteSync('x');
    expect(modeOf(w)).toBe(0o600); // tempy: 0666 & ~umask
  });

  it('the tasks return the callback value and leave nothing', async () => {
    for (const m of [ours, real]) {
      expect(await m.temporaryFileTask((p) => (fs.writeFileSync(p, 'x'), 1), { rootDirectory: shared })).toBe(1);
      expect(await m.temporaryDirectoryTask(async (p) => (fs.writeFileSync(path.join(p, 'in'), 'x'), 2), { rootDirectory: shared })).toBe(2);
      expect(await m.temporaryWriteTask('c', (p) => fs.readFileSync(p, 'utf8'), { rootDirectory: shared })).toBe('c');
    }
    expect(ls(shared)).toEqual([]);
  });

  const bad: [string, () => unknown, (m: typeof Tempy) => unknown][] = [
    ['name and extension', () => 0, (m) => m.temporaryFile({ name: 'a', extension: 'b' } as never)],
    ['a name with a separator', () => 0, (m) => m.temporaryFile({ name: '../x' })],
    ['a name "."', () => 0, (m) => m.temporaryFile({ name: '.' })],
    ['a blank name', () => 0, (m) => m.temporaryFile({ name: '  ' })],
    ['an extension with a separator', () => 0, (m) => m.temporaryFile({ extension: 'a/b' })],
    ['a prefix with a separator', () => 0, (m) => m.temporaryDirectory({ prefix: '../up' })],
    ['a parentDirectory with a separator', () => 0, (m) => m.temporaryFile({ parentDirectory: 'a/b' })],
    ['a parentDirectory ".."', () => 0, (m) => m.temporaryDirectory({ parentDirectory: '..' })],
    ['a relative rootDirectory', () => 0, (m) => m.temporaryFile({ rootDirectory: 'relative' })],
    ['a name that is not a string', () => 0, (m) => m.temporaryFile({ name: 5 as unknown as string })],
    ['a NUL in the extension', () => 0, (m) => m.temporaryWriteSync('x', { extension: 'a\0b' })],
  ];
  it.each(bad)('%s: the same error class and message', (_, __, call) => {
    const caught = (m: typeof Tempy) => {
      try {
        call(m);
        return null;
      } catch (e) {
        return { name: (e as Error).constructor.name, message: (e as Error).message };
      }
    };
    const theirs = caught(real);
    expect(theirs).not.toBeNull();
    expect(caught(ours)).toEqual(theirs);
  });
});

// --- un-plantable names ------------------------------------------------------------------------

describe('descriptors', () => {
  it('temporaryWrite with a name leaves no FileHandle to be closed again by garbage collection (that closed a reused number, or threw EBADF)', () => {
    const r = runNode(
      `const t = require('securetemp/tempy'), fs = require('fs'), path = require('path');
       const root = fs.mkdtempSync(path.join(${JSON.stringify(s.dir)}, 'gc-'));
       (async () => {
         for (let i = 0; i < 20; i++) await t.temporaryWrite('x', { name: 'a.txt', rootDirectory: root });
         for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 50)); }
         console.log('done');
       })();`,
      { args: ['--expose-gc'] },
    );
    expect([r.stderr, r.stdout.trim()]).toEqual(['', 'done']);
  });
});

describe('temporaryFile where others can add entries: a name nobody else can plant at', () => {
  it('in a shared (1777) root: inside a fresh 0700 directory of ours, which the task removes', async () => {
    const p = ours.temporaryFile({ rootDirectory: shared, extension: 'sock' });
    const d = path.dirname(p);
    expect(path.dirname(d)).toBe(shared);
    const st = fs.statSync(d);
    expect([st.mode & 0o7777, st.uid, exists(p)]).toEqual([0o700, process.geteuid!(), false]);
    let inTask = '';
    await ours.temporaryFileTask((q) => void (inTask = q), { rootDirectory: shared });
    expect(exists(path.dirname(inTask))).toBe(false);
    fs.rmSync(d, { recursive: true });
  });

  it('tempy hands out a bare name in the shared directory (the race the drop-in closes)', () => {
    expect(path.dirname(real.temporaryFile({ rootDirectory: shared }))).toBe(shared);
  });

  it('in a root only we can write: the bare name, as tempy', () => {
    expect(path.dirname(ours.temporaryFile({ rootDirectory: own }))).toBe(own);
  });

  it('a socket can be bound at the path handed out (the name is free)', async () => {
    const net = await import('node:net');
    await ours.temporaryFileTask(
      (p) =>
        new Promise<void>((resolve, reject) => {
          const srv = net.createServer().listen(p, () => srv.close(() => resolve()));
          srv.on('error', reject);
        }),
      { rootDirectory: shared },
    );
    expect(ls(shared)).toEqual([]);
  });

  it.runIf(isLinux && isRoot)('attack: nobody plants a link at every name it can in the shared root; root writes through the path and the victim is untouched', async () => {
    const victim = path.join(s.dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    const p = ours.temporaryFile({ rootDirectory: shared });
    // nobody tries the name itself, and the same name in the shared root (tempy's place for it)
    const r = runAsNobody(`
      const out = [];
      for (const at of [${JSON.stringify(p)}, ${JSON.stringify(path.join(shared, path.basename(p)))}]) {
        try { fs.symlinkSync(${JSON.stringify(victim)}, at); out.push('planted'); } catch (e) { out.push(e.code); }
      }
      console.log(JSON.stringify(out));`);
    expect(JSON.parse(r.stdout)).toEqual(['EACCES', 'planted']);
    fs.writeFileSync(p, 'root data');
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.lstatSync(path.join(shared, path.basename(p))).uid).toBe(NOBODY);
    fs.rmSync(path.dirname(p), { recursive: true });
    fs.unlinkSync(path.join(shared, path.basename(p)));
  });

  it.runIf(isLinux && isRoot)("attack: a parentDirectory nobody made first (or linked elsewhere) is refused, not used", () => {
    runAsNobody(`fs.mkdirSync(${JSON.stringify(path.join(shared, 'app-dir'))}); fs.symlinkSync('/', ${JSON.stringify(path.join(shared, 'app-link'))})`);
    for (const parentDirectory of ['app-dir', 'app-link']) {
      expect(() => ours.temporaryFile({ rootDirectory: shared, parentDirectory })).toThrow(expect.objectContaining({ code: 'EACCES' }));
      expect(() => ours.temporaryDirectory({ rootDirectory: shared, parentDirectory })).toThrow(expect.objectContaining({ code: 'EACCES' }));
    }
    expect(ls(path.join(shared, 'app-dir'))).toEqual([]);
    fs.rmSync(path.join(shared, 'app-dir'), { recursive: true });
    fs.unlinkSync(path.join(shared, 'app-link'));
  });
});
