// TempFile.persist/persistSync: a named file renamed into place, an unnamed Linux file linked
// from its descriptor; overwrite or not; afterwards permanent; on failure (EEXIST, EXDEV across
// a tmpfs, a name someone replaced) the file is handed back intact: open and temporary.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { internals, isLinux, linuxExtras, ls, noReplaceSyscall, runNode, scratch, tempfile } from './_helpers';
import { mountTmpfs } from './_mount';
import type { TempFile } from 'securetemp';

let s: ReturnType<typeof scratch>;
let dir: string;
let n = 0;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
beforeEach(() => {
  dir = path.join(s.dir, `t${n++}`);
  fs.mkdirSync(dir);
});
afterEach(() => {
  internals.internals.forceNoTmpfile = false;
  internals.setNameGenerator(null);
});

const forms = [
  ['persistSync', (f: TempFile, p: string | URL, o?: object) => Promise.resolve().then(() => f.persistSync(p, o))],
  ['persist', (f: TempFile, p: string | URL, o?: object) => f.persist(p, o)],
] as const;

const read = (p: string) => fs.readFileSync(p, 'utf8');

describe.each(forms)('%s of a named file', (_, persist) => {
  it('moves it to the target: old name gone, path updated, kept after close', async () => {
    const f = tempfile.NamedTemporaryFileSync({ dir });
    const old = f.path!;
    f.writeSync(Buffer.from('named data')); // still in the write buffer
    const target = path.join(dir, 'final.txt');
    await persist(f, target);
    expect(f.path).toBe(target);
    expect(f.name).toBe(target);
    expect(fs.existsSync(old)).toBe(false);
    expect(read(target)).toBe('named data');
    f.writeSync(Buffer.from('!')); // still the same open file
    f.closeSync();
    expect(read(target)).toBe('named data!');
    expect(ls(dir)).toEqual(['final.txt']);
  });

  it('replaces an existing target by default', async () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'old');
    const f = tempfile.NamedTemporaryFileSync({ dir });
    f.writeSync(Buffer.from('new'));
    await persist(f, target);
    await f.close();
    expect(read(target)).toBe('new');
    expect(ls(dir)).toEqual(['target']);
  });

  it('overwrite: false: EEXIST, the target untouched, the file still temporary', async () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'old');
    const f = tempfile.NamedTemporaryFileSync({ dir });
    const old = f.path!;
    f.writeSync(Buffer.from('new'));
    await expect(persist(f, target, { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST', syscall: noReplaceSyscall, path: old, dest: target });
    expect(read(target)).toBe('old');
    expect(f.path).toBe(old);
    expect(read(old)).toBe('new');
    f.closeSync(); // deletes it, as before
    expect(ls(dir)).toEqual(['target']);
  });

  it('overwrite: false refuses a planted symlink (dangling or not) as an existing target', async () => {
    fs.writeFileSync(path.join(dir, 'victim'), 'precious');
    fs.symlinkSync(path.join(dir, 'victim'), path.join(dir, 'live'));
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    const f = tempfile.NamedTemporaryFileSync({ dir });
    f.writeSync(Buffer.from('mine'));
    for (const l of ['live', 'dangling']) {
      await expect(persist(f, path.join(dir, l), { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST' });
      expect(fs.lstatSync(path.join(dir, l)).isSymbolicLink()).toBe(true);
    }
    expect(read(path.join(dir, 'victim'))).toBe('precious');
    expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false);
    f.closeSync();
  });

  it('is no longer removed at process exit once persisted', () => {
    const target = path.join(dir, 'kept');
    const r = runNode(
      `const t = require('securetemp');
       const f = t.NamedTemporaryFileSync({ dir: ${JSON.stringify(dir)} });
       const other = t.NamedTemporaryFileSync({ dir: ${JSON.stringify(dir)} }); // still temporary
       f.writeSync(Buffer.from('survives'));
       f.persistSync(${JSON.stringify(target)});
       console.log(other.path);`, // both left open: exit decides
    );
    expect(r.stderr).toBe('');
    expect(ls(dir)).toEqual(['kept']);
    expect(read(target)).toBe('survives');
  });

  it('refuses when its name now leads to another file (removed and re-created by someone else)', async () => {
    const f = tempfile.NamedTemporaryFileSync({ dir });
    const old = f.path!;
    f.writeSync(Buffer.from('mine'));
    fs.unlinkSync(old);
    fs.writeFileSync(old, 'planted'); // a cleaner removed ours, someone made their own
    const target = path.join(dir, 'target');
    await expect(persist(f, target)).rejects.toMatchObject({ code: 'ERR_TEMPFILE_REPLACED', path: old });
    expect(fs.existsSync(target)).toBe(false);
    expect(read(old)).toBe('planted');
    f.closeSync(); // and it is not ours to delete either
    expect(read(old)).toBe('planted');
  });

  it('a SpooledTemporaryFile rolls over first (a spooled file has no name: it persists as an unnamed one)', async () => {
    const f = tempfile.SpooledTemporaryFile({ dir, mode: 'w+' });
    f.writeSync('in memory');
    expect(f.rolledOver).toBe(false);
    const target = path.join(dir, 'spooled');
    if (!linuxExtras) {
      // No O_TMPFILE (macOS, the BSDs, the portable build): the unnamed file cannot be named.
      await refusedUnnamed(persist(f, target), f, target, 'in memory');
      expect(f.rolledOver).toBe(true);
      f.closeSync();
      expect(ls(dir)).toEqual([]);
      return;
    }
    await persist(f, target);
    expect(f.rolledOver).toBe(true);
    expect(f.path).toBe(target);
    f.closeSync();
    expect(read(target)).toBe('in memory');
  });

  it('checks its arguments before doing anything', async () => {
    const f = tempfile.NamedTemporaryFileSync({ dir });
    const old = f.path!;
    await expect(persist(f, 42 as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(persist(f, '')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(persist(f, `${dir}/x\0y`)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(persist(f, `${dir}/sub/`)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(persist(f, `${dir}/t`, { overwrite: 'no' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(persist(f, `${dir}/t`, { overWrite: false })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(persist(f, new URL('http://example.com/x'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(ls(dir)).toEqual([path.basename(old)]);
    await persist(f, new URL(`file://${dir}/from-url`));
    expect(f.path).toBe(`${dir}/from-url`);
    f.closeSync();
    await expect(persist(f, `${dir}/again`)).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
  });

  it('a missing target directory: ENOENT, nothing lost', async () => {
    const f = tempfile.NamedTemporaryFileSync({ dir });
    f.writeSync(Buffer.from('x'));
    await expect(persist(f, path.join(dir, 'nope', 'target'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(read(f.path!)).toBe('x');
    f.closeSync();
    expect(ls(dir)).toEqual([]);
  });
});

/**
 * Without O_TMPFILE (macOS, the BSDs, the portable build) an unnamed file was unlinked after
 * creation and cannot be named again: persist says so (ENOTSUP, about the target) and the
 * file is handed back as it was, unnamed, with its data.
 */
async function refusedUnnamed(p: Promise<unknown>, f: TempFile, target: string, data: string) {
  const err = await p.catch((e: Error) => e);
  expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'link', path: target });
  expect((err as Error).message).toMatch(/cannot be given a name.*O_TMPFILE/);
  expect(f.path).toBeNull();
  expect(f.closed).toBe(false);
  expect(fs.fstatSync(f.fd).nlink).toBe(0);
  f.seekSync(0);
  const got = f.readSync();
  expect(typeof got === 'string' ? got : Buffer.from(got).toString('utf8')).toBe(data);
}

const unnamedKind = linuxExtras ? 'an unnamed (O_TMPFILE) file' : 'an unnamed file (no O_TMPFILE in this build: ENOTSUP)';

describe.each(forms)(`%s of ${unnamedKind}`, (_, persist) => {
  it('links it into place from its descriptor; it stays after close', async () => {
    const f = tempfile.TemporaryFileSync({ dir, mode: 'w+' });
    expect(f.path).toBeNull();
    f.writeSync('unnamed ✓');
    const target = path.join(dir, 'linked');
    if (!linuxExtras) {
      await refusedUnnamed(persist(f, target), f, target, 'unnamed ✓');
      f.closeSync();
      expect(ls(dir)).toEqual([]);
      return;
    }
    await persist(f, target);
    expect(f.path).toBe(target);
    expect(fs.fstatSync(f.fd).nlink).toBe(1);
    expect(fs.statSync(target).ino).toBe(fs.fstatSync(f.fd).ino);
    f.closeSync();
    expect(read(target)).toBe('unnamed ✓');
    expect(ls(dir)).toEqual(['linked']);
  });

  it('replaces an existing target through a fresh name, leaving nothing else', async () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'old');
    const f = tempfile.TemporaryFileSync({ dir });
    f.writeSync(Buffer.from('new'));
    if (!linuxExtras) {
      await refusedUnnamed(persist(f, target), f, target, 'new');
      f.closeSync();
      expect(read(target)).toBe('old');
      expect(ls(dir)).toEqual(['target']);
      return;
    }
    await persist(f, target);
    f.closeSync();
    expect(read(target)).toBe('new');
    expect(ls(dir)).toEqual(['target']);
  });

  it('overwrite: false: EEXIST, target untouched, the file still unnamed and usable', async () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'old');
    const f = tempfile.TemporaryFileSync({ dir });
    f.writeSync(Buffer.from('new'));
    if (!linuxExtras) {
      // Refused for what the file is, before the target is looked at.
      await refusedUnnamed(persist(f, target, { overwrite: false }), f, target, 'new');
      f.closeSync();
      expect(read(target)).toBe('old');
      expect(ls(dir)).toEqual(['target']);
      return;
    }
    await expect(persist(f, target, { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST', syscall: 'link', path: target });
    expect(read(target)).toBe('old');
    expect(f.path).toBeNull();
    expect(fs.fstatSync(f.fd).nlink).toBe(0);
    f.seekSync(0);
    expect(f.readSync()).toEqual(Buffer.from('new'));
    f.closeSync();
    expect(ls(dir)).toEqual(['target']);
  });

  it('never follows a symlink planted at the intermediate names it tries', async () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'old');
    fs.writeFileSync(path.join(dir, 'victim'), 'precious');
    const planted = ['plant1plant1', 'plant2plant2', 'plant3plant3'];
    for (const p of planted) fs.symlinkSync(path.join(dir, 'victim'), path.join(dir, `.target.${p}.tmp`));
    let i = 0;
    internals.setNameGenerator(() => (i < planted.length ? planted[i++]! : `fresh${String(i++).padStart(7, '0')}`));
    const f = tempfile.TemporaryFileSync({ dir });
    f.writeSync(Buffer.from('new'));
    if (!linuxExtras) {
      await refusedUnnamed(persist(f, target), f, target, 'new');
      f.closeSync();
      expect(read(target)).toBe('old');
      expect(read(path.join(dir, 'victim'))).toBe('precious');
      expect(ls(dir)).toEqual([...planted.map((p) => `.target.${p}.tmp`), 'target', 'victim'].sort());
      return;
    }
    await persist(f, target);
    f.closeSync();
    expect(read(target)).toBe('new');
    expect(fs.lstatSync(target).isFile()).toBe(true);
    expect(read(path.join(dir, 'victim'))).toBe('precious');
    expect(ls(dir)).toEqual([...planted.map((p) => `.target.${p}.tmp`), 'target', 'victim'].sort());
  });

  it('an unnamed file made without O_TMPFILE cannot be named again: ENOTSUP that says why, file intact', async () => {
    internals.internals.forceNoTmpfile = true;
    const f = tempfile.TemporaryFileSync({ dir });
    f.writeSync(Buffer.from('kept'));
    const err = await persist(f, path.join(dir, 'target')).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'link', path: path.join(dir, 'target') });
    await expect(persist(f, path.join(dir, 'target'), { overwrite: false })).rejects.toMatchObject({ code: 'ENOTSUP' });
    expect((err as Error).message).toMatch(/cannot be given a name.*O_TMPFILE/);
    f.seekSync(0);
    expect(f.readSync()).toEqual(Buffer.from('kept'));
    f.closeSync();
    expect(ls(dir)).toEqual([]);
  });
});

describe.runIf(isLinux)('persist across file systems (a tmpfs mounted by the test)', () => {
  let mnt: string;
  let unmount: () => void;
  beforeAll(() => {
    mnt = path.join(s.dir, 'mnt');
    unmount = mountTmpfs(mnt);
  });
  afterAll(() => unmount());

  it.each(forms)('%s: EXDEV that says so; the named file keeps its name, data and temporariness', async (_, persist) => {
    const f = tempfile.NamedTemporaryFileSync({ dir });
    const old = f.path!;
    f.writeSync(Buffer.from('stays'));
    const target = path.join(mnt, 'elsewhere');
    const err = await persist(f, target).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'EXDEV', syscall: 'rename', path: old, dest: target });
    expect((err as Error).message).toMatch(/another file system/);
    expect(fs.existsSync(target)).toBe(false);
    expect(f.path).toBe(old);
    f.writeSync(Buffer.from(' usable'));
    f.seekSync(0);
    expect(f.readSync()).toEqual(Buffer.from('stays usable'));
    f.closeSync();
    expect(ls(dir)).toEqual([]); // still deleted on close
  });

  it.each(forms)('%s: EXDEV for an unnamed file, which stays unnamed and usable', async (_, persist) => {
    const f = tempfile.TemporaryFileSync({ dir });
    f.writeSync(Buffer.from('stays'));
    // Without O_TMPFILE (the portable build) it is refused for what it is, before the move.
    await expect(persist(f, path.join(mnt, 'u'))).rejects.toMatchObject({ code: linuxExtras ? 'EXDEV' : 'ENOTSUP' });
    expect(f.path).toBeNull();
    f.seekSync(0);
    expect(f.readSync()).toEqual(Buffer.from('stays'));
    f.closeSync();
    expect(ls(mnt)).toEqual([]);
  });
});

describe('persist in call order with the other async operations', () => {
  it('writes queued before persist are in the persisted file; sync calls while it is pending are refused', async () => {
    const f = tempfile.NamedTemporaryFileSync({ dir, mode: 'w+' });
    void f.write('a');
    void f.write('b');
    const p = f.persist(path.join(dir, 'ordered'));
    expect(() => f.persistSync(path.join(dir, 'other'))).toThrow(expect.objectContaining({ code: 'ERR_TEMPFILE_BUSY' }));
    await p;
    await f.close();
    expect(read(path.join(dir, 'ordered'))).toBe('ab');
    expect(ls(dir)).toEqual(['ordered']);
  });
});
