// TempFile.reopen/reopenSync: a second, independent TempFile on the same data. Linux goes
// through the descriptor (unnamed files too); elsewhere by path, checked by device and inode:
// that variant is forced here with an internal switch so it runs on Linux CI too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { internals, isLinux, ls, scratch, tempfile } from './_helpers';
import type { TempFile } from 'securetemp';

const sw = internals.internals as typeof internals.internals & { forceReopenByPath: boolean };

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
afterEach(() => {
  sw.forceReopenByPath = false;
  sw.forceNoTmpfile = false;
});

const forms = [
  ['reopenSync', (f: TempFile) => Promise.resolve().then(() => f.reopenSync())],
  ['reopen', (f: TempFile) => f.reopen()],
] as const;

const ways = [
  ...(isLinux ? [['through the descriptor', false] as const] : []),
  ['by path, checked by device and inode', true] as const,
];

/** The open file description's flags, from /proc (Linux). */
function fdFlags(fd: number): number {
  const m = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return parseInt(m![1]!, 8);
}

describe.each(ways)('reopen %s', (_, byPath) => {
  describe.each(forms)('%s', (__, reopen) => {
    it('gives an independent object on the same data, with its own position', async () => {
      sw.forceReopenByPath = byPath;
      const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
      f.writeSync(Buffer.from('hello world')); // buffered: flushed by reopen
      const r = await reopen(f);
      try {
        // Not expect(r).not.toBe(f): on a mismatch vitest's toBe compares deeply with
        // iterableEquality, and a TempFile is iterable (its lines): that would read both files.
        expect(r === f).toBe(false);
        expect(r.fd).not.toBe(f.fd);
        expect(fs.fstatSync(r.fd).ino).toBe(fs.fstatSync(f.fd).ino);
        expect(r.path).toBe(f.path);
        expect(r.tellSync()).toBe(0);
        expect(f.tellSync()).toBe(11);
        expect(r.readSync(5)).toEqual(Buffer.from('hello'));
        expect(f.tellSync()).toBe(11);
        r.seekSync(6);
        r.writeSync(Buffer.from('WORLD'));
        r.flushSync();
        f.seekSync(0);
        expect(f.readSync()).toEqual(Buffer.from('hello WORLD'));
        if (isLinux) expect(fdFlags(r.fd) & 3).toBe(fs.constants.O_RDWR); // O_ACCMODE
        if (isLinux) expect(fdFlags(r.fd) & 0o2000000).toBe(0o2000000); // O_CLOEXEC: never inherited
      } finally {
        r.closeSync();
        f.closeSync();
      }
    });

    it('keeps mode, encoding and bufsize', async () => {
      sw.forceReopenByPath = byPath;
      const f = tempfile.NamedTemporaryFileSync({ dir: s.dir, mode: 'a+', encoding: 'utf16le', bufsize: 1 });
      f.writeSync('😀 ok');
      const r = await reopen(f);
      expect(r.mode).toBe('a+');
      expect(r.encoding).toBe('utf16le');
      expect(r.readSync()).toBe('😀 ok');
      r.writeSync('!\n'); // line buffered: written out at the newline, at the end (append mode)
      expect(fs.readFileSync(f.path!, 'utf16le')).toBe('😀 ok!\n');
      r.closeSync();
      f.closeSync();
    });

    it('the reopened object never deletes the file; the original still does, and the reopened one keeps reading', async () => {
      sw.forceReopenByPath = byPath;
      const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
      f.writeSync(Buffer.from('data'));
      const p = f.path!;
      const r = await reopen(f);
      r.closeSync();
      expect(fs.existsSync(p)).toBe(true);
      const r2 = await reopen(f);
      f.closeSync();
      expect(fs.existsSync(p)).toBe(false);
      expect(r2.readSync()).toEqual(Buffer.from('data'));
      r2.closeSync();
    });

    it('a closed file: ERR_FILE_CLOSED', async () => {
      sw.forceReopenByPath = byPath;
      const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
      f.closeSync();
      await expect(reopen(f)).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
    });
  });
});

