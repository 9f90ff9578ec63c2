// writeFileAtomic/writeFileAtomicSync: readers never see a mix; a crash, ENOSPC or any other
// failure leaves the old file and no temp file; the temp file is created exclusively, never
// through a planted link; mode and owner kept; data streamed; calls in order. Both temp-file
// paths run: O_TMPFILE (Linux) and the named O_EXCL temp file of other systems.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, internals, isLinux, isRoot, linuxExtras, ls, runNode, scratch, tempfile } from './_helpers';
import { mountTmpfs } from './_mount';

const require = createRequire(import.meta.url);
const sw = internals.internals as typeof internals.internals & {
  beforeAtomicCommit: ((fd: number) => void | Promise<void>) | null;
};

let s: ReturnType<typeof scratch>;
let dir: string;
let target: string;
let n = 0;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
beforeEach(() => {
  dir = path.join(s.dir, `t${n++}`);
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o755); // nobody else adds entries: its files are trusted (see the rule below)
  target = path.join(dir, 'target');
});
afterEach(() => {
  sw.forceNoTmpfile = false;
  sw.beforeAtomicCommit = null;
  internals.setNameGenerator(null);
});

const read = (p: string) => fs.readFileSync(p, 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Write = (p: string | URL, data: unknown, o?: object) => Promise<void>;
const forms: (readonly [string, Write])[] = [
  ['writeFileAtomicSync', (p, d, o) => Promise.resolve().then(() => tempfile.writeFileAtomicSync(p, d as string, o))],
  ['writeFileAtomic', (p, d, o) => tempfile.writeFileAtomic(p, d as string, o)],
];

const paths = [
  // The portable build has no O_TMPFILE: its default path is the named O_EXCL temp file.
  ...(isLinux ? [[linuxExtras ? 'O_TMPFILE' : 'the default path (no O_TMPFILE in this build)', false] as const] : []),
  ['a named O_EXCL temp file', true] as const,
];

describe.each(paths)('through %s', (_, fallback) => {
  beforeEach(() => {
    sw.forceNoTmpfile = fallback;
  });

  describe.each(forms)('%s', (__, write) => {
    it('creates a new file: 0o666 & ~umask, nothing else left', async () => {
      const old = process.umask(0o027);
      try {
        await write(target, 'hello ✓');
      } finally {
        process.umask(old);
      }
      expect(read(target)).toBe('hello ✓');
      expect(fs.statSync(target).mode & 0o7777).toBe(0o640);
      expect(ls(dir)).toEqual(['target']);
    });

    it('replaces an existing file, keeping its mode (set-user-ID included: the file is the caller\'s own)', async () => {
      fs.writeFileSync(target, 'old');
      fs.chmodSync(target, 0o4750);
      const ino = fs.statSync(target).ino;
      await write(target, Buffer.from('new'));
      expect(read(target)).toBe('new');
      expect(fs.statSync(target).ino).not.toBe(ino); // a new file, renamed into place
      expect(fs.statSync(target).mode & 0o7777).toBe(0o4750);
      expect(ls(dir)).toEqual(['target']);
    });

    it('permissions: exactly those bits, not narrowed by the umask, existing file or not', async () => {
      const old = process.umask(0o077);
      try {
        await write(target, 'a', { permissions: 0o644 });
        expect(fs.statSync(target).mode & 0o7777).toBe(0o644);
        fs.chmodSync(target, 0o600);
        await write(target, 'b', { permissions: 0o604 });
        expect(fs.statSync(target).mode & 0o7777).toBe(0o604);
      } finally {
        process.umask(old);
      }
    });

    it.runIf(isRoot)('as root, keeps an existing file\'s owner and group (set-user-ID dropped: not root\'s file); chown overrides', async () => {
      fs.writeFileSync(target, 'old');
      fs.chownSync(target, 65534, 65534);
      fs.chmodSync(target, 0o4640);
      await write(target, 'new');
      let st = fs.statSync(target);
      expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([65534, 65534, 0o640]);
      await write(target, 'newer', { chown: { uid: 1234, gid: 4321 } });
      st = fs.statSync(target);
      expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1234, 4321, 0o640]);
      await write(target, 'group only', { chown: { uid: -1, gid: 7 } });
      st = fs.statSync(target);
      expect([st.uid, st.gid]).toEqual([0, 7]); // a new file is root's; -1 leaves that
    });

    it.runIf(isRoot)('as root, takes nothing from a file it should not trust: another user\'s where others add entries, or one with two links', async () => {
      const old = process.umask(0o022);
      try {
        for (const [dirMode, links] of [
          [0o1777, 1],
          [0o775, 1],
          [0o755, 2],
        ] as const) {
          fs.chmodSync(dir, dirMode);
          fs.writeFileSync(target, 'old');
          fs.chownSync(target, 65534, 65534);
          fs.chmodSync(target, 0o4666);
          if (links > 1) fs.linkSync(target, path.join(dir, 'other-link'));
          await write(target, 'new');
          const st = fs.statSync(target);
          expect([st.uid, st.gid, st.mode & 0o7777, st.nlink], dirMode.toString(8)).toEqual([0, 0, 0o644, 1]);
          expect(read(target)).toBe('new');
          fs.rmSync(path.join(dir, 'other-link'), { force: true });
        }
      } finally {
        process.umask(old);
      }
    });

    it('a symbolic link at path is replaced, never followed', async () => {
      const victim = path.join(dir, 'victim');
      fs.writeFileSync(victim, 'precious');
      fs.chmodSync(victim, 0o600);
      fs.symlinkSync(victim, target);
      await write(target, 'mine');
      expect(fs.lstatSync(target).isFile()).toBe(true);
      expect(read(target)).toBe('mine');
      expect(read(victim)).toBe('precious');
      expect(fs.statSync(victim).mode & 0o777).toBe(0o600);
    });

    it('followSymlinks: a link at path is written through; the temp file is made in the target\'s directory; the link stays', async () => {
      const elsewhere = path.join(dir, 'repo');
      fs.mkdirSync(elsewhere, { mode: 0o755 });
      const real = path.join(elsewhere, 'config');
      fs.writeFileSync(real, 'old');
      fs.chmodSync(real, 0o640);
      fs.symlinkSync('repo/config', target); // relative, as dotfiles are linked
      let during: [string[], string[]] | null = null;
      sw.beforeAtomicCommit = () => {
        during = [ls(dir), ls(elsewhere)];
      };
      await write(target, ['new'], { followSymlinks: true });
      expect(fs.lstatSync(target).isSymbolicLink()).toBe(true);
      expect(fs.readlinkSync(target)).toBe('repo/config');
      expect(read(real)).toBe('new');
      expect(fs.statSync(real).mode & 0o7777).toBe(0o640);
      expect(ls(elsewhere)).toEqual(['config']);
      // streamed data stops before the commit: the temp file is beside the target, never beside the link
      expect(during![0]).toEqual(['repo', 'target']);
      if (fallback || !linuxExtras) expect(during![1]).toEqual([expect.stringMatching(/^\.config\.[a-z0-9]{12}\.tmp$/), 'config']);
      else expect(during![1]).toEqual(['config']);
    });

    it('followSymlinks: a chain of links is resolved to the end; a dangling link or a new file is written as given', async () => {
      fs.writeFileSync(path.join(dir, 'end'), 'old');
      fs.symlinkSync('end', path.join(dir, 'middle'));
      fs.symlinkSync('middle', target);
      await write(target, 'through', { followSymlinks: true });
      expect([read(path.join(dir, 'end')), fs.lstatSync(target).isSymbolicLink(), fs.lstatSync(path.join(dir, 'middle')).isSymbolicLink()]).toEqual(['through', true, true]);
      fs.symlinkSync('nowhere', path.join(dir, 'dangling'));
      await write(path.join(dir, 'dangling'), 'replaced', { followSymlinks: true }); // write-file-atomic does the same
      expect([fs.lstatSync(path.join(dir, 'dangling')).isFile(), fs.existsSync(path.join(dir, 'nowhere'))]).toEqual([true, false]);
      await write(path.join(dir, 'fresh'), 'new', { followSymlinks: true });
      expect(read(path.join(dir, 'fresh'))).toBe('new');
      expect(ls(dir)).toEqual(['dangling', 'end', 'fresh', 'middle', 'target']);
    });

    it('followSymlinks must be a boolean', async () => {
      await expect(write(target, 'x', { followSymlinks: 'yes' })).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      expect(ls(dir)).toEqual([]);
    });

    it('never follows a symlink planted at the temp names it tries (forced by the name generator)', async () => {
      fs.writeFileSync(target, 'old');
      const victim = path.join(dir, 'victim');
      fs.writeFileSync(victim, 'precious');
      const planted = ['plant1plant1', 'plant2plant2', 'plant3plant3', 'plant4plant4'];
      fs.symlinkSync(victim, path.join(dir, `.target.${planted[0]}.tmp`));
      fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, `.target.${planted[1]}.tmp`)); // dangling
      fs.symlinkSync(dir, path.join(dir, `.target.${planted[2]}.tmp`)); // a directory
      fs.linkSync(victim, path.join(dir, `.target.${planted[3]}.tmp`)); // a hard link to it
      let i = 0;
      // Every creation asks for a fresh list: the planted names come first each time.
      internals.setNameGenerator(() => {
        const k = i++ % 10_000;
        return k < planted.length ? planted[k]! : `fresh${String(k).padStart(7, '0')}`;
      });
      await write(target, 'new');
      expect(read(target)).toBe('new');
      expect(read(victim)).toBe('precious');
      expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false);
      expect(fs.readlinkSync(path.join(dir, `.target.${planted[0]}.tmp`))).toBe(victim);
      expect(ls(dir)).toEqual([...planted.map((p) => `.target.${p}.tmp`), 'target', 'victim'].sort());
    });

    it('fsync: false still replaces atomically', async () => {
      fs.writeFileSync(target, 'old');
      await write(target, 'new', { fsync: false });
      expect(read(target)).toBe('new');
      expect(ls(dir)).toEqual(['target']);
    });

    it('takes data as strings (with encoding), Buffers, TypedArrays, DataViews, ArrayBuffers', async () => {
      await write(target, 'caf\u00e9', { encoding: 'latin1' });
      expect(fs.readFileSync(target)).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
      await write(target, '68656c6c6f', { encoding: 'hex' });
      expect(read(target)).toBe('hello');
      const u16 = new Uint16Array([0x6968, 0x2121]); // little-endian "hi!!"
      await write(target, u16);
      expect(read(target)).toBe('hi!!');
      const bytes = Buffer.from('xxDATAxx');
      await write(target, new DataView(bytes.buffer, bytes.byteOffset + 2, 4));
      expect(read(target)).toBe('DATA');
      await write(target, new Uint8Array(Buffer.from('ab')).buffer);
      expect(read(target)).toBe('ab');
      await write(target, '');
      expect(read(target)).toBe('');
      await write(target, ['chunk ', Buffer.from('by '), new Uint8Array([0x63, 0x68, 0x75, 0x6e, 0x6b])]);
      expect(read(target)).toBe('chunk by chunk');
      await write(new URL(`file://${target}`), 'from a URL');
      expect(read(target)).toBe('from a URL');
      expect(ls(dir)).toEqual(['target']);
    });

    it('streams an iterable: each chunk is written before the next one is asked for', async () => {
      // One buffer, refilled between chunks: held rather than written, every chunk would read 15.
      const MiB = 1 << 20;
      function* chunks() {
        const b = Buffer.alloc(MiB);
        for (let i = 0; i < 16; i++) {
          b.fill(i);
          yield b;
        }
      }
      await write(target, chunks());
      const got = fs.readFileSync(target);
      expect(got.length).toBe(16 * MiB);
      for (let i = 0; i < 16; i++) expect([got[i * MiB], got[i * MiB + MiB - 1]]).toEqual([i, i]);
      expect(ls(dir)).toEqual(['target']);
    });

    it('an iterable that throws midway: that error, the old file intact, no temp file', async () => {
      fs.writeFileSync(target, 'old');
      function* failing() {
        yield 'partial data';
        throw new Error('source failed');
      }
      await expect(write(target, failing())).rejects.toThrow('source failed');
      await expect(write(target, ['ok', 42])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      expect(read(target)).toBe('old');
      expect(ls(dir)).toEqual(['target']);
    });

    it('a missing directory: ENOENT naming it; a directory at path: EISDIR; nothing created', async () => {
      await expect(write(path.join(dir, 'nope', 'f'), 'x')).rejects.toMatchObject({ code: 'ENOENT', path: path.join(dir, 'nope') });
      fs.mkdirSync(path.join(dir, 'sub'));
      await expect(write(path.join(dir, 'sub'), 'x')).rejects.toMatchObject({ code: 'EISDIR', path: path.join(dir, 'sub') });
      expect(ls(dir)).toEqual(['sub']);
    });
  });

  it('a target name of 255 bytes: the temp name is cut short (at a character boundary), not too long', async () => {
    const long = path.join(dir, `${'é'.repeat(127)}x`); // 255 bytes in UTF-8
    let entries: string[] = [];
    sw.beforeAtomicCommit = () => {
      entries = ls(dir);
    };
    await tempfile.writeFileAtomic(long, ['long']);
    expect(read(long)).toBe('long');
    if (fallback) expect(entries.find((e) => e.startsWith('.'))).toBe(`.${'é'.repeat(32)}.${entries[0]!.slice(34, 46)}.tmp`);
    expect(ls(dir)).toEqual([path.basename(long)]);
  });

  it('takes the temp-file path it says it takes, created 0600 while it is written', async () => {
    fs.writeFileSync(target, 'old');
    fs.chmodSync(target, 0o644);
    let seen: { entries: string[]; mode: number; nlink: number } | null = null;
    sw.beforeAtomicCommit = (fd) => {
      const st = fs.fstatSync(fd);
      seen = { entries: ls(dir), mode: st.mode & 0o7777, nlink: st.nlink };
    };
    await tempfile.writeFileAtomic(target, ['streamed']);
    expect(seen).not.toBeNull();
    const { entries, mode, nlink } = seen!;
    expect(mode).toBe(0o600);
    if (fallback || !linuxExtras) {
      expect(entries).toHaveLength(2);
      expect(entries[0]).toMatch(/^\.target\.[a-z0-9]{12}\.tmp$/);
      expect(nlink).toBe(1);
    } else {
      expect(entries).toEqual(['target']); // O_TMPFILE: no name until the commit
      expect(nlink).toBe(0);
    }
    expect(read(target)).toBe('streamed');
    expect(fs.statSync(target).mode & 0o7777).toBe(0o644);
    expect(ls(dir)).toEqual(['target']);
  });
});

