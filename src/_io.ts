/// <reference types="node" preserve="true" />
// Each file operation is written once, as a generator that yields system
// calls; runSync performs them with fs.*Sync, runAsync on the thread pool.
// This keeps the sync and async forms from being two copies of the logic.
// The calls go to a Backend: a descriptor, or memory (SpooledTemporaryFile).
import * as fs from 'node:fs';
import { fileClosed } from './_errors';
import { closeNativeFd, closeNativeFdSync } from './_close';
import { addonNow } from './_binding';
import { bufferGone, byteLengthNow } from './_bytes';

export type Op =
  // lent: `buf` is the caller's memory (see FdBackend.async)
  | { op: 'pread'; buf: Uint8Array; off: number; len: number; pos: number; lent?: boolean }
  | { op: 'pwrite'; buf: Uint8Array; off: number; len: number; pos: number; lent?: boolean }
  | { op: 'size' }
  | { op: 'ftruncate'; len: number }
  | { op: 'fsync' }
  | { op: 'close' }
  | { op: 'spill' }; // memory → a real file (the runner asks the target's spiller)

/** A generator that yields system calls and receives their results (numbers). */
export type Io<T> = Generator<Op, T, number>;

export interface Backend {
  sync(o: Op): number;
  async(o: Op): Promise<number>;
}

/** Moves a memory file to a real one; afterwards the target's `io` is a descriptor. */
export interface Spiller {
  sync(): void;
  async(): Promise<void>;
}

/** What the runners act on: the current backend, and how to leave memory. */
export interface IoTarget {
  io: Backend;
  spill: Spiller | null;
  /** Counts writes and truncations that reached the backend (line iterators' read-ahead checks it). */
  gen: number;
}

function unsupportedOp(o: Op): never {
  throw new Error(`securetemp internal error: ${o.op} on this backend`);
}

/**
 * A descriptor: the operations are the fs calls (methods on the prototype: one small object per
 * file). It owns the number: each system call handed to the thread pool holds it until its
 * callback, and a close asked for meanwhile (close(), closeSync(), the garbage collector, a
 * worker's exit) happens after the last one, as FileHandle's close waits for its operations.
 * A number closed under a pending call would be the next open()'s file by the time the call
 * runs. A close that cannot wait is left to the last call's callback; if that never runs (the
 * worker is gone), the descriptor stays open: a leak, never a number closed while in use.
 */
export class FdBackend implements Backend {
  #users = 0; // system calls in flight (ours, streams', persist's, reopen's)
  #closing = false;
  #closeWhenIdle: ((err: NodeJS.ErrnoException | null) => void) | null = null;

  /** fsOpened: fs opened it (reopen), so fs closes it; else the addon did (see _close.ts). */
  constructor(
    readonly fd: number,
    readonly fsOpened = false,
  ) {}