describe.runIf(isLinux).each(forms)('%s through the descriptor (Linux)', (_, reopen) => {
  it.each([
    ['O_TMPFILE', false],
    ['create-then-unlink', true],
  ] as const)('works for an unnamed file (%s)', async (__, fallback) => {
    sw.forceNoTmpfile = fallback;
    const f = tempfile.TemporaryFileSync({ dir: s.dir });
    f.writeSync(Buffer.from('no name'));
    const r = await reopen(f);
    expect(r.path).toBeNull();
    expect(r.readSync()).toEqual(Buffer.from('no name'));
    r.closeSync();
    f.closeSync();
    expect(ls(s.dir)).toEqual([]);
  });

  it('reaches the file it holds even after its name was replaced', async () => {
    const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
    f.writeSync(Buffer.from('ours'));
    const p = f.path!;
    fs.writeFileSync(`${p}.new`, 'theirs');
    fs.renameSync(`${p}.new`, p);
    const r = await reopen(f);
    expect(r.readSync()).toEqual(Buffer.from('ours'));
    r.closeSync();
    f.closeSync();
    expect(fs.readFileSync(p, 'utf8')).toBe('theirs'); // not ours: left alone
    fs.unlinkSync(p);
  });

  it('a SpooledTemporaryFile rolls over first', async () => {
    const f = tempfile.SpooledTemporaryFile({ dir: s.dir });
    f.writeSync(Buffer.from('spooled'));
    const r = await reopen(f);
    expect((f as unknown as { rolledOver: boolean }).rolledOver).toBe(true);
    expect(r.readSync()).toEqual(Buffer.from('spooled'));
    r.closeSync();
    f.closeSync();
  });
});

describe.each(forms)('%s by path (as off Linux)', (_, reopen) => {
  it('after an external replace of a named file: ERR_TEMPFILE_REPLACED, nothing opened', async () => {
    sw.forceReopenByPath = true;
    const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
    f.writeSync(Buffer.from('ours'));
    const p = f.path!;
    fs.writeFileSync(`${p}.new`, 'theirs');
    fs.renameSync(`${p}.new`, p); // a cleaner or an attacker swapped it
    const before = fs.readdirSync('/proc/self/fd').length;
    await expect(reopen(f)).rejects.toMatchObject({ code: 'ERR_TEMPFILE_REPLACED', path: p });
    if (isLinux) expect(fs.readdirSync('/proc/self/fd').length).toBe(before); // the wrong file was closed again
    f.closeSync();
    expect(fs.readFileSync(p, 'utf8')).toBe('theirs');
    fs.unlinkSync(p);
  });

  it('a symlink planted at its name is not followed: ERR_TEMPFILE_REPLACED', async () => {
    sw.forceReopenByPath = true;
    const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
    const p = f.path!;
    const victim = path.join(s.dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.unlinkSync(p);
    fs.symlinkSync(victim, p);
    await expect(reopen(f)).rejects.toMatchObject({ code: 'ERR_TEMPFILE_REPLACED' });
    f.closeSync();
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    fs.unlinkSync(p);
    fs.unlinkSync(victim);
  });

  it('a removed name: ENOENT', async () => {
    sw.forceReopenByPath = true;
    const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
    fs.unlinkSync(f.path!);
    await expect(reopen(f)).rejects.toMatchObject({ code: 'ENOENT' });
    f.closeSync();
  });

  it('an unnamed file cannot be reopened by path: ENOTSUP', async () => {
    sw.forceReopenByPath = true;
    const f = tempfile.TemporaryFileSync({ dir: s.dir });
    await expect(reopen(f)).rejects.toMatchObject({ code: 'ENOTSUP' });
    f.closeSync();
  });
});
