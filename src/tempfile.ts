/// <reference types="node" preserve="true" />
// TempFile: the file object every creator returns. Position, buffering and
// text decoding live here; the descriptor's own offset is never used (all I/O
// is pread/pwrite at the object's position).
import * as fs from 'node:fs';
import { isAscii, isUtf8 } from 'node:buffer';
import { ReadableStream } from 'node:stream/web';
import { TextDecoder } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { fileClosed, invalidArgType, invalidArgValue, systemError, unsupported, type CodedError } from './_errors';
import { bufferGone, byteLengthNow, concatOwn, ownBuffer, plainBytes, u8Length } from './_bytes';
import { FdBackend, fdBackend, giveChunks, MemoryBackend, POOLED_SIZE, runAsync, runSync, takeChunk, type Backend, type Io, type Spiller } from './_io';
import type { ModeInfo, TextEncoding } from './_mode';
import { checkOptionsObject, checkPermissions } from './_options';
import { releaseDir, track, untrack, type DirRef, type ExitReason, type Removable } from './_lifetime';
import { publishCleanupError, publishCreate, publishRemove, type RemoveReason, type TrackedKind } from './_diagnostics';
import { native } from './_binding';
import { persistArgs, persistState, persistStateSync, reopenFd, reopenFdSync, type PersistOptions } from './persist';

/** The `close` given to streams on our descriptor: the file stays open until close(). */
function keepOpen(_fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
  process.nextTick(cb, null);
}

/**
 * Runs `f` (persist, reopen: a system call on the descriptor in the thread pool) with the
 * descriptor held, so that no close (a worker's exit hook) frees the number under it.
 */
function holdingFd<T>(s: FileState, f: () => Promise<T>): Promise<T> {
  return s.io instanceof FdBackend ? s.io.hold(f) : f();
}

// Linux and FreeBSD. The contents are frozen when SHRINK, GROW and WRITE are all there (seals
// are never removed); SEAL only stops more seals being added.
const F_SEAL_SEAL = 0x0001;
const F_SEAL_SHRINK = 0x0002;
const F_SEAL_GROW = 0x0004;
const F_SEAL_WRITE = 0x0008;
const FROZEN = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

const MIN_DEFAULT_BUFFER = 64 * 1024;
const READ_CHUNK = 64 * 1024;
const ASYNC_READ_CHUNK = 256 * 1024; // the async line iterator's read-ahead
const PEEK_DEFAULT = 8192; // peek() with no size: Python's default buffer's worth

/** What a TempFile owns; kept apart so the finalizer can flush and close it without the object. */
export interface FileState {
  fd: number; // -1 when there is no descriptor (closed, or still in memory)
  closed: boolean;
  kind: TrackedKind; // what diagnostics_channel messages and stats() call it
  gone: boolean; // its removal was counted and published (once per object)
  io: Backend; // where the system calls go
  spill: Spiller | null; // how to leave memory (SpooledTemporaryFile), null once on disk
  path: string | null;
  /** A named file: the handle of the directory it was made in, and its name there (null: none). */
  dir: DirRef | null;
  /** Runs once the descriptor is about to close (a named delete=true file removes itself). */
  beforeClose: ((s: FileState) => void) | null;
  atExit: Removable | null; // a named file with a write buffer is flushed at exit
  onPersist: (() => void) | null; // what persist undoes besides beforeClose (persist.ts onPersist)
  inWorker: Removable | null; // made in a worker thread: closed when the worker exits
  append: boolean;
  maxSize: number; // in memory: past this size the data moves to a real file (0 = never by itself)
  buf: Buffer | null; // write buffer, allocated on first buffered write
  cap: number; // its capacity; 0 = unbuffered, -1 = the default (decided on first use)
  blen: number; // bytes waiting in it
  bstart: number; // file offset of its first byte
  pos: number; // the object's position, buffered bytes included
  gen: number; // bumped by every write or truncation that reaches the backend (see Ahead)
  limit: number; // maxBytes: no write or truncation through this object takes the file past it (Infinity: none)
  memory: boolean; // a memfd (TemporaryFile({memory: true}))
  sealed: boolean; // seen sealed (seal(), or F_GET_SEALS); kept after close
}

export interface TempFileInit {
  fd: number; // -1 with `io` for a file that starts in memory
  kind?: TrackedKind; // default 'TemporaryFile'
  io?: Backend;
  spill?: Spiller;
  path: string | null;
  dir?: DirRef | null;
  mode: string;
  info: ModeInfo;
  bufsize: number;
  encoding: TextEncoding | null;
  beforeClose?: (s: FileState) => void;
  maxSize?: number;
  maxBytes?: number;
  memory?: boolean;
}

/** Binary data a TempFile takes: a Buffer, a typed array, a DataView or an ArrayBuffer. */
export type Bytes = NodeJS.ArrayBufferView | ArrayBuffer;
type ReadCb = (err: NodeJS.ErrnoException | null, n: number, buf: Uint8Array) => void;
type WriteCb = (err: NodeJS.ErrnoException | null, n: number, buf: Uint8Array) => void;
type WritevCb = (err: NodeJS.ErrnoException | null, n: number, bufs: NodeJS.ArrayBufferView[]) => void;

/** Options of createReadStream(): as fs.createReadStream's, on the file's own descriptor. */
export interface ReadStreamOptions {
  /** The offset to start reading at (default: the file's position; buffered writes are flushed first). */
  start?: number;
  /** The offset of the last byte read, inclusive (default: the end of the file). */
  end?: number;
  /** Bytes read at a time (default 64 KiB). */
  highWaterMark?: number;
  /** Decode to strings in this encoding (default: the file's encoding in text mode, else Buffers). */
  encoding?: BufferEncoding;
  /** Aborting it destroys the stream. */
  signal?: AbortSignal;
}

/** Options of createWriteStream(): as fs.createWriteStream's, on the file's own descriptor. */
export interface WriteStreamOptions {
  /** The offset to start writing at (default: the file's position, or its end in append mode). */
  start?: number;
  /** Bytes buffered before write() returns false (default 16 KiB). */
  highWaterMark?: number;
  /** The encoding of strings written (default: the file's encoding in text mode, else 'utf8'). */
  encoding?: BufferEncoding;
  /** Aborting it destroys the stream. */
  signal?: AbortSignal;
}

function* flushIo(s: FileState): Io<void> {
  if (s.blen === 0) return;
  if (s.append) {
    // O_APPEND semantics without O_APPEND: buffered bytes land at the end of file.
    s.bstart = yield { op: 'size' };
    s.pos = s.bstart + s.blen;
  }
  let off = 0;
  while (off < s.blen) {
    off += yield { op: 'pwrite', buf: s.buf!, off, len: s.blen - off, pos: s.bstart + off };
  }
  s.blen = 0;
}

function* spillIo(): Io<void> {
  yield { op: 'spill' };
}

/**
 * The byte length of binary data as an async call is made (-1 for anything else, whose checks
 * come at its turn): the caller may shrink or transfer its buffer before the turn comes (ninth
 * outside review: write() resolved with 0, nothing written), and checkIntact then refuses it.
 */
function lengthAtCall(data: unknown): number {
  if (typeof data === 'string') return -1;
  try {
    return plainBytes(data)?.length ?? -1;
  } catch {
    return -1; // detached already: refused at its turn, with the argument checks
  }
}

function checkIntact(b: Uint8Array, len: number): void {
  if (byteLengthNow(b) === len) return;
  throw bufferGone(
    'the data was detached or shrunk (its ArrayBuffer transferred or resized) while the write was pending; not all of it was written',
  );
}

/** Reads up to `n` bytes at `pos` (fewer only at end of file). */
function* preadIo(n: number, pos: number): Io<Buffer> {
  const out = ownBuffer(n);
  let got = 0;
  while (got < n) {
    const r = yield { op: 'pread', buf: out, off: got, len: n - got, pos: pos + got };
    if (r === 0) break;
    got += r;
  }
  if (got === n) return out;
  // A short read (the end of the file): the unused tail is zeroed, so that the returned view's
  // backing store carries nothing this process freed earlier (fifth outside review).
  out.fill(0, got);
  return out.subarray(0, got);
}

