// A spooled file's bytes in memory (src/_io.ts MemoryBackend): one doubling buffer up to 64 KiB,
// then a list of 64 KiB chunks. Compared, operation by operation, with a plain Buffer model: random
// writes (inside, across chunk boundaries, past the end leaving a gap), truncations (growing with
// zeros, shrinking and growing again over bytes that were there) and reads, on files that stay in
// the first buffer and files of several chunks. Seeded: the same sequence on every run.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { MemoryBackend } = require('../dist/_io.js') as typeof import('../src/_io');

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
      }
    }
  });
});
