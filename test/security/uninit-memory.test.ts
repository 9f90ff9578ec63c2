// Fifth outside review: a short read (at the end of the file) returned a view of a larger buffer
// made with Buffer.allocUnsafe; the view's bytes were right, but its backing ArrayBuffer carried
// memory the process had freed before (a secret, here), reachable through `.buffer`. The unused
// tail is now zeroed. (Small Buffers under 4 KiB come from Node's shared pool, as fs's do; these
// reads are larger than that.)
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