function* readAllIo(pos: number): Io<Buffer> {
  const size = yield { op: 'size' };
  const chunks: Buffer[] = [];
  let at = pos;
  // The size is a hint: the file may grow while we read.
  for (let want = Math.max(size - pos, 0) || READ_CHUNK; ; want = READ_CHUNK) {
    const b = yield* preadIo(want, at);
    if (b.length > 0) chunks.push(b);
    at += b.length;
    if (b.length < want) break;
  }
  return chunks.length === 1 ? chunks[0]! : concatOwn(chunks);
}

/** Bytes from `pos` through the first `nl` sequence (aligned to `unit`), or to end of file. */
function* readLineIo(pos: number, nl: Buffer, unit: number): Io<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const b = yield* preadIo(READ_CHUNK, pos + total);
    let from = 0;
    for (;;) {
      const i = b.indexOf(nl, from);
      if (i < 0) break;
      if ((total + i) % unit === 0) {
        chunks.push(b.subarray(0, i + nl.length));
        return concatOwn(chunks);
      }
      from = i + 1;
    }
    chunks.push(b);
    total += b.length;
    if (b.length < READ_CHUNK) return concatOwn(chunks);
  }
}

/**
 * A line iterator's read-ahead (and readlines'): a window of the file's bytes from `base`, read
 * in chunks as Python's buffered reader does. It is only a cache: the object's position still
 * moves line by line, so an iterator left half-way leaves the position after the last line it
 * gave. It is used only while nothing wrote to or truncated the file through this object since
 * it was read (`gen`) and while the position is inside it.
 */
interface Ahead {
  buf: Buffer;
  base: number; // file offset of buf[0]
  gen: number; // the state's gen when buf was read
  validTo: number; // utf8: the bytes before this file offset are known valid
  checkedTo: number; // text: the whole lines before this file offset have been looked at
  // Text made only of one-byte characters (ASCII, or any latin1) is decoded a read-ahead at a
  // time into `str`, whole lines from file offset strAt to strEnd: a line is then a slice of
  // it (no copy), its length in characters its length in bytes.
  str: string;
  strAt: number;
  strEnd: number;
  unit: number; // newline width: 2 in utf16le (aligned to the line's start), else 1
  chunk: number; // bytes per read: more for the async iterator, which pays a thread-pool round trip per read
}

const EMPTY = Buffer.alloc(0);

// Buffer's own slice decoders (what toString(enc, start, end) calls, without its argument
// handling); toString where a runtime lacks them.
type Slicer = (b: Buffer, start: number, end: number) => string;
const P = Buffer.prototype as unknown as Record<string, unknown>;
const latin1Slice: Slicer =
  typeof P.latin1Slice === 'function'
    ? (b, s, e) => (b as unknown as { latin1Slice: (s: number, e: number) => string }).latin1Slice(s, e)
    : (b, s, e) => b.toString('latin1', s, e);
const utf8Slice: Slicer =
  typeof P.utf8Slice === 'function'
    ? (b, s, e) => (b as unknown as { utf8Slice: (s: number, e: number) => string }).utf8Slice(s, e)
    : (b, s, e) => b.toString('utf8', s, e);

function newAhead(enc: TextEncoding | null, chunk = READ_CHUNK): Ahead {
  return { buf: EMPTY, base: 0, gen: -1, validTo: 0, checkedTo: 0, str: '', strAt: 0, strEnd: 0, unit: enc === 'utf16le' ? 2 : 1, chunk };
}

const NL16 = Buffer.from([0x0a, 0]);

/** The end (past the newline) of the line starting at a.buf[off], searching from `from`; -1 if none yet. */
function lineEnd(a: Ahead, off: number, from: number): number {
  if (a.unit === 1) {
    const i = a.buf.indexOf(0x0a, from);
    return i < 0 ? -1 : i + 1;
  }
  for (;;) {
    const i = a.buf.indexOf(NL16, from);
    if (i < 0) return -1;
    if ((i - off) % 2 === 0) return i + 2;
    from = i + 1;
  }
}

/**
 * The end in a.buf of the line at the position from the read-ahead alone (no I/O; the line
 * starts at s.pos - a.base), or -1 when it has no whole line there.
 */
function aheadLine(s: FileState, a: Ahead): number {
  const off = s.pos - a.base;
  if (a.gen !== s.gen || off < 0 || off > a.buf.length) return -1;
  return lineEnd(a, off, off);
}

/**
 * The end in a.buf of the line at the position (it starts at s.pos - a.base), reading ahead;
 * -1 at end of file. The position does not move.
 */
function* aheadLineIo(s: FileState, a: Ahead): Io<number> {
  yield* flushIo(s);
  let off = s.pos - a.base;
  if (a.gen !== s.gen || off < 0 || off > a.buf.length) {
    a.buf = EMPTY;
    a.base = a.validTo = a.checkedTo = s.pos;
    a.str = '';
    a.strAt = a.strEnd = 0;
    a.gen = s.gen;
    off = 0;
  }
  let from = off;
  for (;;) {
    const end = lineEnd(a, off, from);
    if (end >= 0) return end;
    const rest = a.buf.length - off;
    const chunk = yield* preadIo(a.chunk, a.base + a.buf.length);
    if (chunk.length === 0) {
      if (rest === 0) return -1;
      a.buf = a.buf.subarray(off); // the last line, without a newline
      a.base += off;
      return a.buf.length;
    }
    a.buf = rest > 0 ? concatOwn([a.buf.subarray(off), chunk]) : chunk;
    a.base += off;
    off = 0;
    from = Math.max(0, rest - a.unit + 1);
  }
}

/** The caller's bytes as a Uint8Array of ours, sized by the internal slots (see _bytes.ts). */
function toBytes(data: unknown, name = 'data'): Uint8Array {
  const b = plainBytes(data, name);
  if (b === null) throw invalidArgType(name, 'a Buffer, TypedArray, DataView or ArrayBuffer in binary mode', data);
  return b;
}

function countCodePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const MAX_BYTES_PER_CODE_POINT: Record<TextEncoding, number> = { utf8: 4, utf16le: 4, latin1: 1, ascii: 1 };

function encodingError(message: string): CodedError {
  const e = new TypeError(message) as TypeError & CodedError;
  e.code = 'ERR_ENCODING_INVALID_ENCODED_DATA';
  return e;
}

function encode(s: string, enc: TextEncoding): Buffer {
  if (enc === 'ascii') {
    // eslint-disable-next-line no-control-regex
    const bad = /[^\x00-\x7f]/.exec(s);
    if (bad) throw encodingError(`'ascii' cannot encode character ${JSON.stringify(bad[0])} at index ${bad.index}`);
  }
  if (enc === 'utf8' || enc === 'utf16le') {
    const bad = /\p{Surrogate}/u.exec(s);
    if (bad) throw encodingError(`'${enc}' cannot encode the lone surrogate at index ${bad.index}`);
  }
  return Buffer.from(s, enc);
}

/** A strict decoder (Python's errors='strict'). */
class Decoder {
  private readonly td: TextDecoder | null;
  constructor(private readonly enc: TextEncoding) {
    this.td =
      enc === 'utf8' || enc === 'utf16le'
        ? new TextDecoder(enc === 'utf8' ? 'utf-8' : 'utf-16le', { fatal: true, ignoreBOM: true })
        : null;
  }
  decode(b: Uint8Array, final: boolean): string {
    if (this.td) {
      try {
        return this.td.decode(b, { stream: !final });
      } catch {
        throw encodingError(`the data is not valid ${this.enc}`);
      }
    }
    if (this.enc === 'ascii') {
      const i = b.findIndex((x) => x > 0x7f);
      if (i >= 0) throw encodingError(`'ascii' cannot decode byte 0x${b[i]!.toString(16)}`);
    }
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  }
}

/**
 * maxBytes passed: an fs-style EFBIG (errno from the system's table, -27 on Linux), with the cap
 * and the size the operation would have given in the message.
 */
function tooLarge(s: FileState, size: number): NodeJS.ErrnoException {
  const what = s.path ?? (s.fd >= 0 ? `<fd ${s.fd}>` : '<in memory>');
  const e = systemError('EFBIG', 'write', what, `file too large: maxBytes is ${s.limit}, the file would be ${size} bytes`);
  if (s.path === null) delete e.path;
  return e;
}