describe('writeFileAtomic streaming from async sources', () => {
  it('an async generator, pulled one chunk at a time', async () => {
    const MiB = 1 << 20;
    async function* chunks() {
      const b = Buffer.alloc(MiB);
      for (let i = 0; i < 8; i++) {
        b.fill(i + 1);
        await sleep(1);
        yield b;
      }
    }
    await tempfile.writeFileAtomic(target, chunks());
    const got = fs.readFileSync(target);
    expect(got.length).toBe(8 * MiB);
    for (let i = 0; i < 8; i++) expect(got[i * MiB + 7]).toBe(i + 1);
  });

  it('a Readable (object mode and byte streams), an fs read stream, a web ReadableStream', async () => {
    await tempfile.writeFileAtomic(target, Readable.from(['a', 'b', Buffer.from('c')]));
    expect(read(target)).toBe('abc');
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, Buffer.alloc(300_000, 'z'));
    await tempfile.writeFileAtomic(target, fs.createReadStream(src, { highWaterMark: 4096 }));
    expect(fs.readFileSync(target).equals(fs.readFileSync(src))).toBe(true);
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('web '));
        c.enqueue(new TextEncoder().encode('stream'));
        c.close();
      },
    });
    await tempfile.writeFileAtomic(target, web);
    expect(read(target)).toBe('web stream');
    expect(ls(dir)).toEqual(['src', 'target']);
  });

  it('a Readable not read because the call failed first is destroyed (its descriptor closed)', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, 'data');
    const r = fs.createReadStream(src);
    await expect(tempfile.writeFileAtomic(path.join(dir, 'nope', 'target'), r)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(r.destroyed).toBe(true);
  });

  it('a Readable that fails: that error, the old file intact, no temp file', async () => {
    fs.writeFileSync(target, 'old');
    let sent = false;
    const r = new Readable({
      read() {
        if (!sent) {
          sent = true;
          this.push(Buffer.alloc(100_000, 'p'));
        } else this.destroy(new Error('upstream failed'));
      },
    });
    await expect(tempfile.writeFileAtomic(target, r)).rejects.toThrow('upstream failed');
    expect(read(target)).toBe('old');
    expect(ls(dir)).toEqual(['target']);
  });
});