  #closeSync(): void {
    if (this.fsOpened) fs.closeSync(this.fd);
    else closeNativeFdSync(this.fd);
  }

  /** No system call on the descriptor is in flight. */
  get idle(): boolean {
    return this.#users === 0;
  }

  /** The descriptor for one call in flight; release() when it has completed. */
  acquire(): number {
    if (this.#closing) throw fileClosed();
    this.#users++;
    return this.fd;
  }

  release(): void {
    if (--this.#users > 0 || this.#closeWhenIdle === null) return;
    const then = this.#closeWhenIdle;
    this.#closeWhenIdle = null;
    let err: NodeJS.ErrnoException | null = null;
    try {
      this.#closeSync();
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    then(err);
  }

  /** Runs `f` with the descriptor held until its promise settles (persist, reopen). */
  async hold<T>(f: () => Promise<T>): Promise<T> {
    this.acquire();
    try {
      return await f();
    } finally {
      this.release();
    }
  }

  /** Calls `call` on the descriptor, held until `call` calls back (a stream's read or write). */
  call<A extends unknown[]>(call: (fd: number, done: (...r: A) => void) => void, cb: (...r: A) => void): void {
    let fd: number;
    try {
      fd = this.acquire();
    } catch (e) {
      process.nextTick(cb, ...([e] as unknown as A));
      return;
    }
    call(fd, (...r: A) => {
      this.release();
      cb(...r);
    });
  }

  sync(o: Op): number {
    if (o.op === 'close') {
      if (this.#closing) return 0;
      this.#closing = true;
      if (this.#users === 0) this.#closeSync();
      else this.#closeWhenIdle = closeFailed; // nobody waits: a failure can only be reported
      return 0;
    }
    if (this.#closing) throw fileClosed();
    const fd = this.fd;
    switch (o.op) {
      case 'pread':
        for (;;) {
          try {
            return fs.readSync(fd, o.buf, o.off, o.len, o.pos);
          } catch (e) {
            // libuv retries an interrupted write, fsync or ftruncate, never a read (a tty's
            // read must return on a signal): a regular file's read is retried here.
            if ((e as NodeJS.ErrnoException).code !== 'EINTR') throw e;
          }
        }
      case 'pwrite':
        return fs.writeSync(fd, o.buf, o.off, o.len, o.pos);
      case 'size':
        return fs.fstatSync(fd).size;
      case 'ftruncate':
        fs.ftruncateSync(fd, o.len);
        return 0;
      case 'fsync':
        fs.fsyncSync(fd);
        return 0;
      default:
        return unsupportedOp(o);
    }
  }

  async(o: Op): Promise<number> {
    return new Promise((resolve, reject) => {
      const done = (err: NodeJS.ErrnoException | null, n?: number) => (err ? reject(err) : resolve(n ?? 0));
      if (o.op === 'close') {
        if (this.#closing) return resolve(0);
        this.#closing = true;
        if (this.#users === 0) return (this.fsOpened ? fs.close : closeNativeFd)(this.fd, (err) => done(err, 0));
        this.#closeWhenIdle = (err) => done(err, 0);
        return;
      }
      const fd = this.acquire(); // throws (rejects) once closing
      const then = (err: NodeJS.ErrnoException | null, n?: number) => {
        this.release();
        done(err, n);
      };
      // The caller's memory is never handed to the thread pool: the caller may transfer (detach)
      // its ArrayBuffer while the call is in flight, and the pool thread would read freed memory
      // into the file, or write the file into memory reused by something else (seventh outside
      // review). A write goes from a copy; a read lands in a buffer of ours, copied in afterwards
      // if the caller's is still there.
      // At most 1 MiB per call then: the loops above (writeAllIo, readinto) go on from where it
      // ended, and read1 may return less, as its one system call may.
      switch (o.op) {
        case 'pread': {
          if (!o.lent) {
            const read = (): void =>
              fs.read(fd, o.buf, o.off, o.len, o.pos, (err, n) => (err?.code === 'EINTR' ? read() : then(err, n)));
            return read();
          }
          const len = Math.min(o.len, BOUNCE);
          const into = takeBounce(len);
          const read = (): void =>
            fs.read(fd, into, 0, len, o.pos, (err, n) => {
              if (err?.code === 'EINTR') return read();
              if (!err && n > 0) {
                if (byteLengthNow(o.buf) < o.off + n) err = detachedDuringRead();
                else o.buf.set(into.subarray(0, n), o.off);
              }
              giveBounce(into);
              then(err, n);
            });
          return read();
        }
        case 'pwrite': {
          if (!o.lent) return fs.write(fd, o.buf, o.off, o.len, o.pos, then);
          const len = Math.min(o.len, BOUNCE);
          // every byte written must be one of the caller's: never the bounce buffer's old ones
          if (byteLengthNow(o.buf) < o.off + len) return then(detachedDuringRead('write'), 0);
          const from = takeBounce(len);
          from.set(o.buf.subarray(o.off, o.off + len));
          return fs.write(fd, from, 0, len, o.pos, (err, n) => {
            giveBounce(from);
            then(err, n);
          });
        }
        case 'size':
          return fs.fstat(fd, (err, st) => then(err, err ? 0 : st.size));
        case 'ftruncate':
          return fs.ftruncate(fd, o.len, (err) => then(err, 0));
        case 'fsync':
          return fs.fsync(fd, (err) => then(err, 0));
        default:
          this.release();
          return unsupportedOp(o);
      }
    });
  }
}

function detachedDuringRead(what = 'read'): NodeJS.ErrnoException {
  return bufferGone(`the buffer was detached or shrunk (its ArrayBuffer transferred or resized) while the ${what} was in flight`);
}

function closeFailed(err: NodeJS.ErrnoException | null): void {
  if (err) process.emitWarning(`closing a TempFile's descriptor after its last operation failed: ${err.message}`, 'ResourceWarning');
}

export function fdBackend(fd: number, fsOpened = false): Backend {
  return new FdBackend(fd, fsOpened);
}

/** The chunk size of a file in memory past its first chunk. */
const CHUNK = 64 * 1024;
/** A first chunk up to this size is its own allocation, doubling; past it, a pooled chunk. */
const SMALL = 4 * 1024;
/** How many free chunks the pool keeps (1 MiB): more are left to the garbage collector. */
const POOL_MAX = 16;

/**
 * Free CHUNK-sized buffers, shared by the files in memory of this thread (each worker has its
 * own module, so its own pool). A server spooling uploads allocated a megabyte of chunks per
 * upload that only the garbage collector gave back, and V8 collects when some 64 MiB of such
 * memory has piled up: glibc kept that high-water mark, fragmented, long after
 * (bench/upload-soak.mjs). A chunk goes back only when nothing else can hold it: never while a
 * rollover is writing from it (MemoryBackend.views), and no chunk or view of one is ever handed
 * to a caller (reads copy out, writes copy in). A chunk taken from the pool holds another
 * file's old bytes, as memory from Buffer.allocUnsafeSlow may: the MemoryBackend invariant
 * below (no byte at or past `size` is read; every gap is zero-filled) is what keeps them unseen.
 */
const pool: Buffer[] = [];

/** The size of the buffers the pool holds: a chunk, and a file's default write buffer. */
export const POOLED_SIZE = CHUNK;

/**
 * Where new chunks come from: pages of their own from the addon (mmap, VirtualAlloc), so that a
 * chunk the pool does not keep goes back to the system when it is collected, instead of staying
 * in the C heap's free lists between live allocations; Buffer.allocUnsafeSlow where the addon
 * cannot (it is not built, or a runtime without external buffers: Electron).
 */
let pages: ((n: number) => Buffer) | null | undefined;

function newChunk(size = CHUNK): Buffer {
  if (pages === undefined) {
    try {
      const addon = addonNow();
      pages = typeof addon.pagesAlloc === 'function' ? (n) => addon.pagesAlloc(n) : null;
      pages?.(CHUNK); // once: a runtime without external buffers throws here
    } catch {
      pages = null;
    }
  }
  if (pages !== null) {
    try {
      return pages(size);
    } catch {
      // out of address space for a mapping: the C heap may still have room
    }
  }
  return Buffer.allocUnsafeSlow(size);
}

/** The most a read or write of the caller's memory moves through one bounce buffer. */
const BOUNCE = 1024 * 1024;
const bounces: Buffer[] = [];
const BOUNCES_KEPT = 2;

/**
 * A buffer of ours for a call on the thread pool that would otherwise get the caller's memory
 * (see FdBackend.async): a pooled 64 KiB chunk, or for more a 1 MiB one (at most 2 kept).
 */
function takeBounce(len: number): Buffer {
  if (len <= CHUNK) return takeChunk();
  return bounces.pop() ?? newChunk(BOUNCE);
}

function giveBounce(b: Buffer): void {
  if (b.length === CHUNK) giveChunks([b]);
  else if (bounces.length < BOUNCES_KEPT) bounces.push(b);
}

/** A buffer of POOLED_SIZE bytes, not zero-filled, that nothing else holds. */
export function takeChunk(): Buffer {
  return pool.pop() ?? newChunk();
}

/** Gives back buffers from takeChunk that nothing holds or will use again. */
export function giveChunks(chunks: Buffer[]): void {
  for (const c of chunks) {
    if (pool.length >= POOL_MAX) return;
    if (c.length === CHUNK && c.byteOffset === 0 && c.buffer.byteLength === CHUNK) pool.push(c);
  }
}

/** For tests: how many free chunks the pool holds. */
export function memoryPoolSize(): number {
  return pool.length;
}

/**
 * A file in memory: the same operations, no system call. Up to 4 KiB it is one buffer that
 * doubles; past that, a list of 64 KiB chunks from a pool (above): growing copies nothing, a file
 * holds at most 64 KiB it does not use, and the chunks of a file that is closed, rolled over or
 * truncated go back to the pool for the next file. Invariant: with more than one chunk, every
 * chunk is exactly CHUNK bytes, so byte `pos` is in chunk `pos / CHUNK` in both shapes.
 *
 * Chunks are not zero-filled and not from Node's shared pool: no byte at or past `size` is ever
 * read (pread stops at size, views() ends there), and every way of growing the file (a write past
 * the end, ftruncate) zero-fills the gap first.
 */
export class MemoryBackend implements Backend {
  #chunks: Buffer[] = [];
  /** Rollovers writing from views() of the chunks now: none may go back to the pool. */
  #lent = 0;
  size = 0;

  #capacity(): number {
    const n = this.#chunks.length;
    return n === 0 ? 0 : n === 1 ? this.#chunks[0]!.length : n * CHUNK;
  }

  #reserve(n: number): void {
    const have = this.#capacity();
    if (n <= have) return;
    const c = this.#chunks;
    if (c.length <= 1 && n <= SMALL) {
      const next = Buffer.allocUnsafeSlow(Math.min(SMALL, Math.max(n, have * 2, 256)));
      if (c.length === 1) c[0]!.copy(next, 0, 0, this.size);
      c[0] = next;
      return;
    }
    if (c.length === 1 && c[0]!.length < CHUNK) {
      const first = takeChunk();
      c[0]!.copy(first, 0, 0, this.size);
      c[0] = first;
    }
    while (c.length * CHUNK < n) c.push(takeChunk());
  }

  /** Copies `len` bytes between the file at `pos` and `buf` at `off`, chunk by chunk. */
  #each(pos: number, len: number, f: (chunk: Buffer, at: number, n: number, done: number) => void): void {
    let done = 0;
    while (done < len) {
      const p = pos + done;
      const i = Math.floor(p / CHUNK);
      const at = p - i * CHUNK;
      const chunk = this.#chunks[i]!;
      const n = Math.min(len - done, chunk.length - at);
      f(chunk, at, n, done);
      done += n;
    }
  }

  #zero(from: number, to: number): void {
    if (to > from) this.#each(from, to - from, (chunk, at, n) => chunk.fill(0, at, at + n));
  }

  sync(o: Op): number {
    switch (o.op) {
      case 'pread': {
        if (o.pos >= this.size) return 0;
        const len = Math.min(o.len, this.size - o.pos);
        this.#each(o.pos, len, (chunk, at, n, done) => chunk.copy(o.buf, o.off + done, at, at + n));
        return len;
      }
      case 'pwrite':
        this.writeAt(o.off === 0 && o.len === o.buf.length ? o.buf : o.buf.subarray(o.off, o.off + o.len), o.pos);
        return o.len;
      case 'size':
        return this.size;
      case 'ftruncate':
        if (o.len > this.size) {
          this.#reserve(o.len);
          this.#zero(this.size, o.len);
        } else if (this.#chunks.length > 1) {
          // shrunk: the chunks wholly past the end are given back (at least one is kept)
          const keep = Math.max(1, Math.ceil(o.len / CHUNK));
          const gone = this.#chunks.splice(keep);
          if (this.#lent === 0) giveChunks(gone);
        }
        this.size = o.len;
        return 0;
      case 'fsync':
      case 'close':
        return 0;
      default:
        return unsupportedOp(o);
    }
  }

  async(o: Op): Promise<number> {
    try {
      return Promise.resolve(this.sync(o));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Writes all of `b` at `pos`; a gap before it reads as zeros. */
  writeAt(b: Uint8Array, pos: number): void {
    if (b.length === 0) return; // like pwrite of nothing: the file does not grow to pos
    const end = pos + b.length;
    this.#reserve(end);
    if (pos > this.size) this.#zero(this.size, pos);
    this.#each(pos, b.length, (chunk, at, n, done) => chunk.set(b.subarray(done, done + n), at));
    if (end > this.size) this.size = end;
  }

  /**
   * The contents, as views of the chunks in order (not copies), for a rollover to write out; it
   * calls {@link MemoryBackend.unlend} when no write from them is in flight any more.
   */
  views(): Buffer[] {
    const out: Buffer[] = [];
    if (this.size > 0) this.#each(0, this.size, (chunk, at, n) => out.push(chunk.subarray(at, at + n)));
    this.#lent++;
    return out;
  }

  /** The views of one views() call are no longer used. */
  unlend(): void {
    this.#lent--;
  }

  /**
   * Lets go of the memory (the file moved to disk, or was closed); the chunks go back to the
   * pool unless a rollover still writes from them (then the garbage collector has them).
   */
  release(): void {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.size = 0;
    if (this.#lent === 0) giveChunks(chunks);
  }
}

export function runSync<T>(t: IoTarget, g: Io<T>): T {
  let r = g.next();
  while (!r.done) {
    let v: number;
    try {
      const o = r.value;
      if (o.op === 'spill') {
        t.spill?.sync();
        v = 0;
      } else {
        if (o.op === 'pwrite' || o.op === 'ftruncate') t.gen++;
        v = t.io.sync(o);
      }
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}

export async function runAsync<T>(t: IoTarget, g: Io<T>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    let v: number;
    try {
      const o = r.value;
      if (o.op === 'spill') {
        await t.spill?.async();
        v = 0;
      } else {
        if (o.op === 'pwrite' || o.op === 'ftruncate') t.gen++;
        v = await t.io.async(o);
      }
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}