/**
 * The write buffer's capacity for a file on disk (FileState.cap): 0 unbuffered (bufsize 0, or
 * append mode under a cap: see the constructor), -1 the default, else bufsize. A spooled file
 * takes it at rollover.
 */
export function writeBufferCap(bufsize: number, append: boolean, maxBytes: number | undefined): number {
  if (bufsize === 0 || (append && (maxBytes ?? Infinity) !== Infinity)) return 0;
  return bufsize > 1 ? bufsize : -1;
}

const finalizer = new FinalizationRegistry<FileState>((s) => {
  if (s.closed) return;
  const what = s.path ?? (s.fd >= 0 ? `<fd ${s.fd}>` : '<in memory>');
  process.emitWarning(`unclosed TempFile ${what} was garbage-collected; close it explicitly`, 'ResourceWarning');
  try {
    closeStateSync(s, 'gc');
  } catch (e) {
    // Nobody to throw to from a finalizer: say it instead.
    process.emitWarning(`closing a garbage-collected TempFile failed: ${(e as Error).message}`, 'ResourceWarning');
  }
});

/** The object is gone (its descriptor closed, or the close failed): counted and published once. */
export function gone(s: FileState, fd: number, reason: RemoveReason): void {
  if (s.gone) return;
  s.gone = true;
  publishRemove(s.kind, s.path, fd, reason);
}

/** Marks the state closed and lets go of its descriptor; returns it (-1: none). */
function detach(s: FileState): number {
  const fd = s.fd;
  if (s.atExit) untrack(s.atExit);
  s.atExit = null;
  if (s.inWorker) untrack(s.inWorker);
  s.inWorker = null;
  s.closed = true;
  s.fd = -1;
  // The write buffer goes back to the pool only when no write from it can be in flight (an
  // async flush holds the descriptor until it is done).
  if (s.buf !== null && s.io instanceof FdBackend && s.io.idle) giveChunks([s.buf]);
  s.buf = null;
  s.spill = null;
  if (s.io instanceof MemoryBackend) s.io.release(); // a spooled file's chunks, to the pool
  releaseDir(s);
  return fd;
}

/**
 * Flush, the close hook, close: each step runs even when an earlier one fails; the first error is
 * thrown. A failing close hook (a named file's removal) or close is also a cleanup error.
 */
function* closeIo(s: FileState, reason: RemoveReason): Io<void> {
  let first: unknown = null;
  try {
    yield* flushIo(s);
  } catch (e) {
    first = e;
  }
  let cleanupError: unknown = null;
  try {
    if (s.beforeClose && s.fd >= 0) s.beforeClose(s);
  } catch (e) {
    cleanupError = e;
  }
  // The backend still holds the descriptor after detach(); memory has none to close.
  const fd = detach(s);
  try {
    if (fd >= 0) yield { op: 'close' };
  } catch (e) {
    cleanupError ??= e;
  }
  if (cleanupError !== null) publishCleanupError(s.kind, s.path, fd, reason, cleanupError);
  gone(s, fd, reason);
  first ??= cleanupError;
  if (first !== null) throw first;
}

function closeStateSync(s: FileState, reason: RemoveReason): void {
  if (s.blen === 0) {
    // Nothing to flush: the common case, closeIo's steps without the generator (the close hook,
    // then close; each runs when the other fails; the first error is thrown). The backend
    // closes now, or after the calls still in flight on the descriptor.
    let cleanupError: unknown = null;
    if (s.beforeClose !== null && s.fd >= 0) {
      try {
        s.beforeClose(s);
      } catch (e) {
        cleanupError = e;
      }
    }
    const fd = detach(s);
    if (fd >= 0) {
      try {
        s.io.sync({ op: 'close' });
      } catch (e) {
        cleanupError ??= e;
      }
    }
    if (cleanupError !== null) publishCleanupError(s.kind, s.path, fd, reason, cleanupError);
    gone(s, fd, reason);
    if (cleanupError !== null) throw cleanupError;
    return;
  }
  runSync(s, closeIo(s, reason));
}

/**
 * fs.read, retried when a signal interrupts it (EINTR): libuv retries an interrupted write but
 * never a read, and a read stream would fail with it (test/faults).
 */
function readRetrying(fd: number, buf: Uint8Array, off: number, len: number, pos: number, cb: ReadCb): void {
  fs.read(fd, buf, off, len, pos, (err, n, b) =>
    err?.code === 'EINTR' ? readRetrying(fd, buf, off, len, pos, cb) : cb(err, n, b),
  );
}

/** An open temporary file, as Python's file objects: sync methods (`writeSync`, `readSync`, …) and async ones (`write`, `read`, …, run in call order), buffered, binary or text by `mode`. Made by TemporaryFile(), NamedTemporaryFile() and SpooledTemporaryFile(), never with `new`. */
export class TempFile {
  readonly #s: FileState;
  readonly #info: ModeInfo;
  readonly #mode: string;
  readonly #enc: TextEncoding | null;
  readonly #lineBuffered: boolean;
  readonly #bufsize: number;
  #pending = 0;
  #queue: Promise<unknown> | null = null;

  /** @internal Use TemporaryFile(), NamedTemporaryFile() and friends. */
  constructor(init: TempFileInit) {
    this.#info = init.info;
    this.#mode = init.mode;
    this.#enc = init.info.text ? init.encoding ?? 'utf8' : null;
    this.#lineBuffered = init.bufsize === 1;
    this.#bufsize = init.bufsize;
    const kind = init.kind ?? 'TemporaryFile';
    this.#s = {
      fd: init.fd,
      closed: false,
      kind,
      gone: false,
      io: init.io ?? fdBackend(init.fd),
      spill: init.spill ?? null,
      path: init.path,
      dir: init.dir ?? null,
      beforeClose: init.beforeClose ?? null,
      atExit: null,
      onPersist: null,
      inWorker: null,
      append: init.info.append,
      maxSize: init.maxSize ?? 0,
      buf: null,
      // Unbuffered (cap 0): in memory (a spooled file) there is nothing to save by buffering; a
      // memory file's write must fail at once once anyone sealed it, not at a later flush (fourth
      // outside review); in append mode under a cap, the end of file a buffered write was checked
      // against may have moved by the time it is flushed (same review: 140 bytes under a cap of
      // 100), so each write is checked against the size it lands at.
      cap: init.spill || init.memory ? 0 : writeBufferCap(init.bufsize, init.info.append, init.maxBytes),
      blen: 0,
      bstart: 0,
      pos: 0,
      gen: 0,
      limit: init.maxBytes ?? Infinity,
      memory: init.memory ?? false,
      sealed: false,
    };
    finalizer.register(this, this.#s);
    publishCreate(kind, init.path, init.fd);
    if (!isMainThread) {
      // A worker shares the process's descriptor table, and its finalizers do not run when
      // it ends: what it left open is closed (and a named delete=true file removed) at its
      // exit, or its descriptors (and an unnamed file's storage) would outlive it.
      const s = this.#s;
      s.inWorker = { removeAtExit: (why: ExitReason) => closeStateSync(s, why) };
      track(s.inWorker);
    }
  }

  /**
   * The descriptor. Throws ERR_FILE_CLOSED after close(). A SpooledTemporaryFile still in
   * memory moves to a real file to have one.
   */
  get fd(): number {
    this._rolloverSync();
    return this.#s.fd;
  }
  /** The file's path, or null when it has no name (an unnamed TemporaryFile). */
  get path(): string | null {
    return this.#s.path;
  }
  /** Python compatibility: the path, or the descriptor when there is none. */
  get name(): string | number | null {
    return this.#s.path ?? (this.#s.fd >= 0 ? this.#s.fd : null);
  }
  /** Whether the file lives only in memory (TemporaryFile({memory}) got a memfd). */
  get memory(): boolean {
    return this.#s.memory;
  }
  /**
   * Whether the contents are sealed (seal(), here or on another object on the same memory
   * file): nobody can write, grow or shrink them any more. Always false for other files.
   */
  get sealed(): boolean {
    const s = this.#s;
    if (s.memory && !s.sealed && !s.closed) {
      try {
        // All three: WRITE alone (added by another holder of the descriptor) still lets the
        // file be truncated or grown (fourth outside review).
        s.sealed = (native.memfdSealsSync(s.fd) & FROZEN) === FROZEN;
      } catch {
        // the descriptor is in use by a close in flight: what we knew stands
      }
    }
    return s.sealed;
  }
  /** The mode string as given. */
  get mode(): string {
    return this.#mode;
  }
  /** Whether close() or closeSync() has been called. */
  get closed(): boolean {
    return this.#s.closed;
  }
  /** The text encoding; undefined in binary mode. */
  get encoding(): TextEncoding | undefined {
    return this.#enc ?? undefined;
  }
  /**
   * Python's `newlines`: text mode is Python's newline='\n' (no translation), where it is None:
   * null here; undefined in binary mode, where Python's buffered files have no such attribute.
   */
  get newlines(): null | undefined {
    return this.#enc === null ? undefined : null;
  }

