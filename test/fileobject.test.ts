// The whole file object (issue 13): readlines/writelines, line iteration (sync and async, the
// position after an abandoned iterator), capabilities, peek/read1/readinto1, stat, chmod,
// readableWebStream, for plain, named and spooled files (before and after rollover), binary and
// text. Python's behaviour itself is compared in differential.test.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scratch, tempfile } from './_helpers';
import type { TempFile } from 'securetemp';

let s: ReturnType<typeof scratch>;
beforeEach(() => {
  s = scratch();
});
afterEach(() => s.remove());

type Kind = 'plain' | 'named' | 'spooled' | 'rolled';
const KINDS: Kind[] = ['plain', 'named', 'spooled', 'rolled'];

function make(kind: Kind, o: Record<string, unknown> = {}): TempFile {
  const opts = { dir: s.dir, ...o };
  if (kind === 'plain') return tempfile.TemporaryFileSync(opts);
  if (kind === 'named') return tempfile.NamedTemporaryFileSync(opts);
  const f = tempfile.SpooledTemporaryFile(opts);
  if (kind === 'rolled') f.rolloverSync();
  return f;
}

const B = (t: string) => Buffer.from(t);

describe.each(KINDS)('%s file', (kind) => {
  it('readlines with and without a hint (binary and text)', async () => {
    const f = make(kind);
    f.writeSync(B('ab\ncd\n\nlast'));
    f.seekSync(0);
    expect(f.readlinesSync()).toEqual([B('ab\n'), B('cd\n'), B('\n'), B('last')]);
    expect(f.tellSync()).toBe(11);
    // CPython's rule: lines until their total length exceeds the hint; hint <= 0 = all.
    for (const [hint, n] of [[0, 4], [-5, 4], [1, 1], [2, 1], [3, 2], [5, 2], [6, 3], [7, 4], [100, 4]] as const) {
      f.seekSync(0);
      expect((await f.readlines(hint)).length, `hint ${hint}`).toBe(n);
      expect(f.tellSync()).toBe([0, 3, 6, 7, 11][n]);
    }
    f.closeSync();
    const t = make(kind, { mode: 'w+' });
    t.writeSync('é😀\nx\n');
    t.seekSync(0);
    // Text: the hint counts characters (code points), not bytes.
    expect(t.readlinesSync(2)).toEqual(['é😀\n']);
    expect(t.readlinesSync()).toEqual(['x\n']);
    expect(await t.readlines()).toEqual([]);
    t.closeSync();
  });

  it('writelines: iterables (async iterables in the async form), no separators, type checked per item', async () => {
    const f = make(kind);
    f.writelinesSync([B('a'), new Uint8Array([0x0a]), B('b\n')]);
    await f.writelines(
      (async function* () {
        yield B('c');
        yield B('d\n');
      })(),
    );
    await f.writelines(new Set([B('e')]));
    f.seekSync(0);
    expect(f.readSync()).toEqual(B('a\nb\ncd\ne'));
    // A string in binary mode: what came before it is written, then the TypeError.
    expect(() => f.writelinesSync([B('X'), 'Y' as never])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    await expect(f.writelines([B('Z'), 5 as never])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => f.writelinesSync(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    f.seekSync(0);
    expect(f.readSync()).toEqual(B('a\nb\ncd\neXZ'));
    f.closeSync();
    const t = make(kind, { mode: 'w+', bufsize: 1 });
    t.writelinesSync(['α\n', 'β']);
    await t.writelines(['γ\n']);
    t.seekSync(0);
    expect(t.readSync()).toBe('α\nβγ\n');
    t.closeSync();
  });

  it('iteration (sync and async) yields what readline returns, from the position', async () => {
    for (const mode of ['w+b', 'w+']) {
      const f = make(kind, { mode });
      const text = 'one\ntwo\n\nthree é\nno newline';
      f.writeSync(mode === 'w+' ? text : B(text));
      f.seekSync(4);
      const want: (Buffer | string)[] = [];
      for (let l = f.readlineSync(); l.length > 0; l = f.readlineSync()) want.push(l);
      const end = f.tellSync();
      f.seekSync(4);
      expect([...f]).toEqual(want);
      expect(f.tellSync()).toBe(end);
      f.seekSync(4);
      const got: (Buffer | string)[] = [];
      for await (const l of f) got.push(l);
      expect(got).toEqual(want);
      expect(f.tellSync()).toBe(end);
      f.closeSync();
    }
  });

  it('an abandoned iterator leaves the position after the last line it yielded (sync and async)', async () => {
    const f = make(kind, { mode: 'w+' });
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}\n`);
    f.writeSync(lines.join(''));
    f.seekSync(0);
    let n = 0;
    for (const l of f) {
      expect(l).toBe(lines[n]);
      if (++n === 1234) break;
    }
    expect(f.readlineSync()).toBe(lines[1234]);
    n = 1235;
    for await (const l of f) {
      expect(l).toBe(lines[n]);
      if (++n === 4000) break;
    }
    expect(await f.readline()).toBe(lines[4000]);
    expect(f.tellSync()).toBe(Buffer.byteLength(lines.slice(0, 4001).join('')));
    f.closeSync();
  });

  it('iteration sees writes, truncations and seeks made in between', async () => {
    const f = make(kind);
    f.writeSync(B('a\nb\nc\nd\n'));
    f.seekSync(0);
    const it = f[Symbol.iterator]();
    expect(it.next().value).toEqual(B('a\n'));
    f.writeSync(B('B\n')); // overwrites 'b\n' (buffered)
    f.seekSync(2);
    expect(it.next().value).toEqual(B('B\n'));
    f.truncateSync(5);
    expect(it.next().value).toEqual(B('c'));
    expect(it.next().done).toBe(true);
    f.writeSync(B('\nmore\n')); // the file grew: iteration goes on, as Python's does
    f.seekSync(5);
    expect(it.next().value).toEqual(B('\n'));
    const ai = f[Symbol.asyncIterator]();
    expect((await ai.next()).value).toEqual(B('more\n'));
    void f.write(B('later\n'));
    void f.seek(-6, 2); // queued: the next line waits for both
    expect((await ai.next()).value).toEqual(B('later\n'));
    expect((await ai.next()).done).toBe(true);
    f.closeSync();
  });

  it('text iteration equals readline across read-ahead chunks (one-byte and multi-byte text), and sees writes', () => {
    for (const encoding of ['utf8', 'latin1', 'ascii', 'utf16le'] as const) {
      const f = make(kind, { mode: 'w+', encoding });
      const wide = encoding === 'utf8' || encoding === 'utf16le';
      const lines = Array.from({ length: 6000 }, (_, i) =>
        i % 1500 < 700 ? `${i}:${'a'.repeat(i % 97)}\n` : `${i}:${wide ? 'é😀' : encoding === 'latin1' ? 'éÿ' : '~'}${'b'.repeat(i % 89)}\n`,
      );
      f.writeSync(lines.join('') + 'end');
      f.seekSync(0);
      const want: string[] = [];
      for (let l = f.readlineSync() as string; l !== ''; l = f.readlineSync() as string) want.push(l);
      f.seekSync(0);
      const got: string[] = [];
      for (const l of f) {
        got.push(l as string);
        if (got.length === 3000) {
          // Overwrite the next line through the object: the iterator must see it.
          const at = f.tellSync();
          const next = want[3000]!;
          const repl = 'Z'.repeat(next.length - 1) + '\n';
          f.writeSync(repl);
          want[3000] = repl;
          f.seekSync(at);
        }
      }
      expect(got.length, encoding).toBe(want.length);
      expect(got, encoding).toEqual(want);
      f.closeSync();
    }
  });

  it('utf16le lines end at an aligned 0a 00; invalid data fails at its own line', () => {
    const f = make(kind, { mode: 'w+', encoding: 'utf16le' });
    f.writeSync('ਁĀ\nĊĀਊ\nz');
    f.seekSync(0);
    expect([...f]).toEqual(['ਁĀ\n', 'ĊĀਊ\n', 'z']);
    f.closeSync();
    // Invalid UTF-8 on the second line: the first is given, the second fails, the position stays before it.
    const ft = make(kind, { mode: 'w+' });
    ft.writeSync('ok\n');
    ft.flushSync();
    fs.writeSync(ft.fd, Buffer.concat([Buffer.from([0xff, 0x0a]), B('after\n')]), 0, 8, 3);
    ft.seekSync(0);
    const it = ft[Symbol.iterator]();
    expect(it.next().value).toBe('ok\n');
    expect(() => it.next()).toThrow(expect.objectContaining({ code: 'ERR_ENCODING_INVALID_ENCODED_DATA' }));
    expect(ft.tellSync()).toBe(3);
    ft.closeSync();
  });

  it('capabilities in every mode, and refusals', async () => {
    for (const [mode, r, w] of [
      ['r', true, false], ['rb', true, false], ['w', false, true], ['wb', false, true], ['a', false, true],
      ['ab', false, true], ['x', false, true], ['r+', true, true], ['w+b', true, true], ['a+', true, true],
      ['x+b', true, true],
    ] as const) {
      const f = make(kind, { mode });
      expect([f.readable(), f.writable(), f.seekable(), f.isatty()], mode).toEqual([r, w, true, false]);
      expect(f.newlines).toBe(mode.includes('b') ? undefined : null);
      if (!r) {
        expect(() => [...f]).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
        expect(() => f.readlinesSync()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
        await expect(f[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OPERATION' });
      }
      if (!w) {
        expect(() => f.writelinesSync([mode.includes('b') ? B('x') : 'x'])).toThrow(
          expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }),
        );
      }
      f.closeSync();
      for (const m of ['readable', 'writable', 'seekable', 'isatty', 'fileno'] as const)
        expect(() => f[m](), m).toThrow(expect.objectContaining({ code: 'ERR_FILE_CLOSED' }));
      expect(() => f[Symbol.iterator]()).toThrow(expect.objectContaining({ code: 'ERR_FILE_CLOSED' }));
    }
  });

  it('peek does not move the position; read1/readinto1 read once; text mode refuses them', async () => {
    const f = make(kind, { bufsize: 16 });
    f.writeSync(B('0123456789'));
    f.seekSync(2);
    f.writeSync(B('ab')); // buffered: peek and read1 see it
    expect(f.peekSync(3)).toEqual(B('456'));
    expect(f.tellSync()).toBe(4);
    expect(await f.peek()).toEqual(B('456789')); // default: up to 8 KiB
    expect(f.read1Sync(2)).toEqual(B('45'));
    expect(await f.read1(100)).toEqual(B('6789'));
    expect(f.read1Sync()).toEqual(B(''));
    expect(f.peekSync(5)).toEqual(B(''));
    f.seekSync(0);
    const u = new Uint8Array(3);
    expect(f.readinto1Sync(u)).toBe(3);
    expect(Buffer.from(u)).toEqual(B('01a'));
    expect(await f.readinto1(u)).toBe(3);
    expect(Buffer.from(u)).toEqual(B('b45'));
    expect(f.tellSync()).toBe(6);
    f.closeSync();
    const t = make(kind, { mode: 'w+' });
    for (const m of ['peekSync', 'read1Sync'] as const)
      expect(() => t[m](1), m).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    expect(() => t.readinto1Sync(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    await expect(t.peek(1)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OPERATION' });
    t.closeSync();
    const w = make(kind, { mode: 'wb' });
    expect(() => w.peekSync(1)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    w.closeSync();
  });

  it('stat() counts buffered bytes; chmod() sets permission bits through the descriptor, never set-ID', async () => {
    const f = make(kind);
    f.writeSync(B('12345'));
    expect(f.statSync().size).toBe(5);
    f.writeSync(B('678'));
    const st = await f.stat();
    expect(st.size).toBe(8);
    expect(st.isFile()).toBe(true);
    expect(st.ino).toBe(fs.fstatSync(f.fd).ino);
    if (process.platform !== 'win32') {
      f.chmodSync(0o640);
      expect(fs.fstatSync(f.fd).mode & 0o7777).toBe(0o640);
      await f.chmod(0o604);
      expect(fs.fstatSync(f.fd).mode & 0o7777).toBe(0o604);
      if (kind === 'named') expect(fs.statSync(f.path!).mode & 0o7777).toBe(0o604);
    }
    for (const bad of [0o4600, 0o2600, 0o1600, -1, 1.5])
      expect(() => f.chmodSync(bad), String(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => f.chmodSync(undefined as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    await expect(f.chmod(0o4777)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    if (process.platform !== 'win32') expect(fs.fstatSync(f.fd).mode & 0o7777).toBe(0o604);
    f.closeSync();
    expect(() => f.statSync()).toThrow(expect.objectContaining({ code: 'ERR_FILE_CLOSED' }));
    await expect(f.chmod(0o600)).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
  });

  it('readableWebStream: from the position, after the buffer, without moving the position', async () => {
    const f = make(kind);
    const big = Buffer.alloc(200_000, 7);
    f.writeSync(big);
    f.writeSync(B('tail'));
    f.seekSync(10);
    const chunks: Uint8Array[] = [];
    for await (const c of f.readableWebStream()) chunks.push(c);
    expect(Buffer.concat(chunks).equals(Buffer.concat([big.subarray(10), B('tail')]))).toBe(true);
    expect(f.tellSync()).toBe(10);
    // A BYOB reader works too.
    f.seekSync(200_000);
    const r = f.readableWebStream().getReader({ mode: 'byob' });
    const got = await r.read(new Uint8Array(10));
    expect(Buffer.from(got.value!)).toEqual(B('tail'));
    expect((await r.read(new Uint8Array(10))).done).toBe(true);
    // After close, the stream fails.
    f.seekSync(0);
    const s2 = f.readableWebStream().getReader();
    f.closeSync();
    await expect(s2.read()).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
    const w = make(kind, { mode: 'wb' });
    expect(() => w.readableWebStream()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    w.closeSync();
  });

  it('fileno() is the descriptor (a spooled file rolls over)', () => {
    const f = make(kind);
    const n = f.fileno();
    expect(n).toBe(f.fd);
    expect(fs.fstatSync(n).isFile()).toBe(true);
    if (kind === 'spooled') expect((f as unknown as { rolledOver: boolean }).rolledOver).toBe(true);
    f.closeSync();
  });
});

describe('SpooledTemporaryFile rolls over with the settings in force at rollover', () => {
  const where = (fd: number): string => fs.readlinkSync(`/proc/self/fd/${fd}`);
  let saved: string | null;
  beforeEach(() => {
    saved = tempfile.tempdir;
  });
  afterEach(() => {
    tempfile.tempdir = saved;
  });

  it.skipIf(process.platform !== 'linux')('tempfile.tempdir changed after creation: the file lands in the new one', async () => {
    const a = path.join(s.dir, 'a');
    const b = path.join(s.dir, 'b');
    fs.mkdirSync(a, { mode: 0o700 });
    fs.mkdirSync(b, { mode: 0o700 });
    for (const how of ['sync', 'async', 'fd', 'write past maxSize'] as const) {
      tempfile.tempdir = a;
      const f = tempfile.SpooledTemporaryFile({ maxSize: 4 });
      f.writeSync(B('abc'));
      tempfile.tempdir = b;
      if (how === 'sync') f.rolloverSync();
      else if (how === 'async') await f.rollover();
      else if (how === 'fd') void f.fd;
      else await f.write(B('defgh'));
      expect(f.rolledOver, how).toBe(true);
      expect(where(f.fd).startsWith(b + path.sep), `${how}: ${where(f.fd)}`).toBe(true);
      f.seekSync(0);
      expect(f.readSync()).toEqual(B(how === 'write past maxSize' ? 'abcdefgh' : 'abc'));
      f.closeSync();
    }
    // An explicit dir is kept whatever tempfile.tempdir says later.
    const g = tempfile.SpooledTemporaryFile({ dir: a });
    tempfile.tempdir = b;
    g.rolloverSync();
    expect(where(g.fd).startsWith(a + path.sep)).toBe(true);
    g.closeSync();
  });

  it('a tempfile.tempdir that is gone by rollover time fails then (checked at creation, read again at rollover)', async () => {
    tempfile.tempdir = s.dir;
    const gone = path.join(s.dir, 'gone');
    const f = tempfile.SpooledTemporaryFile({ maxSize: 2 });
    const g = tempfile.SpooledTemporaryFile();
    f.writeSync(B('x'));
    tempfile.tempdir = gone;
    expect(() => f.writeSync(B('yz'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    await expect(g.rollover()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(f.rolledOver).toBe(false);
    tempfile.tempdir = s.dir;
    f.rolloverSync();
    f.seekSync(0);
    expect(f.readSync()).toEqual(B('x'));
    f.closeSync();
    g.closeSync();
    // Bad arguments are still refused at creation.
    expect(() => tempfile.SpooledTemporaryFile({ prefix: 'a/b' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
