// TemporaryFile: a file with no directory entry, through O_TMPFILE and through the
// create-then-unlink fallback (both in every run), and the TempFile object's I/O.
import * as fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { internals, isLinux, linuxExtras, ls, scratch, tempfile } from './_helpers';
import type { TempFile } from 'securetemp';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
afterEach(() => {
  internals.internals.forceNoTmpfile = false;
});

/** What the kernel says the descriptor points at. */
function fdTarget(fd: number): string {
  return fs.readlinkSync(`/proc/self/fd/${fd}`);
}

describe.each([
  // The portable build has no O_TMPFILE: its default path is create-then-unlink too.
  [linuxExtras ? 'O_TMPFILE' : 'the default path (no O_TMPFILE in this build)', false],
  ['create-then-unlink fallback', true],
] as const)('TemporaryFile via %s', (_, fallback) => {
  const make = (o: object = {}) => {
    internals.internals.forceNoTmpfile = fallback;
    return tempfile.TemporaryFileSync({ dir: s.dir, ...o });
  };

  it('leaves no directory entry while open, and nothing after close', () => {
    const f = make();
    try {
      expect(ls(s.dir)).toEqual([]);
      expect(f.path).toBeNull();
      expect(f.name).toBe(f.fd);
      const st = fs.fstatSync(f.fd);
      expect(st.isFile()).toBe(true);
      expect(st.nlink).toBe(0);
      expect(st.mode & 0o777).toBe(0o600 & ~process.umask());
    } finally {
      f.closeSync();
    }
    expect(ls(s.dir)).toEqual([]);
  });

  it.runIf(isLinux)('takes the path it says it takes', () => {
    const f = make();
    try {
      const target = fdTarget(f.fd);
      expect(target.endsWith('(deleted)')).toBe(true);
      if (fallback || !linuxExtras) {
        expect(target).toMatch(/\/tmp[a-z0-9]{12} \(deleted\)$/);
        if (!linuxExtras) expect(internals.internals.tmpfileKnownUnsupported()).toBe(true);
      }
      // O_TMPFILE files are shown as "/dir/#inode (deleted)": they never had a name.
      else expect(target).toMatch(/\/#\d+ \(deleted\)$/);
    } finally {
      f.closeSync();
    }
  });

  it('the async form works the same', async () => {
    internals.internals.forceNoTmpfile = fallback;
    const f = await tempfile.TemporaryFile({ dir: s.dir });
    expect(ls(s.dir)).toEqual([]);
    expect(fs.fstatSync(f.fd).nlink).toBe(0);
    await f.write(Buffer.from('abc'));
    await f.seek(0);
    expect(await f.read()).toEqual(Buffer.from('abc'));
    await f.close();
    expect(f.closed).toBe(true);
  });

  it('is private even when the umask is 000', () => {
    const old = process.umask(0);
    try {
      const f = make();
      expect(fs.fstatSync(f.fd).mode & 0o777).toBe(0o600);
      f.closeSync();
    } finally {
      process.umask(old);
    }
  });
});

describe('TemporaryFile arguments', () => {
  it("defaults to mode 'w+b' (binary)", () => {
    const f = tempfile.TemporaryFileSync({ dir: s.dir });
    expect(f.mode).toBe('w+b');
    expect(f.encoding).toBeUndefined();
    expect(f.writeSync(Buffer.from('x'))).toBe(1);
    expect(() => f.writeSync('text' as unknown as Buffer)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    f.closeSync();
  });

  it('takes the seed positional form (mode, bufsize, suffix)', () => {
    tempfile.tempdir = s.dir;
    try {
      const f = tempfile.TemporaryFileSync('w+', 1, '.txt');
      expect(f.mode).toBe('w+');
      expect(f.encoding).toBe('utf8');
      f.closeSync();
    } finally {
      tempfile.tempdir = null;
    }
  });

  it('refuses an insecure directory when the file would have a name, even briefly', () => {
    const bad = `${s.dir}/ww`;
    fs.mkdirSync(bad);
    fs.chmodSync(bad, 0o777);
    internals.internals.forceNoTmpfile = true; // create-then-unlink: the name exists for a moment
    expect(() => tempfile.TemporaryFileSync({ dir: bad })).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_TEMPDIR' }));
    tempfile.TemporaryFileSync({ dir: bad, allowInsecureDir: true }).closeSync();
    expect(ls(bad)).toEqual([]);
  });

  it('refuses an insecure directory for an unnamed file too (one policy on every platform, O_TMPFILE or not), unless allowInsecureDir', async () => {
    const bad = `${s.dir}/ww2`;
    fs.mkdirSync(bad);
    fs.chmodSync(bad, 0o777);
    const refused = expect.objectContaining({ code: 'ERR_INSECURE_TEMPDIR', path: bad, reason: 'world-writable without the sticky bit' });
    expect(() => tempfile.TemporaryFileSync({ dir: bad })).toThrow(refused);
    await expect(tempfile.TemporaryFile({ dir: bad })).rejects.toThrow(refused);
    expect(ls(bad)).toEqual([]);
    const f = tempfile.TemporaryFileSync({ dir: bad, allowInsecureDir: true });
    if (linuxExtras) expect(fdTarget(f.fd)).toMatch(/\/#\d+ \(deleted\)$/);
    f.closeSync();
    expect(ls(bad)).toEqual([]);
  });
});

describe('TempFile I/O (binary)', () => {
  const both = [
    ['sync', (f: TempFile) => ({
      write: async (d: Buffer) => f.writeSync(d),
      read: async (n?: number) => f.readSync(n),
      readline: async () => f.readlineSync(),
      seek: async (o: number, w: 0 | 1 | 2 = 0) => f.seekSync(o, w),
      tell: async () => f.tellSync(),
      truncate: async (n?: number) => f.truncateSync(n),
      readinto: async (b: Uint8Array) => f.readintoSync(b),
      flush: async () => f.flushSync(),
      close: async () => f.closeSync(),
    })],
    ['async', (f: TempFile) => ({
      write: (d: Buffer) => f.write(d),
      read: (n?: number) => f.read(n),
      readline: () => f.readline(),
      seek: (o: number, w: 0 | 1 | 2 = 0) => f.seek(o, w),
      tell: () => f.tell(),
      truncate: (n?: number) => f.truncate(n),
      readinto: (b: Uint8Array) => f.readinto(b),
      flush: () => f.flush(),
      close: () => f.close(),
    })],
  ] as const;

  describe.each(both)('%s', (_, wrap) => {
    it.each([-1, 0, 7, 64 * 1024])('write/seek/tell/read round trip with bufsize %d', async (bufsize) => {
      const f = tempfile.TemporaryFileSync({ dir: s.dir, bufsize });
      const io = wrap(f);
      const big = Buffer.alloc(200_000, 'z');
      expect(await io.write(Buffer.from('hello\n'))).toBe(6);
      expect(await io.tell()).toBe(6); // buffered bytes count
      expect(await io.write(Buffer.from('world\n'))).toBe(6);
      expect(await io.write(big)).toBe(big.length);
      expect(await io.tell()).toBe(12 + big.length);
      expect(fs.fstatSync(f.fd).size <= 12 + big.length).toBe(true);
      expect(await io.seek(0)).toBe(0);
      expect(await io.readline()).toEqual(Buffer.from('hello\n'));
      expect(await io.read(3)).toEqual(Buffer.from('wor'));
      expect(await io.tell()).toBe(9);
      expect(await io.seek(2, 1)).toBe(11);
      expect(await io.read(2)).toEqual(Buffer.from('\nz'));
      expect(await io.seek(-3, 2)).toBe(12 + big.length - 3);
      expect(await io.read()).toEqual(Buffer.from('zzz'));
      expect(await io.read()).toEqual(Buffer.alloc(0));
      expect(await io.readline()).toEqual(Buffer.alloc(0));
      expect(fs.fstatSync(f.fd).size).toBe(12 + big.length);
      await io.close();
    });

    it('writes at the position after a seek back (overwrite in place)', async () => {
      const f = tempfile.TemporaryFileSync({ dir: s.dir });
      const io = wrap(f);
      await io.write(Buffer.from('abcdef'));
      await io.seek(2);
      await io.write(Buffer.from('XY'));
      expect(await io.tell()).toBe(4);
      await io.seek(0);
      expect(await io.read()).toEqual(Buffer.from('abXYef'));
      await io.close();
    });

    it('truncate does not move the position; seek past the end reads nothing', async () => {
      const f = tempfile.TemporaryFileSync({ dir: s.dir });
      const io = wrap(f);
      await io.write(Buffer.from('0123456789'));
      await io.seek(4);
      expect(await io.truncate()).toBe(4);
      expect(await io.tell()).toBe(4);
      expect(fs.fstatSync(f.fd).size).toBe(4);
      await io.truncate(2);
      expect(await io.tell()).toBe(4);
      expect(await io.read()).toEqual(Buffer.alloc(0));
      await io.seek(0);
      expect(await io.read()).toEqual(Buffer.from('01'));
      await expect(io.seek(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      await io.close();
    });

    it('readinto fills a caller buffer', async () => {
      const f = tempfile.TemporaryFileSync({ dir: s.dir });
      const io = wrap(f);
      await io.write(Buffer.from('abcdefgh'));
      await io.seek(0);
      const b = new Uint8Array(5);
      expect(await io.readinto(b)).toBe(5);
      expect(Buffer.from(b).toString()).toBe('abcde');
      expect(await io.readinto(b)).toBe(3);
      expect(await io.readinto(b)).toBe(0);
      await io.close();
    });

    it('append mode writes at the end even after a seek', async () => {
      const f = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'a+b' });
      const io = wrap(f);
      await io.write(Buffer.from('one'));
      await io.seek(0);
      await io.write(Buffer.from('two'));
      await io.flush();
      expect(await io.tell()).toBe(6);
      await io.seek(0);
      expect(await io.read()).toEqual(Buffer.from('onetwo'));
      await io.close();
    });

    it('close flushes, is idempotent, and every later call throws ERR_FILE_CLOSED', async () => {
      const f = tempfile.TemporaryFileSync({ dir: s.dir });
      const io = wrap(f);
      await io.write(Buffer.from('pending'));
      const dup = fs.openSync(`/proc/self/fd/${f.fd}`, 'r');
      await io.close();
      expect(fs.readFileSync(dup, 'utf8')).toBe('pending');
      fs.closeSync(dup);
      expect(f.closed).toBe(true);
      await io.close();
      expect(() => f.fd).toThrow(expect.objectContaining({ code: 'ERR_FILE_CLOSED' }));
      await expect(io.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
      await expect(io.read()).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
      await expect(io.seek(0)).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
      await expect(io.tell()).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
    });
  });

  it('modes govern what is allowed: ERR_UNSUPPORTED_OPERATION', async () => {
    const w = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'wb' });
    expect(() => w.readSync()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    await expect(w.read()).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OPERATION' });
    w.closeSync();
    const r = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'rb' });
    expect(() => r.writeSync(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    expect(() => r.truncateSync(0)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    expect(r.readSync()).toEqual(Buffer.alloc(0));
    r.closeSync();
    const t = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+' });
    expect(() => t.readintoSync(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    t.closeSync();
  });

  it('async operations run in call order without awaiting each', async () => {
    const f = await tempfile.TemporaryFile({ dir: s.dir, bufsize: 0 });
    const ops = [];
    for (let i = 0; i < 50; i++) ops.push(f.write(Buffer.from(`${i},`)));
    const pos = f.seek(0);
    const all = f.read();
    await Promise.all(ops);
    expect(await pos).toBe(0);
    expect((await all as Buffer).toString()).toBe(Array.from({ length: 50 }, (_, i) => `${i},`).join(''));
    expect(() => f.tellSync()).not.toThrow();
    const pending = f.write(Buffer.from('x'));
    expect(() => f.writeSync(Buffer.from('y'))).toThrow(expect.objectContaining({ code: 'ERR_TEMPFILE_BUSY' }));
    await pending;
    await f.close();
  });

  it('supports using/await using disposal', async () => {
    let fd = -1;
    {
      const f = tempfile.TemporaryFileSync({ dir: s.dir });
      fd = f.fd;
      f[Symbol.dispose]();
      expect(f.closed).toBe(true);
    }
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const g = await tempfile.TemporaryFile({ dir: s.dir });
    await g[Symbol.asyncDispose]();
    expect(g.closed).toBe(true);
  });
});

describe('TempFile I/O (text)', () => {
  it('counts code points and never splits a character', () => {
    const f = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+' });
    expect(f.encoding).toBe('utf8');
    expect(f.writeSync('😀a')).toBe(2);
    expect(f.writeSync('é\nñ\n')).toBe(4);
    expect(f.tellSync()).toBe(4 + 1 + 2 + 1 + 2 + 1);
    f.seekSync(0);
    expect(f.readSync(1)).toBe('😀');
    const cookie = f.tellSync();
    expect(f.readSync(2)).toBe('aé');
    f.seekSync(cookie);
    expect(f.readlineSync()).toBe('aé\n');
    expect(f.readlineSync()).toBe('ñ\n');
    expect(f.readlineSync()).toBe('');
    f.seekSync(0);
    expect(f.readSync()).toBe('😀aé\nñ\n');
    expect(() => f.seekSync(1, 1)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    expect(f.seekSync(0, 2)).toBe(11);
    expect(() => f.writeSync(Buffer.from('x') as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    f.closeSync();
  });

  it('line buffering (bufsize 1) writes through at each newline', () => {
    const f = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+', bufsize: 1 });
    f.writeSync('partial');
    expect(fs.fstatSync(f.fd).size).toBe(0);
    f.writeSync(' line\nmore');
    expect(fs.fstatSync(f.fd).size).toBe('partial line\nmore'.length);
    f.closeSync();
  });

  it('utf16le and latin1', () => {
    const u = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+', encoding: 'utf16le' });
    u.writeSync('a\u0a00\nb😀');
    u.seekSync(0);
    expect(u.readlineSync()).toBe('a\u0a00\n');
    expect(u.readSync(2)).toBe('b😀');
    u.closeSync();
    const l = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+', encoding: 'latin1' });
    l.writeSync('ÿé');
    expect(l.tellSync()).toBe(2);
    l.closeSync();
  });

  it('invalid data is an error, not replacement characters', () => {
    const f = tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+' });
    fs.writeSync(f.fd, Buffer.from([0x61, 0xff, 0x62]), 0, 3, 0);
    expect(() => f.readSync()).toThrow(expect.objectContaining({ code: 'ERR_ENCODING_INVALID_ENCODED_DATA' }));
    expect(() => f.writeSync('\ud800')).toThrow(expect.objectContaining({ code: 'ERR_ENCODING_INVALID_ENCODED_DATA' }));
    f.closeSync();
  });
});