describe('call order', () => {
  it('concurrent calls for one path complete in call order; the last one wins', async () => {
    const done: number[] = [];
    const slow = async function* () {
      await sleep(50);
      yield 'v0';
    };
    const calls = [tempfile.writeFileAtomic(target, slow()).then(() => done.push(0))];
    for (let i = 1; i < 30; i++) calls.push(tempfile.writeFileAtomic(target, `v${i}`, { fsync: i % 2 === 0 }).then(() => done.push(i)));
    await Promise.all(calls);
    expect(done).toEqual([...Array(30).keys()]);
    expect(read(target)).toBe('v29');
    expect(ls(dir)).toEqual(['target']);
  });

  it('a failed call does not stop the ones after it', async () => {
    const a = tempfile.writeFileAtomic(target, ['a', 1 as unknown as string]);
    const b = tempfile.writeFileAtomic(target, 'b');
    await expect(a).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await b;
    expect(read(target)).toBe('b');
  });

  it('calls for different paths do not wait for each other', async () => {
    const other = path.join(dir, 'other');
    const done: string[] = [];
    const slow = async function* () {
      await sleep(100);
      yield 'slow';
    };
    await Promise.all([
      tempfile.writeFileAtomic(target, slow()).then(() => done.push('target')),
      tempfile.writeFileAtomic(other, 'fast').then(() => done.push('other')),
    ]);
    expect(done).toEqual(['other', 'target']);
  });

  it('a sync call while async ones for the same path are pending: ERR_TEMPFILE_BUSY, nothing written', async () => {
    fs.writeFileSync(target, 'old');
    const p = tempfile.writeFileAtomic(target, 'async');
    expect(() => tempfile.writeFileAtomicSync(target, 'sync')).toThrow(expect.objectContaining({ code: 'ERR_TEMPFILE_BUSY' }));
    expect(() => tempfile.writeFileAtomicSync(`${dir}/./target`, 'sync')).toThrow(expect.objectContaining({ code: 'ERR_TEMPFILE_BUSY' }));
    tempfile.writeFileAtomicSync(path.join(dir, 'other'), 'fine'); // another path
    await p;
    expect(read(target)).toBe('async');
    tempfile.writeFileAtomicSync(target, 'sync'); // nothing pending any more
    expect(read(target)).toBe('sync');
  });
});

