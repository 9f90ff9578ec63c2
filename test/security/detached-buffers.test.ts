// Seventh outside review: the caller's memory on the thread pool. An async write or read was
// handed the caller's Buffer; a reference keeps the view alive, not its memory, and the caller
// could transfer (detach) the ArrayBuffer while the call waited for a pool thread: the memory
// was freed and reused, and the file got someone else's bytes (writeFileAtomic, TempFile.write)
// or the file's bytes landed in someone else's Buffer (readinto). Now writes go from a copy of
// our own (the addon's one-shot writeFileAtomic too) and reads land in a buffer of ours, copied
// in only if the caller's is still there. Here the pool's 4 threads are kept busy (pbkdf2) so
// that the call waits; the buffer is transferred through a MessagePort that is closed (the
// memory is freed at once), and other files' bytes are written into fresh memory meanwhile.
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import { MessageChannel } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { scratch, tempfile } from '../_helpers';

const N = 60_000;
const A = 0x41;
const SECRET = 'password=hunter2 ';

/** Keeps the thread pool's threads busy for a moment. */
function busyPool(): Promise<unknown> {
  return Promise.all(
    Array.from({ length: 4 }, () => new Promise((r) => crypto.pbkdf2('x', 'y', 150_000, 32, 'sha256', r))),
  );
}

const tick = () => new Promise((r) => setImmediate(r));

/** A resizable ArrayBuffer (ES2024; the tests' TypeScript lib is ES2022). */
type Resizable = ArrayBuffer & { resize(n: number): void };
const resizable = (n: number, max: number): Resizable =>
  new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(n, { maxByteLength: max });

/** Transfers `ab` away and lets its memory go at once. */
function detach(ab: ArrayBuffer): void {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(ab, [ab]);
  port1.close();
  port2.close();
}

/** Takes the buffer away from its views: transferred (detached), or shrunk to nothing. */
function takeAway(ab: ArrayBuffer, how: 'transfer' | 'shrink'): void {
  if (how === 'transfer') detach(ab);
  else (ab as Resizable).resize(0);
}

/** The error a call's promise fails with, or null; handled at once, awaited later. */
function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

/** Other files' bytes in freshly allocated memory (where the freed buffer's memory may go). */
function spray(dir: string): Buffer[] {
  const keep: Buffer[] = [];
  for (let i = 0; i < 8; i++) {
    const f = tempfile.TemporaryFileSync({ dir });
    f.writeSync(Buffer.alloc(N, `user-${i} ${SECRET}`));
    f.seekSync(0);
    keep.push(f.readSync(N) as Buffer);
    f.closeSync();
  }
  return keep;
}

function ownBytes(ab: ArrayBuffer): Buffer {
  new Uint8Array(ab).fill(A);
  return Buffer.from(ab);
}

