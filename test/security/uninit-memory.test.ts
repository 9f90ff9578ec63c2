// Fifth outside review: a short read (at the end of the file) returned a view of a larger buffer
// made with Buffer.allocUnsafe; the view's bytes were right, but its backing ArrayBuffer carried
// memory the process had freed before (a secret, here), reachable through `.buffer`. The unused
// tail is now zeroed. (Small ones came from Node's shared pool: see the sixth review's tests below.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scratch, tempfile } from '../_helpers';

const SECRET = Buffer.from('SECRET-SECRET-SECRET-');

/** Fills and frees memory with the secret, so that unzeroed allocations are likely to show it. */
function dirtyTheHeap(): void {
  const keep: Buffer[] = [];
  for (let i = 0; i < 64; i++) keep.push(Buffer.allocUnsafe(300_000).fill(SECRET));
  keep.length = 0;
}

/** Whatever the backing store holds past the view: it must be zeros. */
function tailOf(b: Buffer): Buffer {
  return Buffer.from(b.buffer, b.byteOffset + b.length, b.buffer.byteLength - b.byteOffset - b.length);
}

describe('buffers returned by short reads carry nothing past their bytes', () => {
  it('read(n), peek(n), readline(), sync and async line iteration', async () => {
    const s = scratch();
    try {
      const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
      f.writeSync(Buffer.from('public line\n'));
      f.flushSync();
      const views: Buffer[] = [];
      dirtyTheHeap();
      f.seekSync(0);
      views.push(f.readSync(100_000) as Buffer);
      f.seekSync(0);
      views.push(f.peekSync(100_000));
      f.seekSync(0);
      views.push(f.readlineSync() as Buffer);
      f.seekSync(0);
      for (const line of f) views.push(line as Buffer);
      f.seekSync(0);
      for await (const line of f) views.push(line as Buffer);
      for (const v of views) {
        expect(v.toString()).toBe('public line\n');
        expect(tailOf(v).every((x) => x === 0)).toBe(true);
      }
      f.closeSync();
    } finally {
      s.remove();
    }
  });
});

// Sixth outside review. Small reads came from Buffer.allocUnsafe (Node's shared 8 KiB pool), and
// lines from Buffer.concat (the same pool): the Buffer a caller got sat in a slab next to other
// live or freed small buffers, another file's bytes among them, reachable through `.buffer`.
// Every returned buffer now has a backing store of its own.
describe("small reads and lines have a backing store of their own (not Node's shared pool)", () => {
  it('read(n), peek(n), read(), readline(), readlines(), sync and async line iteration', async () => {
    const s = scratch();
    try {
      const f = tempfile.NamedTemporaryFileSync({ dir: s.dir });
      f.writeSync(Buffer.from('public line\nsecond line\n'));
      f.flushSync();
      const keep: Buffer[] = [];
      /** A live small buffer holding the secret, in the pool's current slab, next to what comes. */
      const neighbour = () => keep.push(Buffer.allocUnsafe(64).fill(SECRET));
      const got: [string, Buffer][] = [];
      const take = (what: string, v: unknown) => got.push([what, v as Buffer]);
      const reads: [string, () => unknown][] = [
        ['readSync(100)', () => f.readSync(100)],
        ['peekSync(100)', () => f.peekSync(100)],
        ['readSync()', () => f.readSync()],
        ['readlineSync()', () => f.readlineSync()],
        ['readlinesSync()', () => f.readlinesSync()[1]],
        ['line iteration', () => [...f][1]],
      ];
      for (const [what, r] of reads) {
        f.seekSync(0);
        neighbour();
        take(what, r());
      }
      f.seekSync(0);
      neighbour();
      take('read(100)', await f.read(100));
      f.seekSync(0);
      neighbour();
      take('readline()', await f.readline());
      f.seekSync(0);
      neighbour();
      const lines: Buffer[] = [];
      for await (const line of f) lines.push(line as Buffer);
      take('async line iteration', lines[1]);
      expect(keep.every((k) => k.includes(SECRET))).toBe(true);
      for (const [what, v] of got) {
        expect(Buffer.isBuffer(v), what).toBe(true);
        expect(Buffer.from(v.buffer).includes(SECRET), what).toBe(false);
      }
      f.closeSync();
    } finally {
      s.remove();
    }
  });
});

// Sixth outside review: a Uint8Array whose `length` claims more than it holds (a subclass's
// getter, an own property) grew the file by the claim while only the real bytes were copied; the
// gap was whatever the write buffer or a pooled chunk held before: another file's bytes.
describe('the length of written data is the typed array\'s own, not what its `length` says', () => {
  class Liar extends Uint8Array {
    override get length(): number {
      return 1000;
    }
  }
  const ownLie = () => {
    const u = new Uint8Array(1);
    Object.defineProperty(u, 'length', { get: () => 1000 });
    return u;
  };

  it.each([
    ['a subclass with a length getter', () => new Liar(1)],
    ['an own length property', ownLie],
  ])('%s: TemporaryFile, NamedTemporaryFile and a spooled file get exactly its bytes', (_, liar) => {
    const s = scratch();
    try {
      // files whose buffers go back to the pool with the secret in them
      const a = tempfile.NamedTemporaryFileSync({ dir: s.dir });
      a.writeSync(Buffer.alloc(60_000, SECRET));
      a.closeSync();
      const sp = tempfile.SpooledTemporaryFile({ maxSize: 1 << 20 });
      sp.writeSync(Buffer.alloc(200_000, SECRET));
      sp.closeSync();
      for (const f of [
        tempfile.NamedTemporaryFileSync({ dir: s.dir }),
        tempfile.TemporaryFileSync({ dir: s.dir }),
        tempfile.SpooledTemporaryFile({ maxSize: 1 << 20 }),
      ]) {
        f.writeSync(Buffer.alloc(5000, 'x')); // past 4 KiB: a spooled file takes a pooled chunk
        expect(f.writeSync(liar())).toBe(1);
        expect(f.writelinesSync([liar()])).toBeUndefined();
        f.seekSync(0);
        const all = f.readSync() as Buffer;
        expect(all.length).toBe(5002);
        expect(all.includes(SECRET)).toBe(false);
        expect(all.subarray(5000).equals(Buffer.alloc(2))).toBe(true);
        f.closeSync();
      }
    } finally {
      s.remove();
    }
  });

  it('writeFileAtomic writes the real bytes of such a chunk', () => {
    const s = scratch();
    try {
      const p = `${s.dir}/target`;
      tempfile.writeFileAtomicSync(p, [Buffer.from('ab'), new Liar(1)]);
      expect(readFileSync(p)).toEqual(Buffer.from([0x61, 0x62, 0]));
    } finally {
      s.remove();
    }
  });

  it('a Proxy of a Uint8Array is refused (its length could change between two reads of it)', () => {
    const s = scratch();
    try {
      const f = tempfile.TemporaryFileSync({ dir: s.dir });
      expect(() => f.writeSync(new Proxy(new Uint8Array(1), {}) as Uint8Array)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
      expect(f.tellSync()).toBe(0);
      f.closeSync();
    } finally {
      s.remove();
    }
  });
});
