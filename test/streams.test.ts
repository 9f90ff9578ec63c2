// TempFile.createReadStream / createWriteStream: fs streams on the descriptor. The write buffer
// is flushed first; start defaults to the current position (end of file for an append-mode write
// stream); the stream keeps its own position and never moves the object's; text files default
// the stream's encoding to theirs; the file stays open until close(). A SpooledTemporaryFile
// rolls over to have a descriptor.
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ls, runNode, scratch, tempfile } from './_helpers';
import type { TempFile } from 'securetemp';

let s: ReturnType<typeof scratch>;
beforeEach(() => {
  s = scratch();
});
afterEach(() => s.remove());

/** Everything a readable stream gives, chunk by chunk. */
async function chunks(rs: NodeJS.ReadableStream): Promise<(Buffer | string)[]> {
  const out: (Buffer | string)[] = [];
  for await (const c of rs) out.push(c as Buffer | string);
  return out;
}

async function readAll(rs: NodeJS.ReadableStream): Promise<Buffer> {
  return Buffer.concat((await chunks(rs)).map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

const file = (o: object = {}): TempFile => tempfile.TemporaryFileSync({ dir: s.dir, ...o });

describe('createReadStream', () => {
  it('reads from the current position to the end, buffered writes included, without moving the position', async () => {
    const f = file();
    try {
      f.writeSync(Buffer.from('hello world'));
      f.seekSync(0);
      f.writeSync(Buffer.from('HE')); // buffered: not yet in the file
      expect(f.tellSync()).toBe(2);
      expect(await readAll(f.createReadStream())).toEqual(Buffer.from('llo world'));
      expect(f.tellSync()).toBe(2);
      expect(await readAll(f.createReadStream({ start: 0 }))).toEqual(Buffer.from('HEllo world'));
      expect(f.tellSync()).toBe(2);
      expect(f.readSync()).toEqual(Buffer.from('llo world'));
      expect(f.closed).toBe(false);
    } finally {
      f.closeSync();
    }
  });

  it('flushes the write buffer before the stream starts (a buffered append lands first)', async () => {
    const f = file({ mode: 'a+b' });
    try {
      f.writeSync(Buffer.from('abc'));
      f.writeSync(Buffer.from('def'));
      expect(await readAll(f.createReadStream({ start: 0 }))).toEqual(Buffer.from('abcdef'));
      expect(fs.fstatSync(f.fd).size).toBe(6);
    } finally {
      f.closeSync();
    }
  });

  it('takes start and end (inclusive), highWaterMark and encoding', async () => {
    const f = file();
    try {
      f.writeSync(Buffer.from('0123456789'));
      expect(await readAll(f.createReadStream())).toEqual(Buffer.alloc(0)); // at the end
      expect(await readAll(f.createReadStream({ start: 2, end: 4 }))).toEqual(Buffer.from('234'));
      expect(await readAll(f.createReadStream({ start: 7 }))).toEqual(Buffer.from('789'));
      expect(await readAll(f.createReadStream({ start: 50 }))).toEqual(Buffer.alloc(0));
      f.seekSync(5);
      expect(await readAll(f.createReadStream({ end: 6 }))).toEqual(Buffer.from('56'));
      const cs = await chunks(f.createReadStream({ start: 0, highWaterMark: 4 }));
      expect(cs.map((c) => c.length)).toEqual([4, 4, 2]);
      expect(await chunks(f.createReadStream({ start: 0, end: 2, encoding: 'hex' }))).toEqual(['303132']);
      expect(f.tellSync()).toBe(5);
    } finally {
      f.closeSync();
    }
  });

  it("text mode: chunks are strings in the file's encoding unless another is asked for", async () => {
    const f = file({ mode: 'w+', encoding: 'utf16le' });
    try {
      f.writeSync('héllo 😀');
      f.seekSync(0);
      const cs = await chunks(f.createReadStream());
      expect(cs.every((c) => typeof c === 'string')).toBe(true);
      expect(cs.join('')).toBe('héllo 😀');
      expect((await chunks(f.createReadStream({ encoding: 'latin1', end: 3 }))).join('')).toBe('h\0é\0');
      const u = file({ mode: 'w+' });
      u.writeSync('αβγ');
      expect((await chunks(u.createReadStream({ start: 2 }))).join('')).toBe('βγ');
      u.closeSync();
    } finally {
      f.closeSync();
    }
  });

  it('leaves the file open: after the stream has ended the object reads, writes and closes as before', async () => {
    const f = file();
    f.writeSync(Buffer.from('data'));
    const rs = f.createReadStream({ start: 0 });
    const ended = new Promise<void>((resolve) => rs.on('end', () => resolve()));
    expect(await readAll(rs)).toEqual(Buffer.from('data'));
    await ended;
    await new Promise((resolve) => setTimeout(resolve, 20)); // anything the stream does after its end
    expect(f.closed).toBe(false);
    expect(fs.fstatSync(f.fd).size).toBe(4);
    f.writeSync(Buffer.from('+more'));
    f.seekSync(0);
    expect(f.readSync()).toEqual(Buffer.from('data+more'));
    const fd = f.fd;
    f.closeSync();
    expect(f.closed).toBe(true);
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

describe('createWriteStream', () => {
  it('writes at the current position without moving it; the object reads the data afterwards', async () => {
    const f = file();
    try {
      f.writeSync(Buffer.from('AAAAAAAAAA'));
      f.seekSync(3);
      await pipeline(Readable.from([Buffer.from('xy'), Buffer.from('z')]), f.createWriteStream());
      expect(f.tellSync()).toBe(3);
      expect(f.readSync()).toEqual(Buffer.from('xyzAAAA'));
      f.seekSync(0);
      expect(f.readSync()).toEqual(Buffer.from('AAAxyzAAAA'));
      await pipeline(Readable.from([Buffer.from('END')]), f.createWriteStream({ start: 8 }));
      f.seekSync(0);
      expect(f.readSync()).toEqual(Buffer.from('AAAxyzAAEND'));
      expect(f.closed).toBe(false);
    } finally {
      await f.close();
    }
  });

  it('flushes buffered writes first, then writes after them', async () => {
    const f = file();
    try {
      f.writeSync(Buffer.from('buffered'));
      expect(f.tellSync()).toBe(8);
      const ws = f.createWriteStream();
      ws.end(Buffer.from('+stream'));
      await new Promise<void>((resolve, reject) => ws.on('finish', () => resolve()).on('error', reject));
      expect(f.tellSync()).toBe(8);
      f.seekSync(0);
      expect(f.readSync()).toEqual(Buffer.from('buffered+stream'));
    } finally {
      f.closeSync();
    }
  });

  it('append mode: writes at the end of file, wherever the position is, buffered appends included', async () => {
    const f = file({ mode: 'a+b' });
    try {
      f.writeSync(Buffer.from('abc'));
      f.seekSync(0);
      f.writeSync(Buffer.from('def')); // appended (maybe still buffered)
      f.seekSync(1);
      await pipeline(Readable.from([Buffer.from('ghi')]), f.createWriteStream());
      expect(f.tellSync()).toBe(1);
      f.seekSync(0);
      expect(f.readSync()).toEqual(Buffer.from('abcdefghi'));
      await pipeline(Readable.from([Buffer.from('X')]), f.createWriteStream({ start: 0 })); // an explicit start wins
      f.seekSync(0);
      expect(f.readSync()).toEqual(Buffer.from('Xbcdefghi'));
    } finally {
      f.closeSync();
    }
  });

  it("text mode: strings are written in the file's encoding", async () => {
    const f = file({ mode: 'w+', encoding: 'utf16le' });
    try {
      await pipeline(Readable.from(['héllo', ' 😀']), f.createWriteStream());
      expect(f.readSync()).toBe('héllo 😀');
      f.flushSync();
      expect(fs.fstatSync(f.fd).size).toBe(Buffer.byteLength('héllo 😀', 'utf16le'));
    } finally {
      f.closeSync();
    }
  });

  it('leaves the file open after the stream has finished; a named file is visible by path', async () => {
    const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
    const ws = f.createWriteStream();
    const finished = new Promise<void>((resolve) => ws.on('finish', () => resolve()));
    ws.end(Buffer.from('by stream'));
    await finished;
    await new Promise((resolve) => setTimeout(resolve, 20)); // anything the stream does after its finish
    expect(f.closed).toBe(false);
    expect(fs.fstatSync(f.fd).size).toBe(9);
    expect(fs.readFileSync(f.path!, 'utf8')).toBe('by stream');
    expect(f.readSync()).toEqual(Buffer.from('by stream'));
    f.closeSync();
    expect(ls(s.dir)).toEqual([]);
  });
});

// A stream uses the file's descriptor through the file (finding 5): it keeps the file alive, a
// close waits for the stream's call in flight and is not undone by it, and a stream used after
// close() fails with ERR_FILE_CLOSED instead of reaching a number that may be another file now.
describe('streams and close()', () => {
  it('await close() while a read stream is flowing: the descriptor is closed once it resolves, the stream fails cleanly', async () => {
    const f = file();
    f.writeSync(Buffer.alloc(1 << 20, 7));
    const fd = f.fd;
    const rs = f.createReadStream({ start: 0, highWaterMark: 4096 });
    const got: Buffer[] = [];
    const ended = new Promise<string | null>((resolve) => {
      rs.on('data', (c) => got.push(c as Buffer));
      rs.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
      rs.on('end', () => resolve(null));
    });
    await new Promise((r) => rs.once('data', r)); // flowing: a read is in flight or about to be
    await f.close();
    expect(f.closed).toBe(true);
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(await ended).toBe('ERR_FILE_CLOSED');
    const all = Buffer.concat(got);
    expect(all.length).toBeLessThan(1 << 20);
    expect(all.every((b) => b === 7)).toBe(true);
  });

  it('a stream made before closeSync() and read after it fails with ERR_FILE_CLOSED, and reads nothing', async () => {
    const f = file();
    f.writeSync(Buffer.from('data'));
    const rs = f.createReadStream({ start: 0 });
    const ws = f.createWriteStream({ start: 0 });
    f.closeSync();
    await expect(readAll(rs)).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
    await expect(pipeline(Readable.from([Buffer.from('late')]), ws)).rejects.toMatchObject({ code: 'ERR_FILE_CLOSED' });
  });

  it('writev (several chunks corked at once) goes to the file', async () => {
    const f = file();
    try {
      const ws = f.createWriteStream();
      ws.cork();
      ws.write(Buffer.from('a'));
      ws.write(Buffer.from('b'));
      ws.write(Buffer.from('c'));
      ws.uncork();
      await new Promise<void>((resolve, reject) => ws.end(Buffer.from('d'), () => resolve()).on('error', reject));
      expect(f.readSync()).toEqual(Buffer.from('abcd'));
    } finally {
      f.closeSync();
    }
  });
});

describe('stream refusals', () => {
  it('a mode that forbids reading refuses createReadStream; one that forbids writing refuses createWriteStream', async () => {
    const unsupported = expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' });
    for (const mode of ['wb', 'ab', 'xb', 'w']) {
      const f = file({ mode });
      expect(() => f.createReadStream(), mode).toThrow(unsupported);
      await pipeline(Readable.from([mode.includes('b') ? Buffer.from('ok') : 'ok']), f.createWriteStream()); // allowed
      f.closeSync();
    }
    for (const mode of ['rb', 'r']) {
      const f = file({ mode });
      expect(() => f.createWriteStream(), mode).toThrow(unsupported);
      expect(await readAll(f.createReadStream())).toEqual(Buffer.alloc(0)); // allowed
      f.closeSync();
    }
  });

  it('a closed file refuses both with ERR_FILE_CLOSED', async () => {
    const f = file();
    await f.close();
    const closed = expect.objectContaining({ code: 'ERR_FILE_CLOSED' });
    expect(() => f.createReadStream()).toThrow(closed);
    expect(() => f.createWriteStream()).toThrow(closed);
  });

  it('unknown options, and options that would take the descriptor away, are ERR_INVALID_ARG_VALUE', () => {
    const f = file();
    try {
      for (const o of [{ unknown: 1 }, { fd: 0 }, { autoClose: true }, { flags: 'r' }, { fs: {} }]) {
        const bad = expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' });
        expect(() => f.createReadStream(o as object), JSON.stringify(o)).toThrow(bad);
        expect(() => f.createWriteStream(o as object), JSON.stringify(o)).toThrow(bad);
      }
      expect(() => f.createReadStream({ end: 3, unknown: 1 } as object)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
      );
      expect(() => f.createReadStream('x' as unknown as object)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
      // the descriptor is still ours
      f.writeSync(Buffer.from('ok'));
      f.seekSync(0);
      expect(f.readSync()).toEqual(Buffer.from('ok'));
    } finally {
      f.closeSync();
    }
  });
});

describe('streams on a SpooledTemporaryFile', () => {
  it('createReadStream rolls it over and reads its data from the position', async () => {
    const f = tempfile.SpooledTemporaryFile({ dir: s.dir, maxSize: 1000 });
    f.writeSync(Buffer.from('in memory'));
    f.seekSync(3);
    expect(f.rolledOver).toBe(false);
    const rs = f.createReadStream();
    expect(f.rolledOver).toBe(true);
    expect(await readAll(rs)).toEqual(Buffer.from('memory'));
    expect(f.tellSync()).toBe(3);
    expect(fs.fstatSync(f.fd).nlink).toBe(0);
    expect(ls(s.dir)).toEqual([]);
    f.closeSync();
  });

  it('createWriteStream rolls it over and writes at the position', async () => {
    const f = tempfile.SpooledTemporaryFile({ dir: s.dir, mode: 'w+' });
    f.writeSync('abcdef');
    f.seekSync(2);
    const ws = f.createWriteStream();
    expect(f.rolledOver).toBe(true);
    await pipeline(Readable.from(['XY']), ws);
    expect(f.readSync()).toBe('XYef');
    f.seekSync(0);
    expect(f.readSync()).toBe('abXYef');
    f.closeSync();
  });

  it('a refused stream does not roll it over', () => {
    const f = tempfile.SpooledTemporaryFile({ dir: s.dir, mode: 'wb' });
    expect(() => f.createReadStream()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    expect(() => f.createWriteStream({ nope: 1 } as object)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(f.rolledOver).toBe(false);
    f.closeSync();
  });
});

describe('a 64 MiB round trip through streams', () => {
  const MiB = 1024 * 1024;

  /** Chunk k of a deterministic pattern (1 MiB, different for every k). */
  function chunk(k: number): Buffer {
    const u = new Uint32Array(MiB / 4);
    let x = (k + 1) * 0x9e3779b1;
    for (let i = 0; i < u.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      u[i] = x >>> 0;
    }
    return Buffer.from(u.buffer);
  }

  it('gives identical bytes back (sha256), with the object still usable afterwards', async () => {
    const expected = createHash('sha256');
    const source = Readable.from(
      (function* () {
        for (let k = 0; k < 64; k++) {
          const c = chunk(k);
          expected.update(c);
          yield c;
        }
      })(),
    );
    const f = file();
    try {
      f.writeSync(Buffer.from('HEAD')); // the streams start after this
      await pipeline(source, f.createWriteStream({ highWaterMark: MiB }));
      expect(f.tellSync()).toBe(4);
      expect(fs.fstatSync(f.fd).size).toBe(4 + 64 * MiB);
      const got = createHash('sha256');
      let n = 0;
      for await (const c of f.createReadStream({ highWaterMark: MiB })) {
        got.update(c as Buffer);
        n += (c as Buffer).length;
      }
      expect(n).toBe(64 * MiB);
      expect(got.digest('hex')).toBe(expected.digest('hex'));
      // and through the object: a slice in the middle of chunk 37
      f.seekSync(4 + 37 * MiB + 1000);
      expect(f.readSync(64)).toEqual(chunk(37).subarray(1000, 1064));
      expect(f.tellSync()).toBe(4 + 37 * MiB + 1064);
    } finally {
      f.closeSync();
    }
  });
});

// fs streams close their descriptor when destroyed, whatever autoClose says, so destroying a
// stream (rs.destroy(), a `break` out of `for await`, a failed pipeline) would close the
// TempFile's descriptor behind its back; the number would then be reused by the next open() and
// the TempFile would read, write and finally close someone else's file. Run in a child process,
// where a stray close cannot hit the test runner's descriptors.
describe('destroying a stream', () => {
  const scenario = (make: string) =>
    runNode(
      `const fs = require('fs');
       const t = require('securetemp');
       process.on('uncaughtException', () => {});
       (async () => {
         const f = t.TemporaryFileSync();
         f.writeSync(Buffer.alloc(100000, 1));
         f.seekSync(0);
         const fd = f.fd;
         ${make}
         await new Promise((r) => setTimeout(r, 50));
         let alive = true;
         try { fs.fstatSync(fd); } catch { alive = false; }
         console.log(JSON.stringify({ alive }));
       })();`,
    );

  const SCENARIOS = {
    breakOutOfRead: `for await (const c of f.createReadStream({ highWaterMark: 1024 })) break;`,
    destroyWrite: `const ws = f.createWriteStream(); ws.on('error', () => {}); ws.destroy();`,
  };
  const results: Record<string, { alive: boolean }> = {};

  it('the scenarios run (so that the checks below fail for the reason they say)', () => {
    for (const [name, code] of Object.entries(SCENARIOS)) {
      const r = scenario(code);
      expect(r.status, r.stderr).toBe(0);
      results[name] = JSON.parse(r.stdout);
      expect(typeof results[name]!.alive).toBe('boolean');
    }
  });

  it('a break out of for await over createReadStream leaves the file open', () => {
    expect(results.breakOutOfRead!.alive).toBe(true);
  });

  it('createWriteStream().destroy() leaves the file open', () => {
    expect(results.destroyWrite!.alive).toBe(true);
  });
});
