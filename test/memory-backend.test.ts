// A spooled file's bytes in memory (src/_io.ts MemoryBackend): one doubling buffer up to 4 KiB,
// then a list of 64 KiB chunks from a pool that closed files give back to. Compared, operation by operation, with a plain Buffer model: random
// writes (inside, across chunk boundaries, past the end leaving a gap), truncations (growing with
// zeros, shrinking and growing again over bytes that were there) and reads, on files that stay in
// the first buffer and files of several chunks. Seeded: the same sequence on every run.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempfile } from './_helpers';

const require = createRequire(import.meta.url);
const { MemoryBackend, memoryPoolSize, takeChunk, giveChunks } = require('../dist/_io.js') as typeof import('../src/_io');
const { addonNow } = require('../dist/_binding.js') as typeof import('../src/_binding');
const st = tempfile;

const KiB = 1024;
/** Empties the pool (its chunks are dropped) and returns how many it held. */
function drainPool(): number {
  const n = memoryPoolSize();
  for (let i = 0; i < n; i++) takeChunk();
  return n;
}

describe('MemoryBackend against a plain buffer', () => {
  it.each([
    ['small files (the first buffer)', 1, 3000],
    ['files of several chunks', 2, 300_000],
  ])('%s', (_name, seed0, big) => {
    let seed = seed0;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % Math.max(1, n);
    };
    const grow = (model: Buffer, n: number) => {
      const g = Buffer.alloc(n);
      model.copy(g);
      return g;
    };
    for (let round = 0; round < 60; round++) {
      const m = new MemoryBackend();
      let model = Buffer.alloc(0);
      for (let step = 0; step < 50; step++) {
        const op = rnd(3);
        if (op === 0) {
          const pos = rnd(big);
          const b = randomBytes(rnd(rnd(2) ? 200 : Math.floor(big / 2)));
          m.writeAt(b, pos);
          if (b.length > 0) {
            if (pos + b.length > model.length) model = grow(model, pos + b.length);
            b.copy(model, pos);
          }
        } else if (op === 1) {
          const len = rnd(big);
          m.sync({ op: 'ftruncate', len });
          model = len > model.length ? grow(model, len) : Buffer.from(model.subarray(0, len));
        } else {
          const pos = rnd(big);
          const len = rnd(big);
          const out = Buffer.alloc(len);
          const n = m.sync({ op: 'pread', buf: out, off: 0, len, pos });
          const want = pos >= model.length ? 0 : Math.min(len, model.length - pos);
          expect(n).toBe(want);
          expect(out.subarray(0, n).equals(model.subarray(pos, pos + n))).toBe(true);
        }
        expect(m.size).toBe(model.length);
        expect(Buffer.concat(m.views()).equals(model)).toBe(true);
        m.unlend();
      }
      // its chunks go to the pool: the next round's file starts on their old bytes
      m.release();
    }
  });
});

describe('the pool of chunks', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(process.env.TMPDIR ?? os.tmpdir(), 'st-pool-'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("a closed spooled file's chunks go back, and the next file never reads their bytes", () => {
    drainPool();
    const a = st.SpooledTemporaryFile({ maxSize: 4 * 1024 * KiB });
    a.writeSync(Buffer.alloc(300 * KiB, 0xaa));
    a.closeSync();
    expect(memoryPoolSize()).toBeGreaterThanOrEqual(4);
    const b = st.SpooledTemporaryFile({ maxSize: 4 * 1024 * KiB });
    b.seekSync(200 * KiB);
    b.writeSync(Buffer.from([1])); // a gap over the old bytes
    b.truncateSync(250 * KiB); // grown over them
    b.seekSync(0);
    const all = b.readSync() as Buffer;
    expect(all.length).toBe(250 * KiB);
    expect(all.indexOf(0xaa)).toBe(-1);
    expect(all[200 * KiB]).toBe(1);
    expect(all.filter((x) => x !== 0).length).toBe(1);
    b.closeSync();
  });

  it('a rolled-over file gives its chunks back at rollover', () => {
    drainPool();
    const f = st.SpooledTemporaryFile({ maxSize: 4 * 1024 * KiB, dir: root });
    f.writeSync(Buffer.alloc(256 * KiB, 7));
    expect(memoryPoolSize()).toBe(0);
    f.rolloverSync();
    expect(memoryPoolSize()).toBe(4);
    f.seekSync(0);
    expect((f.readSync() as Buffer).equals(Buffer.alloc(256 * KiB, 7))).toBe(true);
    f.closeSync();
  });

  it('chunks a rollover is writing from are not given back when the file is let go under it', () => {
    // a rollover holds views() while its writes are in flight; the file may be closed then (an
    // exit hook, a worker's end): its chunks must not reach another file before unlend()
    drainPool();
    const a = new MemoryBackend();
    a.writeAt(Buffer.alloc(256 * KiB, 0xaa), 0);
    const views = a.views();
    a.release();
    expect(memoryPoolSize()).toBe(0);
    const b = new MemoryBackend();
    b.writeAt(Buffer.alloc(256 * KiB, 0xbb), 0);
    expect(Buffer.concat(views).every((x) => x === 0xaa)).toBe(true);
    a.unlend();
    // shrinking while lent: the cut chunks are not given back either
    const v2 = b.views();
    b.sync({ op: 'ftruncate', len: 10 });
    expect(memoryPoolSize()).toBe(0);
    b.unlend();
    b.release();
    expect(memoryPoolSize()).toBe(1);
    expect(v2.length).toBe(4);
  });

  it("a file's write buffer goes back when it is closed, and the next file writes only its own bytes", () => {
    drainPool();
    const a = st.TemporaryFileSync({ dir: root, bufsize: 64 * KiB });
    a.writeSync(Buffer.alloc(1000, 0xaa));
    a.closeSync();
    expect(memoryPoolSize()).toBe(1);
    const b = st.TemporaryFileSync({ dir: root, bufsize: 64 * KiB });
    b.writeSync(Buffer.from('b'));
    expect(memoryPoolSize()).toBe(0);
    b.flushSync();
    expect(fs.fstatSync(b.fd).size).toBe(1);
    b.seekSync(0);
    expect((b.readSync() as Buffer).toString()).toBe('b');
    b.closeSync();
  });

  it('keeps at most 16 chunks, and only whole ones of its size', () => {
    drainPool();
    giveChunks(Array.from({ length: 20 }, () => takeChunk()));
    expect(memoryPoolSize()).toBe(16);
    drainPool();
    giveChunks([Buffer.alloc(64 * KiB).subarray(1), Buffer.alloc(32 * KiB), Buffer.alloc(128 * KiB).subarray(0, 64 * KiB)]);
    expect(memoryPoolSize()).toBe(0);
  });

  it('new chunks are pages of their own from the addon: zero-filled, writable, given back when collected', () => {
    const b = addonNow().pagesAlloc(64 * KiB);
    expect(b.length).toBe(64 * KiB);
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength).toBe(64 * KiB);
    expect(b.every((x) => x === 0)).toBe(true);
    b.fill(5);
    expect(b[64 * KiB - 1]).toBe(5);
    expect(() => addonNow().pagesAlloc(0)).toThrow(expect.objectContaining({ code: 'ENOMEM', syscall: 'mmap' }));
  });
});