describe('a buffer transferred away while an async call on it is in flight', () => {
  it('writeFileAtomic(path, bytes): the target gets the bytes as they were at the call', async () => {
    const s = scratch();
    try {
      const target = `${s.dir}/config.json`;
      const busy = busyPool();
      const ab = new ArrayBuffer(N);
      const p = tempfile.writeFileAtomic(target, ownBytes(ab));
      await tick();
      detach(ab);
      expect(ab.byteLength).toBe(0);
      await tick();
      const keep = spray(s.dir);
      await busy;
      await p;
      const got = fs.readFileSync(target);
      expect(got.length).toBe(N);
      expect(got.every((x) => x === A)).toBe(true);
      expect(keep.length).toBe(8);
    } finally {
      s.remove();
    }
  });

  it('writeFileAtomic(path, chunks): each chunk as it was when it was taken', async () => {
    const s = scratch();
    try {
      const target = `${s.dir}/streamed`;
      const ab = new ArrayBuffer(N);
      const chunk = ownBytes(ab);
      let busy: Promise<unknown> | null = null;
      let taken!: () => void;
      const wasTaken = new Promise<void>((r) => (taken = r));
      async function* chunks() {
        // the file is made: the pool is made busy now, so the chunk's write waits for a thread
        busy = busyPool();
        taken();
        yield chunk;
      }
      const p = tempfile.writeFileAtomic(target, chunks());
      await wasTaken;
      await tick(); // the chunk was taken and its write queued
      detach(ab);
      await tick();
      spray(s.dir);
      await busy;
      await p;
      const got = fs.readFileSync(target);
      expect(got.length).toBe(N);
      expect(got.every((x) => x === A)).toBe(true);
    } finally {
      s.remove();
    }
  });

  it('TempFile.write() unbuffered: the file gets the bytes as they were at the call', async () => {
    const s = scratch();
    try {
      const f = tempfile.NamedTemporaryFileSync({ dir: s.dir, bufsize: 0 });
      const busy = busyPool();
      const ab = new ArrayBuffer(N);
      const p = f.write(new Uint8Array(ab).fill(A));
      await tick();
      detach(ab);
      await tick();
      spray(s.dir);
      await busy;
      expect(await p).toBe(N);
      const got = fs.readFileSync(f.path!);
      expect(got.length).toBe(N);
      expect(got.every((x) => x === A)).toBe(true);
      f.closeSync();
    } finally {
      s.remove();
    }
  });

  it("readinto(): fails with ERR_INVALID_STATE, and the file's bytes land in nobody else's memory", async () => {
    const s = scratch();
    try {
      const f = tempfile.TemporaryFileSync({ dir: s.dir });
      f.writeSync(Buffer.alloc(N, 'FILE-F-CONTENT '));
      f.seekSync(0);
      const busy = busyPool();
      const ab = new ArrayBuffer(N);
      const p = f.readinto(new Uint8Array(ab));
      const settled = failure(p);
      await tick();
      detach(ab);
      await tick();
      const others = Array.from({ length: 8 }, () => Buffer.alloc(N, 0x2e));
      await busy;
      expect(await settled).toMatchObject({ code: 'ERR_INVALID_STATE' });
      expect(others.some((b) => b.includes('FILE-F-CONTENT'))).toBe(false);
      // a buffer that stays is filled as before
      f.seekSync(0);
      const mine = new Uint8Array(15);
      expect(await f.readinto(mine)).toBe(15);
      expect(Buffer.from(mine).toString()).toBe('FILE-F-CONTENT ');
      f.closeSync();
    } finally {
      s.remove();
    }
  });

  it('a buffer already detached is refused with ERR_INVALID_ARG_VALUE, nothing written', () => {
    const s = scratch();
    try {
      const f = tempfile.TemporaryFileSync({ dir: s.dir });
      const ab = new ArrayBuffer(8);
      const u = new Uint8Array(ab);
      detach(ab);
      expect(() => f.writeSync(u)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => f.writeSync(ab)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(f.tellSync()).toBe(0);
      f.closeSync();
    } finally {
      s.remove();
    }
  });
});

// Eighth outside review: the same buffer transferred or shrunk before its async call's turn, or
// between two of its steps. writeFileAtomic committed an empty file over the target and
// resolved; TempFile.write resolved with the full count having written nothing (append mode,
// unbuffered) or 1 MiB of 3; a buffered write failed with V8's uncoded TypeError. Now
// writeFileAtomic takes the bytes as they are at the call, and a write whose data is no longer
// all there fails with ERR_INVALID_STATE.
describe('a buffer transferred or shrunk between the call and its turn, or between two steps', () => {
  it('writeFileAtomic(path, bytes) writes the bytes as they were at the call', async () => {
    const s = scratch();
    try {
      const target = `${s.dir}/config.json`;
      fs.writeFileSync(target, 'old contents');
      for (const how of ['transfer', 'shrink'] as const) {
        const ab = resizable(12, 64);
        Buffer.from(ab).write('new contents');
        const p = tempfile.writeFileAtomic(target, new Uint8Array(ab));
        takeAway(ab, how);
        await p;
        expect(fs.readFileSync(target, 'utf8')).toBe('new contents');
        fs.writeFileSync(target, 'old contents');
      }
    } finally {
      s.remove();
    }
  });

  it.each([
    ['append mode, unbuffered', { mode: 'a+b', bufsize: 0 }, 200_000],
    ['a buffered file, after the flush', {}, 200_000],
    ['a write of 3 MiB, between two of its pieces', {}, 3 << 20],
  ])('TempFile.write(), %s: ERR_INVALID_STATE, not the full count', async (_, opts, n) => {
    const s = scratch();
    try {
      for (const how of ['transfer', 'shrink'] as const) {
        const f = tempfile.TemporaryFileSync({ dir: s.dir, ...opts });
        f.writeSync(Buffer.from('head:'));
        const ab = resizable(n, n);
        new Uint8Array(ab).fill(A);
        const busy = n > 1 << 20 ? Promise.resolve() : busyPool();
        const p = f.write(new Uint8Array(ab));
        const settled = failure(p);
        await tick(); // the first step (flush, size or the first piece) is in flight
        takeAway(ab, how);
        await busy;
        expect(await settled).toMatchObject({ code: 'ERR_INVALID_STATE' });
        // the position says how far the write got (ninth outside review: it stayed at its start)
        expect(f.tellSync()).toBe(fs.fstatSync(f.fd).size);
        f.closeSync();
      }
    } finally {
      s.remove();
    }
  });
});

describe('a write stopped between two of its pieces', () => {
  it('tell() says how far it got (ninth outside review: it stayed at the start)', async () => {
    const s = scratch();
    try {
      for (const how of ['transfer', 'shrink'] as const) {
        const f = tempfile.TemporaryFileSync({ dir: s.dir });
        const ab = resizable(3 << 20, 3 << 20);
        new Uint8Array(ab).fill(A);
        const p = f.write(new Uint8Array(ab));
        const settled = failure(p);
        await tick(); // the first 1 MiB piece is in flight
        takeAway(ab, how);
        expect(await settled).toMatchObject({ code: 'ERR_INVALID_STATE' });
        const size = fs.fstatSync(f.fd).size;
        expect(size).toBeGreaterThan(0);
        expect(size).toBeLessThan(3 << 20);
        expect(f.tellSync()).toBe(size);
        f.closeSync();
      }
    } finally {
      s.remove();
    }
  });
});

// Ninth outside review: the length was taken at the call's turn in the file's queue, not at the
// call: a buffer shrunk in between gave write() a resolved 0 and nothing written; the drop-ins
// kept the caller's buffer for later attempts (write-file-atomic's tmpfileCreated and retries)
// or gave it to the thread pool (tempy's temporaryWrite).
describe('a buffer shrunk after the call, while earlier calls on the file are queued', () => {
  it.each([
    ['write()', {}],
    ['write(), unbuffered', { bufsize: 0 }],
    ['write(), append mode', { mode: 'a+b' }],
    ['writelines([view])', {}],
  ])('%s: ERR_INVALID_STATE', async (what, opts) => {
    const s = scratch();
    try {
      const f = tempfile.TemporaryFileSync({ dir: s.dir, ...opts });
      const first = f.write(Buffer.alloc(4 << 20, 0x46)); // queued ahead
      const ab = resizable(1 << 20, 1 << 20);
      new Uint8Array(ab).fill(A);
      const view = new Uint8Array(ab);
      const p = what.startsWith('writelines') ? f.writelines([view]) : f.write(view);
      ab.resize(10);
      await first;
      await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      expect(fs.fstatSync(f.fd).size).toBe(4 << 20);
      f.closeSync();
    } finally {
      s.remove();
    }
  });

  it('securetemp/write-file-atomic (tmpfileCreated) and securetemp/tempy write the bytes of the call', async () => {
    const s = scratch();
    try {
      const req = createRequire(import.meta.url);
      const wfa = req('securetemp/write-file-atomic') as (p: string, d: unknown, o?: unknown) => Promise<void>;
      const tempy = req('securetemp/tempy') as {
        temporaryWriteTask: <T>(c: unknown, cb: (p: string) => Promise<T> | T) => Promise<T>;
      };
      const target = `${s.dir}/target`;
      fs.writeFileSync(target, 'old');
      for (const how of ['shrink', 'transfer'] as const) {
        const ab = resizable(1 << 20, 1 << 20);
        new Uint8Array(ab).fill(A);
        const p = wfa(target, new Uint8Array(ab), { tmpfileCreated: () => undefined });
        takeAway(ab, how);
        await p;
        const got = fs.readFileSync(target);
        expect(got.length).toBe(1 << 20);
        expect(got.every((x) => x === A)).toBe(true);

        const ab2 = resizable(1 << 20, 1 << 20);
        new Uint8Array(ab2).fill(A);
        const q = tempy.temporaryWriteTask(new Uint8Array(ab2), (p2) => fs.readFileSync(p2));
        takeAway(ab2, how);
        const got2 = await q;
        expect(got2.length).toBe(1 << 20);
        expect(got2.every((x) => x === A)).toBe(true);
      }
    } finally {
      s.remove();
    }
  });
});

describe("a small write buffer is not in Node's shared pool", () => {
  it('bufsize 2048: what waits in it is behind no other Buffer', () => {
    const s = scratch();
    try {
      const f = tempfile.NamedTemporaryFileSync({ dir: s.dir, bufsize: 2048 });
      const src = Buffer.allocUnsafeSlow(SECRET.length);
      src.write(SECRET);
      f.writeSync(src); // waits in the write buffer
      const other = Buffer.from('response for somebody else'); // from Node's pool
      expect(Buffer.from(other.buffer).includes(SECRET)).toBe(false);
      f.closeSync();
      expect(Buffer.from(Buffer.from('later').buffer).includes(SECRET)).toBe(false);
    } finally {
      s.remove();
    }
  });
});