describe('arguments are checked before anything is created', () => {
  const bad: [string, () => unknown, string][] = [
    ['path of a wrong type', () => tempfile.writeFileAtomicSync(42 as unknown as string, 'x'), 'ERR_INVALID_ARG_TYPE'],
    ['an empty path', () => tempfile.writeFileAtomicSync('', 'x'), 'ERR_INVALID_ARG_VALUE'],
    ['a path ending in a separator', () => tempfile.writeFileAtomicSync(`${dir}/x/`, 'x'), 'ERR_INVALID_ARG_VALUE'],
    ['a NUL byte in the path', () => tempfile.writeFileAtomicSync(`${dir}/x\0`, 'x'), 'ERR_INVALID_ARG_VALUE'],
    ['data of a wrong type', () => tempfile.writeFileAtomicSync(target, 42 as unknown as string), 'ERR_INVALID_ARG_TYPE'],
    ['null data', () => tempfile.writeFileAtomicSync(target, null as unknown as string), 'ERR_INVALID_ARG_TYPE'],
    ['a plain object', () => tempfile.writeFileAtomicSync(target, { a: 1 } as unknown as string), 'ERR_INVALID_ARG_TYPE'],
    [
      'an async iterable to the sync form',
      () => tempfile.writeFileAtomicSync(target, (async function* () {})() as unknown as string),
      'ERR_INVALID_ARG_TYPE',
    ],
    ['options as a string', () => tempfile.writeFileAtomicSync(target, 'x', 'utf8' as unknown as object), 'ERR_INVALID_ARG_TYPE'],
    ['an unknown option', () => tempfile.writeFileAtomicSync(target, 'x', { mode: 0o600 } as object), 'ERR_INVALID_ARG_VALUE'],
    ['permissions above 0o777', () => tempfile.writeFileAtomicSync(target, 'x', { permissions: 0o4755 }), 'ERR_INVALID_ARG_VALUE'],
    ['negative permissions', () => tempfile.writeFileAtomicSync(target, 'x', { permissions: -1 }), 'ERR_INVALID_ARG_VALUE'],
    ['chown without gid', () => tempfile.writeFileAtomicSync(target, 'x', { chown: { uid: 0 } as { uid: number; gid: number } }), 'ERR_INVALID_ARG_TYPE'],
    ['chown with a string uid', () => tempfile.writeFileAtomicSync(target, 'x', { chown: { uid: '0', gid: 0 } as unknown as { uid: number; gid: number } }), 'ERR_INVALID_ARG_TYPE'],
    ['chown with uid -2', () => tempfile.writeFileAtomicSync(target, 'x', { chown: { uid: -2, gid: 0 } }), 'ERR_INVALID_ARG_VALUE'],
    ['fsync not a boolean', () => tempfile.writeFileAtomicSync(target, 'x', { fsync: 1 as unknown as boolean }), 'ERR_INVALID_ARG_TYPE'],
    ['an unknown encoding', () => tempfile.writeFileAtomicSync(target, 'x', { encoding: 'utf9' as BufferEncoding }), 'ERR_INVALID_ARG_VALUE'],
  ];
  it.each(bad)('%s', (_, call, code) => {
    expect(call).toThrow(expect.objectContaining({ code }));
    expect(ls(dir)).toEqual([]);
  });

  it('an empty path is refused as the very first call of a process too', () => {
    const r = runNode(
      `const t = require('securetemp');
       try { t.writeFileAtomicSync('', 'x'); console.log('written'); } catch (e) { console.log(e.code); }`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('the async form rejects (never throws) and creates nothing', async () => {
    let p: Promise<void> | undefined;
    expect(() => {
      p = tempfile.writeFileAtomic(target, 42 as unknown as string);
    }).not.toThrow();
    await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(tempfile.writeFileAtomic(target, 'x', { permissions: 0o1777 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(ls(dir)).toEqual([]);
  });
});

describe.runIf(isLinux)('ENOSPC on a small tmpfs (mounted by the test)', () => {
  let mnt: string;
  let unmount: () => void;
  let t: string;
  beforeAll(() => {
    mnt = path.join(s.dir, 'full');
    unmount = mountTmpfs(mnt, '1m');
  });
  afterAll(() => unmount());

  const cases = paths.flatMap(([p, fb]) =>
    (
      [
        ['sync, whole', (d: Buffer) => Promise.resolve().then(() => tempfile.writeFileAtomicSync(t, d))],
        ['sync, chunks', (d: Buffer) => Promise.resolve().then(() => tempfile.writeFileAtomicSync(t, [d.subarray(0, 1 << 19), d.subarray(1 << 19)]))],
        ['async, whole', (d: Buffer) => tempfile.writeFileAtomic(t, d)],
        ['async, streamed', (d: Buffer) => tempfile.writeFileAtomic(t, Readable.from([d.subarray(0, 1 << 19), d.subarray(1 << 19)]))],
      ] as const
    ).map(([how, w]) => [`${p}, ${how}`, fb, w] as const),
  );

  it.each(cases)('%s: ENOSPC, the old file intact, no temp file, the space given back', async (_, fallback, write) => {
    t = path.join(mnt, 'target');
    const old = Buffer.alloc(64 * 1024, 'o');
    tempfile.writeFileAtomicSync(t, old);
    const free = fs.statfsSync(mnt).bfree;
    sw.forceNoTmpfile = fallback;
    await expect(write(Buffer.alloc(2 << 20, 'N'))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.readFileSync(t).equals(old)).toBe(true);
    expect(ls(mnt)).toEqual(['target']);
    expect(fs.statfsSync(mnt).bfree).toBe(free);
  });
});

describe.runIf(isRoot)('as an ordinary user (nobody; switching needs root)', () => {
  it('EACCES in a directory it may not write; EPERM from chown at commit; a 0300 directory works', () => {
    const d = path.join(s.dir, 'nobody');
    fs.mkdirSync(path.join(d, 'locked'), { recursive: true });
    fs.mkdirSync(path.join(d, 'mine'));
    fs.mkdirSync(path.join(d, 'wx'));
    fs.writeFileSync(path.join(d, 'locked/target'), 'old');
    fs.writeFileSync(path.join(d, 'mine/target'), 'old');
    fs.chmodSync(s.dir, 0o755);
    fs.chmodSync(d, 0o755);
    fs.chownSync(path.join(d, 'locked/target'), 65534, 65534); // writable by nobody, in a root directory
    fs.chownSync(path.join(d, 'mine'), 65534, 65534);
    fs.chownSync(path.join(d, 'mine/target'), 65534, 65534);
    fs.chownSync(path.join(d, 'wx'), 65534, 65534);
    fs.chmodSync(path.join(d, 'wx'), 0o300);
    const r = runNode(
      `const t = require('securetemp');
       const { internals } = require('./dist/_internals.js');
       process.setgid(65534); process.setuid(65534); // loaded as root: the checkout may not be readable by nobody
       const out = [];
       const d = ${JSON.stringify(d)};
       const wx = [];
       for (const fallback of [false, true]) {
         internals.forceNoTmpfile = fallback;
         for (const [p, o] of [['locked/target', {}], ['mine/target', { chown: { uid: 0, gid: 0 } }]]) {
           try { t.writeFileAtomicSync(d + '/' + p, 'new', o); out.push('written'); } catch (e) { out.push(e.code + ' ' + e.syscall); }
         }
         try { t.writeFileAtomicSync(d + '/wx/f' + fallback, 'ok'); wx.push('written'); } catch (e) { wx.push(e.code + ' ' + e.syscall + ' ' + e.path); }
       }
       console.log(JSON.stringify([out, wx]));`,
    );
    expect(r.stderr).toBe('');
    const [out, wx] = JSON.parse(r.stdout);
    expect(out).toEqual(['EACCES open', 'EPERM fchown', 'EACCES open', 'EPERM fchown']);
    expect(read(path.join(d, 'locked/target'))).toBe('old');
    expect(read(path.join(d, 'mine/target'))).toBe('old');
    expect(ls(path.join(d, 'mine'))).toEqual(['target']);
    expect(ls(path.join(d, 'locked'))).toEqual(['target']);
    if (linuxExtras) {
      // O_PATH opens a directory we may write but not read (no directory fsync then).
      expect(wx).toEqual(['written', 'written']);
      expect(ls(path.join(d, 'wx'))).toEqual(['ffalse', 'ftrue']);
      expect(read(path.join(d, 'wx/ftrue'))).toBe('ok');
    } else {
      // Without O_PATH (the portable build: macOS, the BSDs) the directory handle needs read access.
      const refused = `EACCES open ${path.join(d, 'wx')}`;
      expect(wx).toEqual([refused, refused]);
      expect(ls(path.join(d, 'wx'))).toEqual([]);
    }
  });
});

/** Runs the crash fixture; kills it with SIGKILL once it is stopped between write and commit. */
function crash(t: string, form: 'sync' | 'async', how: 'tmpfile' | 'fallback'): Promise<{ signal: string | null; tmpWhileStopped: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'test/fixtures/atomic-crash.cjs'), t, form, how], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let tmpWhileStopped = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /ready (\d+)\n/.exec(out);
      if (m && !tmpWhileStopped) {
        tmpWhileStopped = fs.readlinkSync(`/proc/${child.pid}/fd/${m[1]}`);
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (!tmpWhileStopped) reject(new Error(`the fixture never stopped before its commit: ${err || out}`));
      else resolve({ signal, tmpWhileStopped });
    });
  });
}

describe.runIf(isLinux)('a crash between write and rename (SIGKILL)', () => {
  it.each(['sync', 'async'] as const)(
    linuxExtras
      ? '%s, O_TMPFILE: the old file stays and no temp file is left'
      : '%s, the default path of a build without O_TMPFILE: the named temp file is left behind, old file intact',
    async (form) => {
      fs.writeFileSync(target, 'old');
      const r = await crash(target, form, 'tmpfile');
      expect(r.signal).toBe('SIGKILL');
      expect(read(target)).toBe('old');
      if (!linuxExtras) {
        const left = ls(dir).filter((x) => x !== 'target');
        expect(left).toHaveLength(1);
        expect(left[0]).toMatch(/^\.target\.[a-z0-9]{12}\.tmp$/);
        expect(path.join(dir, left[0]!)).toBe(r.tmpWhileStopped);
        return;
      }
      expect(r.tmpWhileStopped).toMatch(/\/#\d+ \(deleted\)$/); // it had no name, so it leaves none
      expect(ls(dir)).toEqual(['target']);
    },
  );

  it('the named O_EXCL temp file of other systems is left behind (documented): old file intact', async () => {
    fs.writeFileSync(target, 'old');
    const r = await crash(target, 'sync', 'fallback');
    expect(r.signal).toBe('SIGKILL');
    expect(read(target)).toBe('old');
    const left = ls(dir).filter((x) => x !== 'target');
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.target\.[a-z0-9]{12}\.tmp$/);
    expect(path.join(dir, left[0]!)).toBe(r.tmpWhileStopped);
  });
});

/** Rewrites the target `rounds` times alternating two 64 KiB contents while a reader process polls it. */
async function withReader(rounds: number, write: (data: Buffer) => Promise<void> | void) {
  const SIZE = 64 * 1024;
  const A = Buffer.alloc(SIZE, 0x41);
  const B = Buffer.alloc(SIZE, 0x42);
  tempfile.writeFileAtomicSync(target, A);
  const stop = path.join(s.dir, `stop-${n}`);
  const child = spawn(process.execPath, [path.join(ROOT, 'test/fixtures/atomic-reader.cjs'), target, stop, '65', '66', String(SIZE)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const finished = new Promise<string>((resolve) => child.on('close', () => resolve(out)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
    child.on('error', reject);
    child.on('close', () => reject(new Error(`reader died: ${err}`)));
  });
  for (let i = 1; i <= rounds; i++) {
    await write(i % 2 ? B : A);
    // Let the reader in, even on one busy CPU: every 25 rounds, so the pauses fall after A and
    // after B in turn and a reader that only ever runs during pauses still sees changes.
    if (i % 25 === 0) await sleep(2);
  }
  fs.writeFileSync(stop, '');
  const r = JSON.parse((await finished).split('\n')[1]!);
  fs.unlinkSync(stop);
  return r as { reads: number; sawA: number; sawB: number; changes: number; missing: number; mixed: number; example: unknown };
}

describe('readers in another process', () => {
  it('never see a mix or a missing file during 500 synchronous rewrites (with fsync)', async () => {
    const r = await withReader(500, (d) => tempfile.writeFileAtomicSync(target, d));
    expect(r.mixed, JSON.stringify(r.example)).toBe(0);
    expect(r.missing).toBe(0);
    expect(r.changes, JSON.stringify(r)).toBeGreaterThan(4); // it did read across rewrites
    expect(r.sawA + r.sawB).toBe(r.reads);
    expect(ls(dir)).toEqual(['target']);
  });

  it('never see a mix or a missing file during 500 asynchronous rewrites (without fsync, faster)', async () => {
    const r = await withReader(500, (d) => tempfile.writeFileAtomic(target, d, { fsync: false }));
    expect(r.mixed, JSON.stringify(r.example)).toBe(0);
    expect(r.missing).toBe(0);
    expect(r.changes, JSON.stringify(r)).toBeGreaterThan(4);
    expect(ls(dir)).toEqual(['target']);
  });
});

describe('what write-file-atomic does with the same planted links (the threat is real)', () => {
  // write-file-atomic 7 names its temp file target + '.' + the first 32 bits of
  // sha1(its own __filename, pid, threadId, invocation count), then opens it with 'w' (no
  // O_EXCL, following links) and chmods it by path. Anyone who can see our pid can plant those.
  function wfaNames(file: string, count: number): string[] {
    const lib = fs.realpathSync(require.resolve('write-file-atomic'));
    return Array.from({ length: count }, (_, i) =>
      `${file}.${createHash('sha1').update(lib).update(String(process.pid)).update('0').update(String(i + 1)).digest().readUInt32BE(0)}`,
    );
  }

  it('write-file-atomic writes through the planted link into the victim; writeFileAtomic does not', async () => {
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.chmodSync(victim, 0o600);
    const other = path.join(dir, 'theirs');
    fs.writeFileSync(target, 'old');
    fs.writeFileSync(other, 'old');
    for (const name of [...wfaNames(target, 20), ...wfaNames(other, 20)]) fs.symlinkSync(victim, name);

    tempfile.writeFileAtomicSync(target, 'ours');
    await tempfile.writeFileAtomic(target, 'ours again');
    expect(read(victim)).toBe('precious');
    expect(fs.lstatSync(target).isFile()).toBe(true);

    const wfa = require('write-file-atomic') as { sync(p: string, d: string): void };
    wfa.sync(other, 'theirs');
    expect(read(victim)).toBe('theirs'); // written through the link...
    expect(fs.lstatSync(other).isSymbolicLink()).toBe(true); // ...which was renamed over the target
    expect(fs.statSync(victim).mode & 0o777).toBe(0o644); // and chmod-ed to the target's mode
  });
});
