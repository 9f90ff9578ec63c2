// SpooledTemporaryFile: data in memory (no file, no descriptor) until it grows past maxSize,
// `fd` is asked for, or rollover()/rolloverSync() is called; then a real unnamed TemporaryFile
// with the same data and position. Behaves the same before and after: a seeded random sequence
// of operations runs against a never-rolling spooled file, one that rolls over midway, and a
// plain TemporaryFileSync, compared step by step.
//
// Reproduce a failure of the random comparison with the seed its message prints:
//   SECURETEMP_SPOOL_SEED=<seed> npx vitest run test/spooled.test.ts -t "same results"
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLinux, ls, runNode, scratch, tempfile } from './_helpers';
import type { SpooledTempFile, TempFile } from 'securetemp';

let s: ReturnType<typeof scratch>;
beforeEach(() => {
  s = scratch();
});
afterEach(() => s.remove());

const hasPython = spawnSync('python3', ['-c', 'import tempfile']).status === 0;

const spool = (o: object = {}): SpooledTempFile => tempfile.SpooledTemporaryFile({ dir: s.dir, ...o });

/** Open descriptors of this process (Linux). */
const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;

/** The whole file as the descriptor sees it after a flush (pread: does not move the position). */
function onDisk(f: TempFile): Buffer {
  const fd = f.fd;
  f.flushSync();
  const size = fs.fstatSync(fd).size;
  const b = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = fs.readSync(fd, b, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

describe('SpooledTemporaryFile before rollover', () => {
  it('is created synchronously, in memory: no path, no name, not rolled over, nothing in dir', () => {
    const f = spool({ maxSize: 100 });
    expect(f).toBeInstanceOf(tempfile.SpooledTempFile);
    expect(f).toBeInstanceOf(tempfile.TempFile);
    expect(f.rolledOver).toBe(false);
    expect(f.path).toBeNull();
    expect(f.name).toBeNull();
    expect(f.mode).toBe('w+b');
    expect(f.closed).toBe(false);
    expect(ls(s.dir)).toEqual([]);
    f.closeSync();
  });

  it.runIf(isLinux)('opens no descriptor and creates nothing across many operations below maxSize', async () => {
    const before = fdCount();
    const f = spool({ maxSize: 4096 });
    const t = spool({ mode: 'w+', maxSize: 4096 });
    for (let i = 0; i < 500; i++) {
      f.writeSync(Buffer.from(`line ${i}\n`));
      f.seekSync(0);
      f.readlineSync();
      f.readSync(3);
      f.seekSync(0, 2);
      f.tellSync();
      if (f.tellSync() > 3000) {
        f.truncateSync(100);
        f.seekSync(0, 2); // truncate does not move the position
      }
      f.flushSync();
      f.syncSync();
      t.writeSync(`é ${i}\n`);
      t.seekSync(0);
      t.readSync(2);
      t.seekSync(0, 2);
      if (t.tellSync() > 3000) {
        t.truncateSync(0);
        t.seekSync(0);
      }
    }
    expect(f.rolledOver).toBe(false);
    expect(t.rolledOver).toBe(false);
    expect(fdCount()).toBe(before);
    await f.write(Buffer.from('async'));
    await f.seek(0);
    await f.read();
    await f.readline();
    await f.truncate(50);
    await f.sync();
    const buf = new Uint8Array(10);
    f.seekSync(0);
    expect(f.readintoSync(buf)).toBe(10);
    expect(await f.readinto(buf)).toBe(10);
    expect(f.rolledOver).toBe(false);
    expect(fdCount()).toBe(before);
    expect(ls(s.dir)).toEqual([]);
    f.closeSync();
    await t.close();
    expect(fdCount()).toBe(before);
    expect(ls(s.dir)).toEqual([]);
  });

  it('close before rollover creates nothing; afterwards every operation is ERR_FILE_CLOSED', async () => {
    const f = spool({ maxSize: 100 });
    f.writeSync(Buffer.from('abc'));
    f.closeSync();
    f.closeSync(); // a second close does nothing
    await f.close();
    expect(f.closed).toBe(true);
    expect(ls(s.dir)).toEqual([]);
    const closed = expect.objectContaining({ code: 'ERR_FILE_CLOSED' });
    expect(() => f.fd).toThrow(closed);
    expect(() => f.rolloverSync()).toThrow(closed);
    await expect(f.rollover()).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
    expect(() => f.readSync()).toThrow(closed);
    expect(() => f.writeSync(Buffer.from('x'))).toThrow(closed);
    expect(ls(s.dir)).toEqual([]);
  });

  // As Python's _rolled: closing a file that never left memory does not make it "rolled over".
  it('rolledOver stays false when a file closed in memory', () => {
    const f = spool({ maxSize: 100 });
    f.writeSync(Buffer.from('abc'));
    f.closeSync();
    expect(f.rolledOver).toBe(false);
  });

  it('refuses bad options', () => {
    const bad: [object, string][] = [
      [{ maxSize: -1 }, 'ERR_INVALID_ARG_VALUE'],
      [{ maxSize: 1.5 }, 'ERR_INVALID_ARG_VALUE'],
      [{ maxSize: Infinity }, 'ERR_INVALID_ARG_VALUE'],
      [{ maxSize: '10' }, 'ERR_INVALID_ARG_TYPE'],
      [{ maxSize: null }, 'ERR_INVALID_ARG_TYPE'],
      [{ delete: true }, 'ERR_INVALID_ARG_VALUE'], // NamedTemporaryFile's option, not this one's
      [{ unknown: 1 }, 'ERR_INVALID_ARG_VALUE'],
      [{ mode: 'z' }, 'ERR_INVALID_ARG_VALUE'],
      [{ mode: 'w+', bufsize: 0 }, 'ERR_INVALID_ARG_VALUE'],
      [{ prefix: '..' }, 'ERR_INVALID_ARG_VALUE'],
      [{ dir: 5 }, 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [o, code] of bad) {
      expect(() => tempfile.SpooledTemporaryFile({ dir: s.dir, ...o }), JSON.stringify(o)).toThrow(
        expect.objectContaining({ code }),
      );
    }
    expect(() => tempfile.SpooledTemporaryFile(5 as unknown as object)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(ls(s.dir)).toEqual([]);
  });
});

describe('SpooledTemporaryFile rollover', () => {
  it('rolls over when the data would grow past maxSize: exactly maxSize stays in memory, one more byte rolls over', () => {
    const f = spool({ maxSize: 10 });
    f.writeSync(Buffer.from('0123'));
    f.writeSync(Buffer.from('456789'));
    expect(f.tellSync()).toBe(10);
    expect(f.rolledOver).toBe(false);
    f.seekSync(3);
    f.writeSync(Buffer.from('ABCDEFG')); // overwrites up to the end: still 10 bytes
    expect(f.rolledOver).toBe(false);
    expect(ls(s.dir)).toEqual([]);
    f.writeSync(Buffer.from('!'));
    expect(f.rolledOver).toBe(true);
    expect(f.tellSync()).toBe(11);
    expect(onDisk(f)).toEqual(Buffer.from('012ABCDEFG!'));
    expect(ls(s.dir)).toEqual([]); // an unnamed file
    f.closeSync();

    const g = spool({ maxSize: 10 });
    g.writeSync(Buffer.alloc(11, 1)); // one write past maxSize
    expect(g.rolledOver).toBe(true);
    expect(onDisk(g)).toEqual(Buffer.alloc(11, 1));
    g.closeSync();

    const h = spool({ maxSize: 10 });
    h.seekSync(10); // a seek alone does not roll over
    expect(h.rolledOver).toBe(false);
    h.writeSync(Buffer.from('x')); // ends at 11
    expect(h.rolledOver).toBe(true);
    expect(onDisk(h)).toEqual(Buffer.concat([Buffer.alloc(10), Buffer.from('x')]));
    h.closeSync();
  });

  it('counts bytes, not characters, in text mode', () => {
    const f = spool({ mode: 'w+', encoding: 'utf16le', maxSize: 10 });
    expect(f.writeSync('abcde')).toBe(5); // 10 bytes
    expect(f.rolledOver).toBe(false);
    f.writeSync('f');
    expect(f.rolledOver).toBe(true);
    f.seekSync(0);
    expect(f.readSync()).toBe('abcdef');
    f.closeSync();
    const g = spool({ mode: 'w+', maxSize: 4 });
    g.writeSync('😀'); // 4 bytes, 1 character
    expect(g.rolledOver).toBe(false);
    g.writeSync('a');
    expect(g.rolledOver).toBe(true);
    g.closeSync();
  });

  it('truncate to a size past maxSize rolls over; up to maxSize does not', () => {
    const f = spool({ maxSize: 10 });
    f.writeSync(Buffer.from('abc'));
    expect(f.truncateSync(10)).toBe(10);
    expect(f.rolledOver).toBe(false);
    expect(f.truncateSync(2)).toBe(2);
    expect(f.truncateSync(11)).toBe(11);
    expect(f.rolledOver).toBe(true);
    expect(f.tellSync()).toBe(3); // truncate does not move the position
    expect(onDisk(f)).toEqual(Buffer.concat([Buffer.from('ab'), Buffer.alloc(9)]));
    f.closeSync();
    // truncate() at a position past maxSize grows the file past it too (Python does not roll
    // over here: its truncate() without a size never does).
    const g = spool({ maxSize: 10 });
    g.seekSync(20);
    g.truncateSync();
    expect(g.rolledOver).toBe(true);
    expect(onDisk(g)).toEqual(Buffer.alloc(20));
    g.closeSync();
  });

  it('maxSize 0 (the default) never rolls over by itself, whatever the size', async () => {
    for (const f of [spool(), spool({ maxSize: 0 })]) {
      for (let i = 0; i < 16; i++) f.writeSync(Buffer.alloc(64 * 1024, i));
      await f.write(Buffer.alloc(1000));
      f.truncateSync(5 * 1024 * 1024); // Python rolls over here (size > max_size = 0); the contract says never
      expect(f.rolledOver).toBe(false);
      expect(ls(s.dir)).toEqual([]);
      f.seekSync(64 * 1024 * 15);
      expect(f.readSync(3)).toEqual(Buffer.alloc(3, 15));
      f.closeSync();
    }
  });

  it.runIf(hasPython)('rolls over at the same points as Python (where the contract agrees with it)', () => {
    // Each case: a list of [op, arg] run on a file with maxSize 10; result = rolled over or not.
    const cases: Record<string, [string, number][]> = {
      exact: [['write', 10]],
      exactInTwo: [['write', 4], ['write', 6]],
      plusOne: [['write', 10], ['write', 1]],
      oneBigWrite: [['write', 11]],
      overwriteInside: [['write', 10], ['seek', 5], ['write', 5]],
      seekPastNoWrite: [['seek', 20]],
      seekToMaxWrite1: [['seek', 10], ['write', 1]],
      seekPastRead: [['write', 5], ['seek', 50], ['read', -1]],
      truncateToMax: [['truncate', 10]],
      truncatePastMax: [['truncate', 11]],
      shrink: [['write', 10], ['truncate', 3], ['write', 3]],
    };
    const py = spawnSync(
      'python3',
      [
        '-c',
        `import json, sys, tempfile
cases = json.loads(sys.stdin.read())
out = {}
for name, ops in cases.items():
    f = tempfile.SpooledTemporaryFile(max_size=10)
    for op, n in ops:
        if op == 'write': f.write(b'x' * n)
        elif op == 'seek': f.seek(n)
        elif op == 'read': f.read(n)
        elif op == 'truncate': f.truncate(n)
    out[name] = f._rolled
    f.close()
print(json.dumps(out))`,
      ],
      { input: JSON.stringify(cases), encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    const expected = JSON.parse(py.stdout) as Record<string, boolean>;
    const ours: Record<string, boolean> = {};
    for (const [name, ops] of Object.entries(cases)) {
      const f = spool({ maxSize: 10 });
      for (const [op, n] of ops) {
        if (op === 'write') f.writeSync(Buffer.alloc(n, 0x78));
        else if (op === 'seek') f.seekSync(n);
        else if (op === 'read') f.readSync(n);
        else f.truncateSync(n);
      }
      ours[name] = f.rolledOver;
      f.closeSync();
    }
    expect(ours).toEqual(expected);
    expect(Object.values(ours)).toContain(true);
    expect(Object.values(ours)).toContain(false);
  });

  it('reading fd rolls over into a real unnamed file, keeping data and position', () => {
    const f = spool({ maxSize: 1000 });
    f.writeSync(Buffer.from('hello world'));
    f.seekSync(6);
    expect(f.rolledOver).toBe(false);
    const fd = f.fd;
    expect(f.rolledOver).toBe(true);
    expect(typeof fd).toBe('number');
    expect(f.fd).toBe(fd); // the same descriptor each time
    expect(f.name).toBe(fd);
    expect(f.path).toBeNull();
    const st = fs.fstatSync(fd);
    expect(st.isFile()).toBe(true);
    expect(st.nlink).toBe(0);
    expect(st.size).toBe(11);
    expect(st.mode & 0o777).toBe(0o600 & ~process.umask());
    if (isLinux) expect(fs.readlinkSync(`/proc/self/fd/${fd}`)).toMatch(/ \(deleted\)$/);
    expect(ls(s.dir)).toEqual([]);
    expect(f.tellSync()).toBe(6);
    expect(f.readSync()).toEqual(Buffer.from('world'));
    f.writeSync(Buffer.from('!'));
    f.flushSync();
    expect(onDisk(f)).toEqual(Buffer.from('hello world!'));
    f.closeSync();
    expect(() => fs.fstatSync(fd)).toThrow(); // closed with the object (unless the number was reused)
  });

  it('rolloverSync() and rollover() move it now; a second call does nothing', async () => {
    const f = spool({ maxSize: 1000 });
    f.writeSync(Buffer.from('sync'));
    f.rolloverSync();
    expect(f.rolledOver).toBe(true);
    const fd = f.fd;
    f.rolloverSync();
    await f.rollover();
    expect(f.fd).toBe(fd);
    expect(onDisk(f)).toEqual(Buffer.from('sync'));
    expect(f.tellSync()).toBe(4);
    f.closeSync();

    const g = spool(); // maxSize 0
    await g.write(Buffer.from('async'));
    await g.seek(2);
    await g.rollover();
    expect(g.rolledOver).toBe(true);
    expect(await g.tell()).toBe(2);
    expect(await g.read()).toEqual(Buffer.from('ync'));
    expect(onDisk(g)).toEqual(Buffer.from('async'));
    if (isLinux) expect(fs.readlinkSync(`/proc/self/fd/${g.fd}`)).toMatch(/ \(deleted\)$/);
    expect(ls(s.dir)).toEqual([]);
    await g.close();
  });

  it('an empty file rolls over into an empty file', () => {
    const f = spool();
    f.rolloverSync();
    expect(fs.fstatSync(f.fd).size).toBe(0);
    expect(f.readSync()).toEqual(Buffer.alloc(0));
    f.closeSync();
  });

  it('keeps position and data across rollover in text mode (multi-byte characters) and in append mode', () => {
    const f = spool({ mode: 'w+', maxSize: 1000 });
    f.writeSync('αβγ\n😀 second\n');
    f.seekSync(0);
    expect(f.readlineSync()).toBe('αβγ\n');
    const pos = f.tellSync();
    f.rolloverSync();
    expect(f.tellSync()).toBe(pos);
    expect(f.readSync(2)).toBe('😀 ');
    expect(f.readlineSync()).toBe('second\n');
    expect(onDisk(f).toString('utf8')).toBe('αβγ\n😀 second\n');
    f.closeSync();

    const a = spool({ mode: 'a+b', maxSize: 8 });
    a.writeSync(Buffer.from('1234'));
    a.seekSync(0);
    a.writeSync(Buffer.from('5678')); // append: at the end, 8 bytes, still in memory
    expect(a.rolledOver).toBe(false);
    a.seekSync(1);
    a.writeSync(Buffer.from('9')); // at the end again: 9 bytes, past maxSize
    expect(a.rolledOver).toBe(true);
    expect(a.tellSync()).toBe(9);
    a.flushSync();
    expect(onDisk(a)).toEqual(Buffer.from('123456789'));
    a.closeSync();
  });

  it('buffers writes after rollover as the bufsize says (bufsize 0: straight to the file)', () => {
    for (const bufsize of [-1, 0, 16]) {
      const f = spool({ maxSize: 4, bufsize });
      f.writeSync(Buffer.from('abcde')); // rolls over
      f.writeSync(Buffer.from('fgh'));
      const seen = fs.fstatSync(f.fd).size;
      if (bufsize === 0) expect(seen).toBe(8);
      f.flushSync();
      expect(onDisk(f)).toEqual(Buffer.from('abcdefgh'));
      f.closeSync();
    }
  });

  it('a rollover that fails (dir missing) leaves the data in memory, usable; it rolls over once it can', async () => {
    const missing = path.join(s.dir, 'missing');
    const f = tempfile.SpooledTemporaryFile({ dir: missing, maxSize: 4 });
    f.writeSync(Buffer.from('abc'));
    expect(() => f.writeSync(Buffer.from('def'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => f.rolloverSync()).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    await expect(f.rollover()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => f.fd).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(f.rolledOver).toBe(false);
    expect(f.tellSync()).toBe(3);
    f.seekSync(0);
    expect(f.readSync()).toEqual(Buffer.from('abc'));
    fs.mkdirSync(missing, { mode: 0o700 });
    f.writeSync(Buffer.from('defg'));
    expect(f.rolledOver).toBe(true);
    f.flushSync();
    expect(onDisk(f)).toEqual(Buffer.from('abcdefg'));
    expect(ls(missing)).toEqual([]);
    f.closeSync();
  });
});

describe('SpooledTemporaryFile async forms', () => {
  it('run in call order, rollover included, without awaiting each', async () => {
    const f = spool({ maxSize: 8 });
    const p = [
      f.write(Buffer.from('abc')),
      f.tell(),
      f.rollover(),
      f.write(Buffer.from('def')),
      f.seek(0),
      f.read(),
      f.tell(),
    ];
    expect(f.rolledOver).toBe(false); // nothing has run yet
    const r = await Promise.all(p);
    expect(r).toEqual([3, 3, undefined, 3, 0, Buffer.from('abcdef'), 6]);
    expect(f.rolledOver).toBe(true);
    await f.close();

    const g = spool({ maxSize: 8 });
    const q = [g.write(Buffer.from('12345')), g.write(Buffer.from('6789')), g.seek(0), g.read(4), g.truncate()];
    const r2 = await Promise.all(q);
    expect(r2).toEqual([5, 4, 0, Buffer.from('1234'), 4]);
    expect(g.rolledOver).toBe(true); // the second write went past 8
    g.flushSync();
    expect(onDisk(g)).toEqual(Buffer.from('1234'));
    await g.close();
  });

  it('a synchronous rollover or fd while an async operation is pending is ERR_TEMPFILE_BUSY, and changes nothing', async () => {
    const f = spool({ maxSize: 100 });
    const w = f.write(Buffer.from('x'));
    expect(() => f.rolloverSync()).toThrow(expect.objectContaining({ code: 'ERR_TEMPFILE_BUSY' }));
    expect(() => f.fd).toThrow(expect.objectContaining({ code: 'ERR_TEMPFILE_BUSY' }));
    await w;
    expect(f.rolledOver).toBe(false);
    expect(f.tellSync()).toBe(1);
    f.closeSync();
  });
});

// --- the same results in memory, across rollover and on disk ---

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ENV_SEED = process.env.SECURETEMP_SPOOL_SEED;
const SEED = ENV_SEED === 'random' ? (Math.random() * 2 ** 32) >>> 0 : ENV_SEED ? Number(ENV_SEED) >>> 0 : 0x5b001ed;
const SEQS = 40;
const OPS = 120;

type Op =
  | { op: 'write'; data: string | number[] }
  | { op: 'read'; n: number }
  | { op: 'readline'; n: number }
  | { op: 'readinto'; n: number }
  | { op: 'seek'; offset: number; whence: 0 | 1 | 2 }
  | { op: 'tell' }
  | { op: 'truncate'; size: number | undefined }
  | { op: 'flush' };

const TEXT_ALPHABET = [...'abcxyz  \n\n\n', 'é', 'ß', '中', '😀', '𝄞', '\0'];

/** A random operation; `known` are positions tell() returned so far (text seeks go only there). */
function randomOp(r: () => number, text: boolean, known: number[]): Op {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const x = r();
  if (x < 0.3) {
    const n = int(0, 24);
    if (text) {
      let str = '';
      for (let i = 0; i < n; i++) str += TEXT_ALPHABET[int(0, TEXT_ALPHABET.length - 1)];
      return { op: 'write', data: str };
    }
    return { op: 'write', data: Array.from({ length: n }, () => (r() < 0.15 ? 0x0a : int(0, 255))) };
  }
  if (x < 0.44) return { op: 'read', n: r() < 0.2 ? -1 : int(0, 20) };
  if (x < 0.53) return { op: 'readline', n: r() < 0.6 ? -1 : int(0, 10) };
  if (x < 0.58 && !text) return { op: 'readinto', n: int(0, 20) };
  if (x < 0.8) {
    if (text) {
      const w = r();
      if (w < 0.2) return { op: 'seek', offset: 0, whence: 2 };
      if (w < 0.3) return { op: 'seek', offset: 0, whence: 1 };
      return { op: 'seek', offset: known.length ? known[int(0, known.length - 1)]! : 0, whence: 0 };
    }
    const whence = int(0, 2) as 0 | 1 | 2;
    return { op: 'seek', offset: whence === 0 ? int(0, 80) : int(-12, 12), whence };
  }
  if (x < 0.88) return { op: 'tell' };
  if (x < 0.96) {
    if (r() < 0.5) return { op: 'truncate', size: undefined };
    return { op: 'truncate', size: text ? (known.length ? known[int(0, known.length - 1)]! : 0) : int(0, 90) };
  }
  return { op: 'flush' };
}

/** Runs one operation; the result as comparable JSON (errors by code). */
async function apply(f: TempFile, o: Op, useAsync: boolean): Promise<string> {
  try {
    let v: unknown;
    switch (o.op) {
      case 'write': {
        const d = typeof o.data === 'string' ? o.data : Buffer.from(o.data);
        v = useAsync ? await f.write(d) : f.writeSync(d);
        break;
      }
      case 'read':
        v = useAsync ? await f.read(o.n) : f.readSync(o.n);
        break;
      case 'readline':
        v = useAsync ? await f.readline(o.n) : f.readlineSync(o.n);
        break;
      case 'readinto': {
        const b = new Uint8Array(o.n);
        const n = useAsync ? await f.readinto(b) : f.readintoSync(b);
        v = [n, Buffer.from(b.subarray(0, n)).toString('hex')];
        break;
      }
      case 'seek':
        v = useAsync ? await f.seek(o.offset, o.whence) : f.seekSync(o.offset, o.whence);
        break;
      case 'tell':
        v = useAsync ? await f.tell() : f.tellSync();
        break;
      case 'truncate':
        v = useAsync ? await f.truncate(o.size) : f.truncateSync(o.size);
        break;
      case 'flush':
        v = useAsync ? await f.flush() : f.flushSync();
        break;
    }
    return JSON.stringify(Buffer.isBuffer(v) ? { hex: v.toString('hex') } : { v });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (!code) throw e; // not a refusal: a bug
    return JSON.stringify({ err: code });
  }
}

describe('SpooledTemporaryFile: the same results in memory, across rollover and on disk', () => {
  const configs = [
    { name: "'w+b'", mode: 'w+b', text: false, bufsizes: [-1, 0, 5] },
    { name: "'a+b'", mode: 'a+b', text: false, bufsizes: [-1, 0, 5] },
    { name: "'w+' utf8", mode: 'w+', encoding: 'utf8', text: true, bufsizes: [-1, 1, 5] },
    { name: "'w+' utf16le", mode: 'w+', encoding: 'utf16le', text: true, bufsizes: [-1, 1, 5] },
  ];

  it.each(configs.map((c, i) => [c.name, c, i] as const))('same results step by step: %s', async (_, c, ci) => {
    let rolledMidway = 0;
    for (let seq = 0; seq < SEQS; seq++) {
      const seed = (SEED ^ Math.imul(ci + 1, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b)) >>> 0;
      const r = mulberry32(seed);
      const bufsize = c.bufsizes[seq % c.bufsizes.length]!;
      const maxSize = 20 + Math.floor(r() * 60);
      const useAsync = seq % 3 === 2; // every third sequence through the async methods, awaited
      const common = { mode: c.mode, bufsize, ...(c.encoding ? { encoding: c.encoding } : {}) };
      const never = spool({ ...common, maxSize: 0 });
      const rolls = spool({ ...common, maxSize });
      const plain = tempfile.TemporaryFileSync({ dir: s.dir, ...common });
      const where = (step: number, o: unknown) =>
        `seed=${seed} (SECURETEMP_SPOOL_SEED=${SEED}, config ${c.name}, sequence ${seq}, bufsize ${bufsize}, maxSize ${maxSize}, ${useAsync ? 'async' : 'sync'}) step ${step}: ${JSON.stringify(o)}`;
      const known: number[] = [0];
      let rolledAt = -1;
      try {
        for (let step = 0; step < OPS; step++) {
          const o = randomOp(r, c.text, known);
          const want = await apply(plain, o, useAsync);
          const a = await apply(never, o, useAsync);
          const b = await apply(rolls, o, useAsync);
          expect(a, `maxSize 0 vs TemporaryFile, ${where(step, o)}`).toBe(want);
          expect(b, `rolling vs TemporaryFile, ${where(step, o)}`).toBe(want);
          if (o.op === 'tell' || o.op === 'seek') {
            const v = JSON.parse(want).v;
            if (typeof v === 'number') known.push(v);
          }
          expect(never.rolledOver, where(step, o)).toBe(false);
          if (rolledAt < 0 && rolls.rolledOver) rolledAt = step;
          if (rolledAt >= 0) expect(rolls.rolledOver, where(step, o)).toBe(true);
        }
        expect(ls(s.dir)).toEqual([]);
        // The bytes: each file through its descriptor (the in-memory ones roll over to have one).
        plain.flushSync();
        rolls.flushSync();
        const want = onDisk(plain);
        expect(onDisk(never), `final contents, ${where(OPS, null)}`).toEqual(want);
        expect(onDisk(rolls), `final contents, ${where(OPS, null)}`).toEqual(want);
        expect(never.tellSync()).toBe(plain.tellSync());
        if (rolledAt > 0) rolledMidway++;
      } finally {
        never.closeSync();
        rolls.closeSync();
        plain.closeSync();
      }
    }
    // The rolling file did roll over in the middle of most sequences (else this tests little).
    expect(rolledMidway, `seed ${SEED}`).toBeGreaterThan(SEQS / 2);
  });
});

describe.runIf(isLinux)('SpooledTemporaryFile: garbage collection', () => {
  it('a rolled-over unclosed file is closed when collected, with a ResourceWarning', () => {
    const r = runNode(
      `const fs = require('fs');
       const t = require('securetemp');
       function leak() {
         const f = t.SpooledTemporaryFile({ maxSize: 4 });
         f.writeSync(Buffer.from('rolled over'));
         return [f.fd, fs.fstatSync(f.fd).ino];
       }
       const [fd, ino] = leak();
       let warned = '';
       process.on('warning', (w) => { warned = w.name + ': ' + w.message; });
       (async () => {
         for (let i = 0; i < 20; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
         let closed = false;
         try { closed = fs.fstatSync(fd).ino !== ino; } catch (e) { closed = e.code === 'EBADF'; }
         console.log(JSON.stringify({ closed, warned }));
       })();`,
      { args: ['--expose-gc'] },
    );
    const out = JSON.parse(r.stdout);
    expect(out.closed).toBe(true);
    expect(out.warned).toMatch(/^ResourceWarning: unclosed TempFile/);
  });

  let collected: { inMemory: boolean; rolled: boolean } | null = null;

  it('an unclosed file that has rolled over can be garbage-collected', () => {
    const r = runNode(
      `const t = require('securetemp');
       function leak(roll) {
         const f = t.SpooledTemporaryFile({ maxSize: 1 << 30 });
         f.writeSync(Buffer.alloc(1 << 20, 1));
         if (roll) f.rolloverSync();
         return new WeakRef(f);
       }
       const inMemory = leak(false), rolled = leak(true);
       (async () => {
         for (let i = 0; i < 20; i++) {
           global.gc();
           await new Promise((r) => setTimeout(r, 10));
         }
         console.log(JSON.stringify({ inMemory: inMemory.deref() === undefined, rolled: rolled.deref() === undefined }));
       })();`,
      { args: ['--expose-gc'] },
    );
    expect(r.status, r.stderr).toBe(0);
    collected = JSON.parse(r.stdout);
    expect(collected!.rolled).toBe(true);
    expect(typeof collected!.inMemory).toBe('boolean');
  });

  // Regression guard: the FinalizationRegistry holds the state strongly; if anything the state
  // holds (the spiller) led back to the file object, the object and its data would leak.
  it('an unclosed file still in memory can be garbage-collected (its memory is freed)', () => {
    expect(collected!.inMemory).toBe(true); // from the test above
  });
});
