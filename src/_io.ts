/// <reference types="node" preserve="true" />
// Each file operation is written once, as a generator that yields system
// calls; runSync performs them with fs.*Sync, runAsync on the thread pool.
// This keeps the sync and async forms from being two copies of the logic.
// The calls go to a Backend: a descriptor, or memory (SpooledTemporaryFile).
import * as fs from 'node:fs';
import { fileClosed } from './_errors';
import { closeNativeFd, closeNativeFdSync } from './_close';

export type Op =
  | { op: 'pread'; buf: Uint8Array; off: number; len: number; pos: number }
  | { op: 'pwrite'; buf: Uint8Array; off: number; len: number; pos: number }
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
      switch (o.op) {
        case 'pread': {
          const read = (): void =>
            fs.read(fd, o.buf, o.off, o.len, o.pos, (err, n) => (err?.code === 'EINTR' ? read() : then(err, n)));
          return read();
        }
        case 'pwrite':
          return fs.write(fd, o.buf, o.off, o.len, o.pos, then);
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

function closeFailed(err: NodeJS.ErrnoException | null): void {
  if (err) process.emitWarning(`closing a TempFile's descriptor after its last operation failed: ${err.message}`, 'ResourceWarning');
}

export function fdBackend(fd: number, fsOpened = false): Backend {
  return new FdBackend(fd, fsOpened);
}

/** A file in memory: the same operations, no system call. */
export class MemoryBackend implements Backend {
  data: Buffer = Buffer.alloc(0);
  size = 0;

  // Not zero-filled, and not from Node's shared pool: no byte at or past `size` is ever read
  // (pread stops at size, contents() ends there) and every way of growing the file (a write
  // past the end, ftruncate) zero-fills the gap first. Zero-filling each doubling cost the
  // upload example a measurable share of its time (bench/upload-soak.mjs).
  #reserve(n: number): void {
    if (n <= this.data.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(n, this.data.length * 2, 256));
    this.data.copy(next, 0, 0, this.size);
    this.data = next;
  }

  sync(o: Op): number {
    switch (o.op) {
      case 'pread': {
        if (o.pos >= this.size) return 0;
        const n = Math.min(o.len, this.size - o.pos);
        this.data.copy(o.buf, o.off, o.pos, o.pos + n);
        return n;
      }
      case 'pwrite':
        this.writeAt(o.off === 0 && o.len === o.buf.length ? o.buf : o.buf.subarray(o.off, o.off + o.len), o.pos);
        return o.len;
      case 'size':
        return this.size;
      case 'ftruncate':
        if (o.len > this.size) {
          this.#reserve(o.len);
          this.data.fill(0, this.size, o.len);
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
    if (pos > this.size) this.data.fill(0, this.size, pos);
    this.data.set(b, pos);
    if (end > this.size) this.size = end;
  }

  /** The contents (a view, not a copy). */
  contents(): Buffer {
    return this.data.subarray(0, this.size);
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