  // --- capabilities (Python's; sync only, ValueError → ERR_FILE_CLOSED after close) ---

  /** Whether the mode allows reading. */
  readable(): boolean {
    this.#open();
    return this.#info.readable;
  }
  /** Whether the mode allows writing. */
  writable(): boolean {
    this.#open();
    return this.#info.writable;
  }
  /** Always true: every TempFile can seek. */
  seekable(): boolean {
    this.#open();
    return true;
  }
  /** Always false: a temp file is never a terminal. */
  isatty(): boolean {
    this.#open();
    return false;
  }
  /** The descriptor, as `fd` (a SpooledTemporaryFile in memory rolls over to have one). */
  fileno(): number {
    return this.fd;
  }

  // --- the operations, each written once as an Io generator ---

  #open(): FileState {
    if (this.#s.closed) throw fileClosed();
    return this.#s;
  }

  /** @internal The state, for SpooledTemporaryFile and persist. */
  get _state(): FileState {
    return this.#s;
  }

  /** @internal A memory file moves to a real one (SpooledTemporaryFile.rollover). */
  _rolloverSync(): void {
    if (this.#open().spill) this.#sync(spillIo());
  }

  /** @internal The same, in call order with the other async operations. */
  _rollover(): Promise<void> {
    return this.#async(() => {
      const s = this.#open();
      return (function* (): Io<void> {
        if (s.spill) yield* spillIo();
      })();
    });
  }

  #checkRead(what: string): FileState {
    const s = this.#open();
    if (!this.#info.readable) throw unsupported(what, this.#mode);
    return s;
  }

  #checkWrite(what: string): FileState {
    const s = this.#open();
    if (!this.#info.writable) throw unsupported(what, this.#mode);
    return s;
  }

  /** Bytes of `data` for this mode, and what write() reports for them. */
  #encodeForWrite(data: unknown): [Uint8Array, number] {
    if (this.#enc === null) {
      const b = toBytes(data);
      return [b, b.length];
    }
    if (typeof data !== 'string') throw invalidArgType('data', 'of type string in text mode', data);
    return [encode(data, this.#enc), countCodePoints(data)];
  }

  /** Copies into the write buffer when that is all it takes; false when I/O is needed. */
  #tryBuffer(s: FileState, b: Uint8Array, atEnd = false): boolean {
    if (s.cap === 0) return false;
    // Appending starts a buffer only once the end of file is known, so tell() is right.
    if (s.append && s.blen === 0 && !atEnd) return false;
    if (s.buf === null) {
      if (s.cap < 0) {
        s.cap = Math.max(fs.fstatSync(s.fd).blksize || 0, MIN_DEFAULT_BUFFER);
      }
      // never Node's shared pool (small sizes): other small Buffers' .buffer would show it
      s.buf = s.cap === POOLED_SIZE ? takeChunk() : Buffer.allocUnsafeSlow(s.cap);
      if (s.path !== null) {
        // What a named file still holds in its buffer reaches the disk at exit, as in Python.
        s.atExit = { removeAtExit: () => s.blen > 0 && !s.closed && runSync(s, flushIo(s)) };
        track(s.atExit);
      }
    }
    if (s.blen + b.length > s.cap) return false;
    if (s.blen === 0) s.bstart = s.pos;
    s.buf.set(b, s.blen);
    s.blen += b.length;
    s.pos += b.length;
    return true;
  }

  *#writeIo(s: FileState, b: Uint8Array): Io<void> {
    // The length when the call was made: after each step that may wait (an async call's flush,
    // size, rollover), the caller's buffer is checked to still have it (checkIntact).
    const len = b.length;
    // Nothing to write: no I/O and, in append mode, no jump to the end (as with O_APPEND).
    if (len === 0) return;
    if (s.pos + len <= s.limit && this.#tryBuffer(s, b)) return;
    yield* flushIo(s);
    if (s.append) s.pos = yield { op: 'size' };
    checkIntact(b, len);
    // The size the file would have: the end of this write (a file past the cap already, grown
    // by another process, is not ours to judge). Nothing of a write that passes it is written.
    if (s.pos + len > s.limit) throw tooLarge(s, s.pos + len);
    if (s.spill && s.maxSize > 0 && s.pos + len > s.maxSize) {
      yield* spillIo();
      checkIntact(b, len);
    }
    if (this.#tryBuffer(s, b, true)) return;
    // The position moves with each piece written: if a later piece fails, tell() says how far
    // it got (ninth outside review).
    let off = 0;
    while (off < len) {
      checkIntact(b, len);
      const n = yield { op: 'pwrite', buf: b, off, len: len - off, pos: s.pos, lent: true };
      off += n;
      s.pos += n;
    }
  }

  *#readIo(s: FileState, size: number): Io<Buffer | string> {
    yield* flushIo(s);
    if (this.#enc === null) {
      const b = size < 0 ? yield* readAllIo(s.pos) : yield* preadIo(size, s.pos);
      s.pos += b.length;
      return b;
    }
    const dec = new Decoder(this.#enc);
    if (size < 0) {
      const b = yield* readAllIo(s.pos);
      s.pos += b.length;
      return dec.decode(b, true);
    }
    if (size === 0) return '';
    // size code points take at most size * max bytes: read that much, keep the first size.
    const want = size * MAX_BYTES_PER_CODE_POINT[this.#enc];
    const b = yield* preadIo(want, s.pos);
    const text = dec.decode(b, b.length < want);
    let end = 0;
    for (let n = 0; n < size && end < text.length; n++) {
      const c = text.charCodeAt(end);
      end += c >= 0xd800 && c <= 0xdbff && end + 1 < text.length ? 2 : 1;
    }
    const out = text.slice(0, end);
    s.pos += Buffer.byteLength(out, this.#enc);
    return out;
  }

  *#readlineIo(s: FileState, size: number): Io<Buffer | string> {
    yield* flushIo(s);
    const enc = this.#enc;
    const nl = enc === 'utf16le' ? Buffer.from([0x0a, 0]) : Buffer.from([0x0a]);
    let b = yield* readLineIo(s.pos, nl, nl.length);
    if (enc === null) {
      if (size >= 0 && b.length > size) b = b.subarray(0, size);
      s.pos += b.length;
      return b;
    }
    let line = new Decoder(enc).decode(b, true);
    if (size >= 0 && countCodePoints(line) > size) {
      let end = 0;
      for (let n = 0; n < size; n++) end += line.codePointAt(end)! > 0xffff ? 2 : 1;
      line = line.slice(0, end);
      b = Buffer.from(line, enc);
    }
    s.pos += b.length;
    return line;
  }

  *#seekIo(s: FileState, offset: number, whence: number): Io<number> {
    yield* flushIo(s);
    const base = whence === 0 ? 0 : whence === 1 ? s.pos : yield { op: 'size' };
    const to = base + offset;
    if (to < 0) throw invalidArgValue('offset', offset, `gives a negative position (${to})`);
    s.pos = to;
    return to;
  }

  *#truncateIo(s: FileState, size: number | undefined): Io<number> {
    yield* flushIo(s);
    const len = size ?? s.pos;
    if (len > s.limit) throw tooLarge(s, len);
    if (s.spill && s.maxSize > 0 && len > s.maxSize) yield* spillIo();
    yield { op: 'ftruncate', len };
    return len;
  }

  *#syncIo(s: FileState): Io<void> {
    yield* flushIo(s);
    yield { op: 'fsync' };
  }

  // --- argument checks shared by both forms ---

  #checkSize(size: unknown, name = 'size'): number {
    if (size === undefined || size === null) return -1;
    if (typeof size !== 'number') throw invalidArgType(name, 'of type number', size);
    if (!Number.isSafeInteger(size) || size < -1) throw invalidArgValue(name, size, 'must be an integer >= -1');
    return size;
  }

  #checkSeek(offset: unknown, whence: unknown): [number, number] {
    if (typeof offset !== 'number') throw invalidArgType('offset', 'of type number', offset);
    if (!Number.isSafeInteger(offset)) throw invalidArgValue('offset', offset, 'must be an integer');
    if (whence !== 0 && whence !== 1 && whence !== 2)
      throw invalidArgValue('whence', whence, 'must be 0 (start), 1 (current) or 2 (end)');
    if (this.#enc !== null && whence !== 0 && offset !== 0)
      throw unsupported('a nonzero seek relative to the current position or the end', this.#mode);
    return [offset, whence];
  }

  #checkTruncate(size: unknown): number | undefined {
    if (size === undefined || size === null) return undefined;
    if (typeof size !== 'number') throw invalidArgType('size', 'of type number', size);
    if (!Number.isSafeInteger(size) || size < 0) throw invalidArgValue('size', size, 'must be an integer >= 0');
    return size;
  }

  // --- synchronous forms ---

  #sync<T>(g: Io<T>): T {
    if (this.#pending > 0) {
      const e = new Error('a synchronous operation was called while an asynchronous one is pending') as CodedError;
      e.code = 'ERR_TEMPFILE_BUSY';
      g.return(undefined as T);
      throw e;
    }
    return runSync(this.#s, g);
  }

  /** Writes `data` (bytes in binary mode, a string in text mode); returns bytes or characters written. */
  writeSync(data: Bytes | string): number {
    const s = this.#s;
    // The hot path (many small binary writes): bytes that fit in a buffer already started.
    // The length from the internal slot: a subclass's `length` may lie (see _bytes.ts).
    const n0 = this.#enc === null ? u8Length(data) : -1;
    if (
      n0 >= 0 &&
      s.blen > 0 &&
      s.blen + n0 <= s.cap &&
      s.pos + n0 <= s.limit &&
      this.#pending === 0 &&
      !s.closed &&
      this.#info.writable
    ) {
      s.buf!.set(data as Uint8Array, s.blen);
      s.blen += n0;
      s.pos += n0;
      return n0;
    }
    this.#checkWrite('write');
    const [b, n] = this.#encodeForWrite(data);
    if (this.#pending === 0) {
      if (s.pos + b.length <= s.limit && this.#tryBuffer(s, b)) {
        if (this.#lineBuffered && (data as string).includes('\n')) this.#sync(flushIo(s));
        return n;
      }
      // A spooled file in memory: straight in, no generator, nothing to allocate per write.
      if (
        s.io instanceof MemoryBackend &&
        !s.append &&
        (s.maxSize === 0 || s.pos + b.length <= s.maxSize) &&
        s.pos + b.length <= s.limit
      ) {
        s.io.writeAt(b, s.pos);
        s.pos += b.length;
        s.gen++;
        return n;
      }
    }
    this.#sync(this.#writeIo(s, b));
    if (this.#lineBuffered && (data as string).includes('\n')) this.#sync(flushIo(s));
    return n;
  }

  /** Up to `size` bytes (binary) or characters (text); everything to the end when size is -1. */
  readSync(size: number = -1): Buffer | string {
    const s = this.#checkRead('read');
    return this.#sync(this.#readIo(s, this.#checkSize(size)));
  }

  /** Reads into `buffer` (binary mode only); returns the number of bytes read, 0 at end of file. */
  readintoSync(buffer: NodeJS.ArrayBufferView): number {
    const s = this.#checkRead('readinto');
    if (this.#enc !== null) throw unsupported('readinto', this.#mode);
    const b = toBytes(buffer, 'buffer');
    return this.#sync(this.#readintoIo(s, b));
  }

  *#readintoIo(s: FileState, b: Uint8Array): Io<number> {
    yield* flushIo(s);
    let got = 0;
    while (got < b.length) {
      const r = yield { op: 'pread', buf: b, off: got, len: b.length - got, pos: s.pos + got, lent: true };
      if (r === 0) break;
      got += r;
    }
    s.pos += got;
    return got;
  }

  /** One line, through the newline; '' or an empty Buffer at end of file. */
  readlineSync(size: number = -1): Buffer | string {
    const s = this.#checkRead('readline');
    return this.#sync(this.#readlineIo(s, this.#checkSize(size)));
  }

  /** Moves the position; whence 0/1/2 = from start/current/end. Returns the new position. */
  seekSync(offset: number, whence: 0 | 1 | 2 = 0): number {
    const s = this.#open();
    const [o, w] = this.#checkSeek(offset, whence);
    return this.#sync(this.#seekIo(s, o, w));
  }

  /** The position, buffered bytes included. */
  tellSync(): number {
    return this.#open().pos;
  }

  /** Resizes the file to `size` (default: the position) without moving the position. */
  truncateSync(size?: number): number {
    const s = this.#checkWrite('truncate');
    return this.#sync(this.#truncateIo(s, this.#checkTruncate(size)));
  }

  /** Writes out the buffer. */
  flushSync(): void {
    this.#sync(flushIo(this.#open()));
  }

  /** Writes out the buffer and fsyncs the file. */
  syncSync(): void {
    this.#sync(this.#syncIo(this.#open()));
  }

  /** Flushes and closes; a second call does nothing. */
  closeSync(): void {
    this.#closeSync('close');
  }

  #closeSync(reason: RemoveReason): void {
    const s = this.#s;
    if (s.closed) return;
    if (this.#pending > 0) this.#sync(flushIo(s)); // throws ERR_TEMPFILE_BUSY
    closeStateSync(s, reason);
  }

  /**
   * A readable stream of the file from `start` (default: the current position) to `end`
   * (inclusive, default: end of file). Buffered writes are flushed first; the stream reads
   * at its own positions and does not move the file's. Text files default to their encoding.
   * The file stays open until close(); close it after the stream has finished. The stream keeps
   * the file alive (no garbage collection under it); a close waits for the stream's read in
   * flight, and the stream then fails with ERR_FILE_CLOSED.
   */
  createReadStream(options: ReadStreamOptions = {}): fs.ReadStream {
    const s = this.#checkRead('createReadStream');
    const o = checkOptionsObject('options', options, ['start', 'end', 'highWaterMark', 'encoding', 'signal']);
    const fd = this.fd; // a spooled file moves to a real one
    this.flushSync();
    const file = this;
    return fs.createReadStream('', {
      encoding: this.#enc ?? undefined,
      ...(o as ReadStreamOptions),
      fd,
      // Streams close their fd when destroyed even with autoClose: false; the descriptor
      // belongs to this object, so the stream gets a close that does nothing. Its reads go
      // through the object (see #onFd): the stream keeps the file alive, and a close waits
      // for a read in flight.
      fs: {
        open: fs.open,
        read: (_fd: number, buf: Uint8Array, off: number, len: number, pos: number, cb: ReadCb) =>
          file.#onFd(cb, (d, done: ReadCb) => readRetrying(d, buf, off, len, pos, done)),
        close: keepOpen,
      },
      autoClose: true,
      start: (o.start as number | undefined) ?? s.pos,
    });
  }

  /**
   * A writable stream into the file from `start` (default: the current position; the end of
   * file in append modes). Buffered writes are flushed first; the stream writes at its own
   * positions and does not move the file's. As with createReadStream, the stream keeps the file
   * alive and fails with ERR_FILE_CLOSED once the file is closed.
   */
  createWriteStream(options: WriteStreamOptions = {}): fs.WriteStream {
    const s = this.#checkWrite('createWriteStream');
    const o = checkOptionsObject('options', options, ['start', 'highWaterMark', 'encoding', 'signal']);
    const fd = this.fd;
    this.flushSync();
    const start = (o.start as number | undefined) ?? (this.#info.append ? fs.fstatSync(fd).size : s.pos);
    const file = this;
    return fs.createWriteStream('', {
      encoding: this.#enc ?? undefined,
      ...(o as WriteStreamOptions),
      fd,
      fs: {
        open: fs.open,
        // A chunk (or a batch of chunks, writev) that would take the file past maxBytes fails
        // whole with EFBIG: nothing of it is written, and the stream errors.
        write: (_fd: number, buf: Uint8Array, off: number, len: number, pos: number, cb: WriteCb) =>
          pos + len > s.limit
            ? process.nextTick(cb, tooLarge(s, pos + len), 0, buf)
            : file.#onFd(cb, (d, done: WriteCb) => (s.gen++, fs.write(d, buf, off, len, pos, done))),
        writev: (_fd: number, bufs: NodeJS.ArrayBufferView[], pos: number, cb: WritevCb) => {
          const end = bufs.reduce((n, b) => n + b.byteLength, pos);
          if (end > s.limit) process.nextTick(cb, tooLarge(s, end), 0, bufs);
          else file.#onFd(cb, (d, done: WritevCb) => (s.gen++, fs.writev(d, bufs, pos, done)));
        },
        close: keepOpen,
      },
      autoClose: true,
      start,
    });
  }

  /**
   * A stream's system call on this file's descriptor (finding 5: a stream used to get the bare
   * number, so collecting the file, or closing it, closed the number under the stream, and
   * the next open() in the process made it another file). The stream's fs functions call
   * this method, so the stream keeps the object reachable until the stream itself is gone;
   * the call holds the descriptor until it completes; after close() the stream fails with
   * ERR_FILE_CLOSED instead of using a number that is no longer ours.
   */
  #onFd<A extends unknown[]>(cb: (...r: A) => void, call: (fd: number, done: (...r: A) => void) => void): void {
    const s = this.#s;
    if (s.closed || !(s.io instanceof FdBackend)) {
      process.nextTick(cb, ...([fileClosed()] as unknown as A));
      return;
    }
    s.io.call(call, cb);
  }

  // --- sealing (memory files) ---

  #checkSeal(): FileState {
    const s = this.#open();
    if (!s.memory) {
      const e = new Error('seal() needs a memory-only file (TemporaryFile({memory: true}))') as CodedError;
      e.code = 'ERR_UNSUPPORTED_OPERATION';
      throw e;
    }
    return s;
  }

  /** After the flush: the seals, once; from then on every write goes to the kernel (and fails). */
  #sealNow(s: FileState): void {
    if (s.closed) throw fileClosed();
    // Always added, whatever is there already (adding a seal twice is allowed): another holder
    // of the descriptor may have added some of them only (fourth outside review: WRITE alone,
    // then the file was truncated after the check). EPERM: F_SEAL_SEAL is set, no more can be
    // added; sealed only if the ones that freeze the contents are all there.
    try {
      native.memfdSealSync(s.fd);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM' || (native.memfdSealsSync(s.fd) & FROZEN) !== FROZEN) throw e;
    }
    const seals = native.memfdSealsSync(s.fd);
    if ((seals & FROZEN) !== FROZEN || (seals & F_SEAL_SEAL) === 0) {
      const e = systemError('EPERM', 'fcntl', `<fd ${s.fd}>`, `the file could not be sealed: its seals are 0x${seals.toString(16)}`);
      delete e.path; // a memory file has none
      throw e;
    }
    s.sealed = true;
    s.cap = 0; // no buffer: a write fails at once with EPERM, never later at a flush
  }

  /**
   * Makes a memory file's contents immutable for everyone: buffered bytes are written out,
   * then F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE|F_SEAL_SEAL are added. Writes and truncations
   * then fail with EPERM, through any descriptor or mapping; reads still work. Fails with EBUSY
   * (nothing sealed) while a writable shared mapping of the file exists. Sealing twice does
   * nothing. Other files: ERR_UNSUPPORTED_OPERATION.
   */
  sealSync(): void {
    const s = this.#checkSeal();
    this.#sync(flushIo(s));
    this.#sealNow(s);
  }

  /** As {@link sealSync}, asynchronously (the flush runs on the libuv thread pool). */
  seal(): Promise<void> {
    return this.#enqueue(async () => {
      const s = this.#checkSeal();
      await runAsync(s, flushIo(s));
      // fcntl on a memfd does no I/O: no thread-pool trip.
      this.#sealNow(s);
    });
  }

  // --- persist and reopen (the system calls are in persist.ts) ---

  /** Spooled data moved to a real file, buffered bytes written out. */
  *#onDiskIo(s: FileState): Io<void> {
    if (s.spill) yield* spillIo();
    yield* flushIo(s);
  }

  /** A memory file has no file system to be linked into. */
  #checkPersist(): FileState {
    const s = this.#open();
    if (s.memory) {
      const e = new Error('a memory-only file cannot be persisted: it is on no file system') as CodedError;
      e.code = 'ERR_UNSUPPORTED_OPERATION';
      throw e;
    }
    return s;
  }

  #reopened(fd: number): TempFile {
    const s = this.#s;
    // fs opened this one (persist.ts reopenFd): fs closes it
    return new TempFile({
      fd,
      kind: s.kind,
      io: fdBackend(fd, true),
      path: s.path,
      mode: this.#mode,
      info: this.#info,
      bufsize: this.#bufsize,
      encoding: this.#enc,
      maxBytes: s.limit,
      memory: s.memory,
    });
  }

  /**
   * Gives the file the permanent name `targetPath`, on the same file system: a named file is
   * renamed, an unnamed Linux file is linked from its descriptor. `overwrite: false` fails with
   * EEXIST and leaves an existing target alone. Afterwards the file is not deleted on close and
   * `path` is the target. On failure (EXDEV across file systems, …) nothing changed: the file
   * is still open and still temporary.
   */
  persistSync(targetPath: string | URL, options?: PersistOptions): void {
    const s = this.#checkPersist();
    const a = persistArgs(targetPath, options);
    this.#sync(this.#onDiskIo(s));
    persistStateSync(s, a);
  }

  /** As {@link TempFile.persistSync}, asynchronously. */
  persist(targetPath: string | URL, options?: PersistOptions): Promise<void> {
    return this.#enqueue(async () => {
      const s = this.#checkPersist();
      const a = persistArgs(targetPath, options);
      await runAsync(s, this.#onDiskIo(s));
      await holdingFd(s, () => persistState(s, a));
    });
  }

  /**
   * A second, independent TempFile on the same data (same mode, encoding and bufsize), at
   * position 0. Linux: through the descriptor, so unnamed files work too; elsewhere by path,
   * then checked to be the same file (ERR_TEMPFILE_REPLACED otherwise). The new object never
   * deletes the file: deletion stays with this one.
   */
  reopenSync(): TempFile {
    const s = this.#open();
    this.#sync(this.#onDiskIo(s));
    return this.#reopened(reopenFdSync(s));
  }

  /** As {@link TempFile.reopenSync}, asynchronously. */
  reopen(): Promise<TempFile> {
    return this.#enqueue(async () => {
      const s = this.#open();
      await runAsync(s, this.#onDiskIo(s));
      return this.#reopened(await holdingFd(s, () => reopenFd(s)));
    });
  }

  // --- lines, iteration, buffered-reader extras, stat, chmod, web streams ---

  /**
   * The line at the position, ending at a.buf[end], as this mode returns it (decoded in text
   * mode); the position moves past it.
   */
  #takeLine(s: FileState, a: Ahead, end: number): Buffer | string {
    const off = s.pos - a.base;
    const enc = this.#enc;
    if (enc === null) {
      s.pos += end - off;
      return a.buf.subarray(off, end);
    }
    if (enc !== 'utf16le' && a.base + end > a.checkedTo) {
      // The whole lines of the read-ahead from here, looked at once ('\n' never ends inside
      // a character): one-byte text becomes `str`, valid UTF-8 is noted; invalid data is
      // reported at its own line, by the strict decoder below.
      const last = a.buf.lastIndexOf(0x0a) + 1;
      if (last >= end) {
        a.checkedTo = a.base + last;
        const region = a.buf.subarray(off, last);
        if (enc === 'latin1' || isAscii(region)) {
          a.str = latin1Slice(region, 0, region.length);
          a.strAt = a.base + off;
          a.strEnd = a.base + last;
        } else if (enc === 'utf8' && isUtf8(region)) a.validTo = a.base + last;
      }
    }
    let line: string;
    if (s.pos >= a.strAt && a.base + end <= a.strEnd) line = a.str.slice(s.pos - a.strAt, a.base + end - a.strAt);
    else if (enc === 'latin1') line = latin1Slice(a.buf, off, end);
    else if (enc === 'utf8' && a.base + end <= a.validTo) line = utf8Slice(a.buf, off, end);
    else line = new Decoder(enc).decode(a.buf.subarray(off, end), true);
    s.pos += end - off;
    return line;
  }

  /** The next line (as readline() returns it), or null at end of file. */
  *#lineIo(a: Ahead): Io<Buffer | string | null> {
    const s = this.#checkRead('readline');
    const end = yield* aheadLineIo(s, a);
    return end < 0 ? null : this.#takeLine(s, a, end);
  }

  /** The next line without I/O when the read-ahead has it; undefined otherwise. */
  #quickLine(a: Ahead): Buffer | string | undefined {
    const s = this.#s;
    if (this.#pending !== 0 || s.closed || s.blen !== 0 || !this.#info.readable) return undefined;
    const p = s.pos;
    if (p >= a.strAt && p < a.strEnd && a.gen === s.gen) {
      // One-byte text: the line is a slice of the decoded read-ahead (which ends with '\n').
      const from = p - a.strAt;
      const to = a.str.indexOf('\n', from) + 1;
      s.pos = a.strAt + to;
      return a.str.slice(from, to);
    }
    const end = aheadLine(s, a);
    return end < 0 ? undefined : this.#takeLine(s, a, end);
  }

  *#readlinesIo(hint: number): Io<(Buffer | string)[]> {
    const a = newAhead(this.#enc);
    const out: (Buffer | string)[] = [];
    let total = 0;
    for (;;) {
      const line = yield* this.#lineIo(a);
      if (line === null) break;
      out.push(line);
      if (hint > 0) {
        total += typeof line === 'string' ? countCodePoints(line) : line.length;
        if (total > hint) break;
      }
    }
    return out;
  }

  #checkHint(hint: unknown): number {
    if (hint === undefined || hint === null) return -1;
    if (typeof hint !== 'number') throw invalidArgType('hint', 'of type number', hint);
    if (!Number.isSafeInteger(hint)) throw invalidArgValue('hint', hint, 'must be an integer');
    return hint;
  }

  /**
   * The lines from the position to the end of file, as readline() returns them; with
   * `hint` > 0, stops once the lines so far hold more than `hint` bytes (binary) or characters
   * (text), as CPython's IOBase.readlines does (the docs' 'exceeds').
   */
  readlinesSync(hint: number = -1): (Buffer | string)[] {
    this.#checkRead('readlines');
    return this.#sync(this.#readlinesIo(this.#checkHint(hint)));
  }

  /** Writes each item (as write() would; no separators added). */
  writelinesSync(lines: Iterable<Bytes | string>): void {
    this.#open();
    if (lines === null || typeof (lines as Iterable<unknown>)?.[Symbol.iterator] !== 'function')
      throw invalidArgType('lines', 'an iterable', lines);
    for (const x of lines) this.writeSync(x);
  }

  /**
   * The lines from the position on, as readline() returns them. The file is read ahead in
   * chunks; the position moves line by line, so after a `break` it is just after the last line
   * given. A write, truncate or seek through this object in between is seen by the next line.
   */
  [Symbol.iterator](): IterableIterator<Buffer | string> {
    this.#open();
    const a = newAhead(this.#enc);
    const file = this;
    let ended = false;
    const it: IterableIterator<Buffer | string> = {
      next(): IteratorResult<Buffer | string> {
        if (ended) return { done: true, value: undefined };
        let line = file.#quickLine(a);
        if (line === undefined) {
          const l = file.#sync(file.#lineIo(a));
          if (l === null) return { done: true, value: undefined };
          line = l;
        }
        return { done: false, value: line };
      },
      return(value?: unknown): IteratorResult<Buffer | string> {
        ended = true;
        return { done: true, value: value as undefined };
      },
      [Symbol.iterator]() {
        return it;
      },
    };
    return it;
  }

  /** As [Symbol.iterator], with the async methods (in call order with the other async calls). */
  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer | string> {
    this.#open();
    const a = newAhead(this.#enc, ASYNC_READ_CHUNK);
    const file = this;
    let ended = false;
    const done: IteratorResult<Buffer | string> = { done: true, value: undefined };
    const it: AsyncIterableIterator<Buffer | string> = {
      next(): Promise<IteratorResult<Buffer | string>> {
        if (ended) return Promise.resolve(done);
        try {
          const line = file.#quickLine(a);
          if (line !== undefined) return Promise.resolve({ done: false, value: line });
        } catch (e) {
          return Promise.reject(e);
        }
        return file.#async(() => file.#lineIo(a)).then((l) => (l === null ? done : { done: false, value: l }));
      },
      return(value?: unknown): Promise<IteratorResult<Buffer | string>> {
        ended = true;
        return Promise.resolve({ done: true, value: value as undefined });
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  #checkBinaryRead(what: string): FileState {
    const s = this.#checkRead(what);
    if (this.#enc !== null) throw unsupported(what, this.#mode);
    return s;
  }

  /** One pread at the position into `b` (at most one system call); moves the position if `move`. */
  *#onePreadIo(s: FileState, b: Uint8Array, move: boolean, lent = true): Io<number> {
    yield* flushIo(s);
    const n = b.length === 0 ? 0 : yield { op: 'pread', buf: b, off: 0, len: b.length, pos: s.pos, lent };
    if (move) s.pos += n;
    return n;
  }

  *#peekIo(s: FileState, size: number, move: boolean): Io<Buffer> {
    const b = ownBuffer(size);
    const n = yield* this.#onePreadIo(s, b, move, false);
    if (n === size) return b;
    b.fill(0, n); // as in preadIo: nothing stale behind the view
    return b.subarray(0, n);
  }

  #peekSize(size: unknown): number {
    const n = this.#checkSize(size);
    return n > 0 ? n : PEEK_DEFAULT;
  }

  #read1Size(size: unknown): number {
    const n = this.#checkSize(size);
    return n < 0 ? READ_CHUNK : n;
  }

  /**
   * Bytes from the position without moving it (binary): up to `size` (default 8 KiB), at least
   * one unless at end of file, with at most one system call.
   */
  peekSync(size: number = 0): Buffer {
    const s = this.#checkBinaryRead('peek');
    return this.#sync(this.#peekIo(s, this.#peekSize(size), false));
  }

  /** Up to `size` bytes (-1: up to 64 KiB) with at most one system call (binary). */
  read1Sync(size: number = -1): Buffer {
    const s = this.#checkBinaryRead('read1');
    return this.#sync(this.#peekIo(s, this.#read1Size(size), true));
  }

  /** readinto with at most one system call (binary). */
  readinto1Sync(buffer: NodeJS.ArrayBufferView): number {
    const s = this.#checkBinaryRead('readinto1');
    return this.#sync(this.#onePreadIo(s, toBytes(buffer, 'buffer'), true));
  }

  /**
   * fs.Stats of the open descriptor, after writing out the buffer (so `size` counts every byte
   * written). A SpooledTemporaryFile in memory rolls over to have a descriptor, as with `fd`.
   */
  statSync(): fs.Stats {
    const s = this.#open();
    this.#sync(this.#onDiskIo(s));
    return fs.fstatSync(s.fd);
  }

  #checkChmod(permissions: unknown): number {
    if (permissions === undefined) throw invalidArgType('permissions', 'of type number', permissions);
    return checkPermissions(permissions, 0);
  }

  /**
   * Sets the permission bits (0 to 0o777: never set-user-ID, set-group-ID or sticky) through the
   * descriptor, not the path: for a named file about to be persisted or shared.
   */
  chmodSync(permissions: number): void {
    const s = this.#open();
    const p = this.#checkChmod(permissions);
    this.#sync(this.#onDiskIo(s));
    fs.fchmodSync(s.fd, p);
  }

  /**
   * A web ReadableStream of the file's bytes from the position to the end of file, as
   * FileHandle.readableWebStream(): the buffer is written out first; the stream reads at its own
   * positions and does not move the file's; it fails with ERR_FILE_CLOSED once the file is closed.
   */
  readableWebStream(options: { type?: 'bytes' } = {}): ReadableStream<Uint8Array> {
    const s = this.#checkRead('readableWebStream');
    const o = checkOptionsObject('options', options, ['type']);
    if (o.type !== undefined && o.type !== 'bytes') throw invalidArgValue('options.type', o.type, "must be 'bytes'");
    this.flushSync();
    let at = s.pos;
    const file = this; // the stream keeps the file alive
    return new ReadableStream({
      type: 'bytes',
      async pull(c) {
        const st = file.#s;
        if (st.closed) throw fileClosed();
        const buf = new Uint8Array(READ_CHUNK);
        const n = await st.io.async({ op: 'pread', buf, off: 0, len: buf.length, pos: at });
        if (n === 0) {
          c.close();
          c.byobRequest?.respond(0);
          return;
        }
        at += n;
        c.enqueue(buf.subarray(0, n));
      },
    }) as ReadableStream<Uint8Array>;
  }

  /** `using f = TemporaryFileSync()`: closeSync() at the end of the scope. */
  [Symbol.dispose](): void {
    this.#closeSync('dispose');
  }

  // --- asynchronous forms: one at a time, in call order ---

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending++;
    const done = (this.#queue ?? Promise.resolve()).then(fn).finally(() => {
      this.#pending--;
    });
    this.#queue = done.catch(() => undefined);
    return done;
  }

  #async<T>(make: () => Io<T>): Promise<T> {
    // make() runs the argument and state checks in call order, after earlier operations.
    return this.#enqueue(() => runAsync(this.#s, make()));
  }

  /** As {@link TempFile.writeSync}, asynchronously: in call order with the other async calls. */
  write(data: Bytes | string): Promise<number> {
    const len0 = lengthAtCall(data);
    return this.#async(() => {
      const s = this.#checkWrite('write');
      const [b, n] = this.#encodeForWrite(data);
      if (len0 >= 0) checkIntact(b, len0);
      const lb = this.#lineBuffered && (data as string).includes('\n');
      const self = this;
      return (function* (): Io<number> {
        yield* self.#writeIo(s, b);
        if (lb) yield* flushIo(s);
        return n;
      })();
    });
  }

  /** As {@link TempFile.readSync}, asynchronously. */
  read(size: number = -1): Promise<Buffer | string> {
    return this.#async(() => this.#readIo(this.#checkRead('read'), this.#checkSize(size)));
  }

  /** As {@link TempFile.readintoSync}, asynchronously. */
  readinto(buffer: NodeJS.ArrayBufferView): Promise<number> {
    return this.#async(() => {
      const s = this.#checkRead('readinto');
      if (this.#enc !== null) throw unsupported('readinto', this.#mode);
      return this.#readintoIo(s, toBytes(buffer, 'buffer'));
    });
  }

  /** As {@link TempFile.readlineSync}, asynchronously. */
  readline(size: number = -1): Promise<Buffer | string> {
    return this.#async(() => this.#readlineIo(this.#checkRead('readline'), this.#checkSize(size)));
  }

  /** As {@link TempFile.seekSync}, asynchronously. */
  seek(offset: number, whence: 0 | 1 | 2 = 0): Promise<number> {
    return this.#async(() => {
      const s = this.#open();
      const [o, w] = this.#checkSeek(offset, whence);
      return this.#seekIo(s, o, w);
    });
  }

  /** As {@link TempFile.tellSync}, once the async calls made before it are done. */
  tell(): Promise<number> {
    return this.#async(() => {
      const s = this.#open();
      return (function* (): Io<number> {
        return s.pos;
      })();
    });
  }

  /** As {@link TempFile.truncateSync}, asynchronously. */
  truncate(size?: number): Promise<number> {
    return this.#async(() => this.#truncateIo(this.#checkWrite('truncate'), this.#checkTruncate(size)));
  }

  /** As {@link TempFile.flushSync}, asynchronously. */
  flush(): Promise<void> {
    return this.#async(() => flushIo(this.#open()));
  }

  /** As {@link TempFile.syncSync}, asynchronously. */
  sync(): Promise<void> {
    return this.#async(() => this.#syncIo(this.#open()));
  }

  /** As {@link TempFile.closeSync}, asynchronously, after the async calls made before it. */
  close(): Promise<void> {
    return this.#close('close');
  }

  #close(reason: RemoveReason): Promise<void> {
    return this.#enqueue(async () => {
      if (!this.#s.closed) await runAsync(this.#s, closeIo(this.#s, reason));
    });
  }

  /** As {@link TempFile.readlinesSync}, asynchronously. */
  readlines(hint: number = -1): Promise<(Buffer | string)[]> {
    return this.#async(() => {
      this.#checkRead('readlines');
      return this.#readlinesIo(this.#checkHint(hint));
    });
  }

  /** Writes each item of an iterable or async iterable, in call order with other async calls. */
  writelines(lines: Iterable<Bytes | string> | AsyncIterable<Bytes | string>): Promise<void> {
    // An array's items are all given at the call: their lengths are taken then (see write()).
    const lens0 = Array.isArray(lines) ? lines.map(lengthAtCall) : null;
    let i = 0;
    return this.#enqueue(async () => {
      this.#open();
      const l = lines as Partial<Iterable<unknown> & AsyncIterable<unknown>> | null;
      if (l === null || (typeof l?.[Symbol.iterator] !== 'function' && typeof l?.[Symbol.asyncIterator] !== 'function'))
        throw invalidArgType('lines', 'an iterable or async iterable', lines);
      const write = async (x: unknown) => {
        const s = this.#checkWrite('write');
        const [b] = this.#encodeForWrite(x);
        const len0 = lens0?.[i++] ?? -1;
        if (len0 >= 0) checkIntact(b, len0);
        const lb = this.#lineBuffered && (x as string).includes('\n');
        const self = this;
        await runAsync(
          s,
          (function* (): Io<void> {
            yield* self.#writeIo(s, b);
            if (lb) yield* flushIo(s);
          })(),
        );
      };
      if (typeof l[Symbol.asyncIterator] === 'function') for await (const x of l as AsyncIterable<unknown>) await write(x);
      else for (const x of l as Iterable<unknown>) await write(x);
    });
  }

  /** As {@link TempFile.peekSync}, asynchronously. */
  peek(size: number = 0): Promise<Buffer> {
    return this.#async(() => this.#peekIo(this.#checkBinaryRead('peek'), this.#peekSize(size), false));
  }

  /** As {@link TempFile.read1Sync}, asynchronously. */
  read1(size: number = -1): Promise<Buffer> {
    return this.#async(() => this.#peekIo(this.#checkBinaryRead('read1'), this.#read1Size(size), true));
  }

  /** As {@link TempFile.readinto1Sync}, asynchronously. */
  readinto1(buffer: NodeJS.ArrayBufferView): Promise<number> {
    return this.#async(() => this.#onePreadIo(this.#checkBinaryRead('readinto1'), toBytes(buffer, 'buffer'), true));
  }

  /** As {@link TempFile.statSync}, asynchronously. */
  stat(): Promise<fs.Stats> {
    return this.#enqueue(async () => {
      const s = this.#open();
      await runAsync(s, this.#onDiskIo(s));
      return holdingFd(s, () => new Promise<fs.Stats>((res, rej) => fs.fstat(s.fd, (e, st) => (e ? rej(e) : res(st)))));
    });
  }

  /** As {@link TempFile.chmodSync}, asynchronously. */
  chmod(permissions: number): Promise<void> {
    return this.#enqueue(async () => {
      const s = this.#open();
      const p = this.#checkChmod(permissions);
      await runAsync(s, this.#onDiskIo(s));
      await holdingFd(s, () => new Promise<void>((res, rej) => fs.fchmod(s.fd, p, (e) => (e ? rej(e) : res()))));
    });
  }

  /** `await using f = await TemporaryFile()`: close() at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#close('dispose');
  }
}
