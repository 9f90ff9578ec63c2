/// <reference types="node" preserve="true" />
// writeFileAtomic: replaces a file's contents so that readers see the old or the new,
// never a mix, and a failure or a crash leaves the old file and no temp file.
//
// Data given whole takes one addon call (native atomicWrite). Streamed data takes three
// steps, one addon call each around the writes: begin (directory handle, the target's mode
// and owner, a temp file created exclusively: O_TMPFILE or O_EXCL with a CSPRNG name), the
// chunks written here with fs as they come, commit (owner and mode, fsync, name the file,
// rename over the target, fsync the directory) or, on any failure, abort.
import { ownCopy, plainBytes } from './_bytes';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, FLAG_CHOWN, FLAG_FSYNC, FLAG_NO_TMPFILE, FLAG_UMASK_MODE, type AtomicBegun } from './_binding';
import { checkBoolean, checkFilePath, checkOptionsObject, checkPermissions, hiddenPrefix, type FilePath } from './_options';
import { invalidArgType, invalidArgValue, systemError, type CodedError } from './_errors';
import { candidateNames } from './_names';
import { internals } from './_internals';
import { closeNativeFdAsync, closeNativeFdSync } from './_close';

/** One piece of data: text (encoded with `encoding`) or bytes. */
export type AtomicChunk = string | NodeJS.ArrayBufferView | ArrayBuffer;

/** What writeFileAtomicSync takes: a chunk, or chunks from an iterable (streamed). */
export type AtomicDataSync = AtomicChunk | Iterable<AtomicChunk>;

/** What writeFileAtomic takes: also an async iterable, such as a Readable (streamed). */
export type AtomicData = AtomicDataSync | AsyncIterable<AtomicChunk>;

/** Options of writeFileAtomic()/writeFileAtomicSync(). */
export interface WriteFileAtomicOptions {
  /**
   * Mode bits of the new file, exactly (default: the existing file's if it is trusted, without
   * set-user-ID/set-group-ID unless the caller owns it; else 0o666 & ~umask).
   */
  permissions?: number;
  /** Owner and group of the new file (default: the existing file's when running as root, if it is trusted). */
  chown?: {
    /** User id (-1: unchanged). */
    uid: number;
    /** Group id (-1: unchanged). */
    gid: number;
  };
  /** fsync the file before the rename and the directory after it (default true). */
  fsync?: boolean;
  /** The encoding of string data (default 'utf8'). */
  encoding?: BufferEncoding;
  /**
   * A symbolic link at `path` is followed (its `realpath`), as npm write-file-atomic does: the
   * temp file is created exclusively in the directory of the link's target, through a handle of
   * that directory, and renamed over the target; the link stays. Default false: the link is
   * replaced by the new file. A path that does not resolve (no file yet, a dangling link) is
   * written as given, as write-file-atomic does.
   */
  followSymlinks?: boolean;
}

const KEYS = ['permissions', 'chown', 'fsync', 'encoding', 'followSymlinks'] as const;
const SUFFIX = '.tmp';
const MAX_ID = 0xfffffffe; // uid_t/gid_t; -1 means "leave as it is"

interface Job {
  t: FilePath;
  follow: boolean; // followSymlinks: t is resolved with realpath when the call runs
  prefix: string;
  flags: number; // FLAG_FSYNC, FLAG_CHOWN, FLAG_NO_TMPFILE, FLAG_UMASK_MODE
  perms: number; // -1: the replaced file's, or as created for a new file
  create: number; // with FLAG_UMASK_MODE: the new file's creation mode (the kernel applies the umask)
  uid: number; // with FLAG_CHOWN
  gid: number;
  enc: BufferEncoding;
  bytes: Uint8Array | null; // all the data at once, or
  chunks: Iterable<unknown> | AsyncIterable<unknown> | null; // streamed
  dirId?: { dev: number; ino: number }; // followSymlinks: the directory checked, to be the one written in
}

function checkId(name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidArgType(name, 'of type number', v);
  if (!Number.isInteger(v) || v < -1 || v > MAX_ID) throw invalidArgValue(name, v, `must be an integer from -1 to ${MAX_ID}`);
  return v;
}

function asBytes(c: unknown, enc: BufferEncoding): Uint8Array | null {
  if (typeof c === 'string') return Buffer.from(c, enc);
  return plainBytes(c); // sized by the internal slots, not a `length` that may lie
}

function chunkBytes(c: unknown, enc: BufferEncoding): Uint8Array {
  const b = asBytes(c, enc);
  if (b === null) throw invalidArgType('data', 'made of chunks that are strings, Buffers, TypedArrays, DataViews or ArrayBuffers', c);
  return b;
}

/** Every argument checked before anything is created. createMode: see writeFileAtomicUmaskMode (null: not that). */
function prepare(path: unknown, data: unknown, options: unknown, allowAsync: boolean, createMode: number | null = null): Job {
  const o = checkOptionsObject('options', options, KEYS);
  let enc: BufferEncoding = 'utf8';
  if (o.encoding !== undefined) {
    if (typeof o.encoding !== 'string' || !Buffer.isEncoding(o.encoding))
      throw invalidArgValue('encoding', o.encoding, 'must be a Buffer encoding');
    enc = o.encoding;
  }
  const perms = o.permissions === undefined ? -1 : checkPermissions(o.permissions, 0);
  let uid = -1;
  let gid = -1;
  if (o.chown !== undefined) {
    const c = o.chown;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw invalidArgType('chown', 'an object {uid, gid}', c);
    const co = checkOptionsObject('chown', c, ['uid', 'gid']);
    uid = checkId('chown.uid', co.uid);
    gid = checkId('chown.gid', co.gid);
  }
  const fsync = checkBoolean('fsync', o.fsync, true);
  const follow = checkBoolean('followSymlinks', o.followSymlinks, false);
  const bytes = asBytes(data, enc);
  let chunks: Job['chunks'] = null;
  if (bytes === null) {
    const d = data as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null;
    const isIter = d !== null && typeof d === 'object' && typeof d[Symbol.iterator] === 'function';
    const isAsync = d !== null && typeof d === 'object' && typeof d[Symbol.asyncIterator] === 'function';
    if (isIter || (isAsync && allowAsync)) chunks = data as Job['chunks'];
    else if (isAsync) throw invalidArgType('data', 'a string, Buffer, TypedArray, DataView, ArrayBuffer or an iterable of them (an async iterable or stream needs writeFileAtomic)', data);
    else throw invalidArgType('data', `a string, Buffer, TypedArray, DataView, ArrayBuffer or an ${allowAsync ? '(async) iterable or Readable' : 'iterable'} of them`, data);
  }
  const t = checkFilePath('path', path);
  let flags = fsync ? FLAG_FSYNC : 0;
  if (o.chown !== undefined) flags |= FLAG_CHOWN;
  if (internals.forceNoTmpfile) flags |= FLAG_NO_TMPFILE;
  if (createMode !== null && o.permissions === undefined) flags |= FLAG_UMASK_MODE;
  const create = createMode === null ? 0o666 : createMode & 0o777;
  return { t, follow, prefix: hiddenPrefix(t.name), flags, perms, create, uid, gid, enc, bytes, chunks };
}

// Following links, write-file-atomic's way with one rule more: the kernel's protected_symlinks
// rule for every link on the way, each checked before it is read. A link is followed only if
// the caller owns it, or its owner owns its directory, or nobody else can add entries to that
// directory. Another user's link planted in /tmp (or any shared directory) is refused with
// EACCES, as open() refuses it on Linux: write-file-atomic follows it, and root then writes
// wherever the planter pointed it. The user's own links (dotfiles into a repository) pass.
// A path that does not resolve (nothing there yet, a dangling link) is written as given, as
// write-file-atomic does; the write reports what is wrong with it, if anything.
const MAX_LINKS = 40; // Linux's MAXSYMLINKS

function untrusted(link: fs.Stats, dir: fs.Stats): boolean {
  if (typeof process.geteuid !== 'function') return false; // Windows: no owners to compare here
  const me = process.geteuid();
  return link.uid !== me && link.uid !== dir.uid && (dir.mode & 0o022) !== 0;
}

function refusedLink(p: string): NodeJS.ErrnoException {
  return systemError('EACCES', 'open', p, "another user's symbolic link in a directory where others can add entries is not followed (followSymlinks)");
}

/**
 * The last name of the chain is never resolved again (third outside review, 2026-12-03): it was
 * checked not to be a link, and a realpath() of the whole path would follow one put there since
 * (another user flipping a file in a sticky directory into a link to root's secret got root to
 * write through it). The rename replaces whatever the name is by then, a link included, and
 * never follows it.
 *
 * Every link on the way is checked, directory components included (tenth outside review): the
 * directory part was resolved with realpath() unchecked, and the real path opened, so another
 * user's link planted in /tmp as a directory component led root's write into any directory, and
 * the kernel's protected_symlinks never saw that link. The path is now resolved one name at a
 * time, as the kernel does (lstat of each prefix; a link is checked, read and its target resolved
 * in turn; ELOOP after 40 links), and the directory handle the addon opens is compared (device
 * and inode) with the directory checked, so nothing swapped in between is written in.
 */

/** The link read is the one checked: a link swapped between lstat and readlink is another inode. */
function sameLink(before: fs.Stats, after: fs.Stats | undefined): boolean {
  return after !== undefined && after.isSymbolicLink() && after.dev === before.dev && after.ino === before.ino && after.uid === before.uid;
}

function swappedLink(p: string): NodeJS.ErrnoException {
  return systemError('EAGAIN', 'readlink', p, 'the symbolic link changed while it was read (followSymlinks)');
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** What the walk asks for: each answered by fs, synchronously or not. */
type Ask = { op: 'lstat'; p: string } | { op: 'readlink'; p: string };
/** The walk's answer: the path as given (null), or the real directory (checked) and the last name. */
type Walked = { dir: string; name: string; id: fs.Stats } | null;

// A backslash is a separator on Windows only: on POSIX it may be part of a name.
const SEPARATORS = process.platform === 'win32' ? /[\\/]+/ : /\/+/;

function splitNames(p: string): string[] {
  return p.slice(path.parse(p).root.length).split(SEPARATORS).filter((n) => n !== '' && n !== '.');
}

/**
 * Resolves `given` (absolute) one name at a time, each link met checked with untrusted() against
 * the directory it is in (real, as resolved so far) before it is read. The answer is always the
 * directory checked (its identity, for the write to compare with the handle it opens) and the
 * name in it: a path written "as given" is opened again by the kernel, which follows whatever
 * link another user put on the way meanwhile (eleventh outside review: a directory missing at
 * the walk and a link at the write, 4-32 calls). Null only where the write fails anyway (a path
 * ending in '..' or at the root). A name missing on the way is ENOENT, a file on the way ENOTDIR.
 */
function* walk(given: string): Generator<Ask, Walked, fs.Stats | string | undefined> {
  let done = path.parse(given).root;
  let doneSt: fs.Stats | undefined; // of `done`, once looked at
  const rest = splitNames(given);
  let links = 0;
  let givenLeft = rest.length; // the given path's names are the last of `rest`
  // the given path's last name is a link: where it is, for a dangling one to be replaced there
  let lastLink: { dir: string; name: string; id: fs.Stats } | null = null;
  const missing = () => systemError('ENOENT', 'open', given);
  const doneDir = function* (): Generator<Ask, fs.Stats, fs.Stats | string | undefined> {
    if (doneSt === undefined) doneSt = (yield { op: 'lstat', p: done }) as fs.Stats | undefined;
    if (doneSt === undefined) throw missing();
    if (!doneSt.isDirectory()) throw systemError('ENOTDIR', 'open', given);
    return doneSt;
  };
  while (rest.length > 0) {
    const ofGiven = rest.length === givenLeft;
    const n = rest.shift() as string;
    if (ofGiven) givenLeft--;
    if (n === '..') {
      done = path.dirname(done);
      doneSt = undefined;
      continue;
    }
    const at = path.join(done, n);
    const st = (yield { op: 'lstat', p: at }) as fs.Stats | undefined;
    if (st === undefined) {
      if (rest.length > 0) throw missing();
      // A dangling link at the given name: replaced where it is, as write-file-atomic does.
      if (lastLink !== null) return lastLink;
      // Nothing there yet: a new file in the directory checked.
      return { dir: done, name: n, id: yield* doneDir() };
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw systemError('ELOOP', 'open', given);
      const dirSt = yield* doneDir();
      if (untrusted(st, dirSt)) throw refusedLink(at);
      if (ofGiven && givenLeft === 0) lastLink = { dir: done, name: n, id: dirSt };
      const target = (yield { op: 'readlink', p: at }) as string;
      if (!sameLink(st, (yield { op: 'lstat', p: at }) as fs.Stats | undefined)) throw swappedLink(at);
      if (path.isAbsolute(target)) {
        done = path.parse(path.resolve(target)).root;
        doneSt = undefined;
      }
      rest.unshift(...splitNames(target));
      continue;
    }
    if (rest.length === 0) {
      // The last name, not a link: never looked at again; the write goes through its directory.
      return { dir: done, name: n, id: yield* doneDir() };
    }
    if (!st.isDirectory()) throw systemError('ENOTDIR', 'open', given);
    done = at;
    doneSt = st;
  }
  return null; // ends in '..' or at the root: the write reports it
}

function lstatOrNot(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

async function lstatOrNotAsync(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(p);
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

/** The job for the directory and name the walk found, to be written through that directory only. */
function walked(j: Job, w: Walked): Job {
  if (w === null) return j;
  return { ...j, t: { path: path.join(w.dir, w.name), dir: w.dir, name: w.name }, prefix: hiddenPrefix(w.name), dirId: process.platform === 'win32' ? undefined : { dev: w.id.dev, ino: w.id.ino } };
}

function resolvedSync(j: Job): Job {
  if (!j.follow) return j;
  const g = walk(j.t.path);
  let r = g.next();
  while (!r.done) {
    const a = r.value;
    r = g.next(a.op === 'lstat' ? lstatOrNot(a.p) : fs.readlinkSync(a.p));
  }
  return walked(j, r.value);
}

async function resolved(j: Job): Promise<Job> {
  if (!j.follow) return j;
  const g = walk(j.t.path);
  let r = g.next();
  while (!r.done) {
    const a = r.value;
    r = g.next(a.op === 'lstat' ? await lstatOrNotAsync(a.p) : await fs.promises.readlink(a.p));
  }
  return walked(j, r.value);
}

/** The directory the addon opened is the one the walk checked (dev and inode), or EAGAIN. */
function checkDirId(j: Job, st: fs.Stats | undefined): void {
  const id = j.dirId as { dev: number; ino: number };
  if (st === undefined || st.dev !== id.dev || st.ino !== id.ino)
    throw systemError('EAGAIN', 'open', j.t.dir, 'the directory changed after its path was checked (followSymlinks)');
}

// The addon's directory handle, looked at (fstat works on an O_PATH handle too). Not on Windows,
// where the addon holds a HANDLE, not a descriptor (and there are no owners to check: no dirId).
function fdStatSync(dirfd: number): fs.Stats {
  return fs.fstatSync(dirfd);
}

function fdStat(dirfd: number): Promise<fs.Stats> {
  return new Promise((resolve, reject) => fs.fstat(dirfd, (err, st) => (err ? reject(err) : resolve(st))));
}

function beginArgs(j: Job) {
  // A new file is created 0o666 narrowed by the umask, as any new file; with `permissions`
  // it is created private and given them at commit.
  return [j.t.dir, j.t.name, j.prefix, SUFFIX, j.flags, candidateNames(j.prefix, SUFFIX), j.perms >= 0 ? 0o600 : j.flags & FLAG_UMASK_MODE ? j.create : 0o666] as const;
}

// The rule for owner and mode is the addon's (core.h: the trust rule, st_atomic_commit): the
// options when given, else what begin kept of the replaced file: nothing from a file the caller
// should not trust, set-user-ID/set-group-ID only from the caller's own, owner and group as root.
// It is decided in the addon, on the directory handle the rename goes through and the target
// seen through it: the one-shot call gives JavaScript no moment in between, and a path
// looked at again here could lead elsewhere.
function commitArgs(j: Job, b: AtomicBegun) {
  const [fd, dirfd, tmpName, flags, mode, uid, gid] = b;
  return [fd, dirfd, j.t.dir, j.t.name, tmpName, flags, mode, uid, gid, j.perms, j.uid, j.gid, j.prefix, SUFFIX, candidateNames(j.prefix, SUFFIX)] as const;
}

function writeArgs(j: Job, bytes: Uint8Array) {
  return [...beginArgs(j), bytes, j.perms, j.uid, j.gid] as const;
}

function abortArgs(j: Job, b: AtomicBegun) {
  return [b[0], b[1], j.t.dir, b[2]] as const;
}

/** The first error stays the one thrown; a failed cleanup is attached to it (or warned about). */
function withCleanupError(e: unknown, cleanup: unknown): unknown {
  if (typeof e === 'object' && e !== null) (e as { cleanupError?: unknown }).cleanupError = cleanup;
  else process.emitWarning(`securetemp: writeFileAtomic could not remove its temp file: ${(cleanup as Error).message}`, 'CleanupWarning');
  return e;
}

// --- synchronous -------------------------------------------------------------

function writeAllSync(fd: number, b: Uint8Array, pos: number): number {
  for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off, b.length - off, pos + off);
  return pos + b.length;
}

function closeIfOursSync(fd: number): void {
  if (!native.ATOMIC_CLOSES_FD) closeNativeFdSync(fd);
}

function runSync(j: Job): void {
  // Data given whole: one call does it all (unless a test stops between write and commit).
  // A followed path takes the steps: the directory handle is checked between begin and the writes.
  if (j.bytes !== null && internals.beforeAtomicCommit === null && j.dirId === undefined) return native.atomicWriteSync(...writeArgs(j, j.bytes));
  const b = native.atomicBeginSync(...beginArgs(j));
  const fd = b[0];
  try {
    if (j.dirId !== undefined) checkDirId(j, fdStatSync(b[1]));
    if (j.bytes !== null) writeAllSync(fd, j.bytes, 0);
    else {
      let pos = 0;
      for (const c of j.chunks as Iterable<unknown>) pos = writeAllSync(fd, chunkBytes(c, j.enc), pos);
    }
    const hook = internals.beforeAtomicCommit;
    if (hook) void hook(fd);
  } catch (e) {
    try {
      native.atomicAbortSync(...abortArgs(j, b));
    } catch (e2) {
      throw withCleanupError(e, e2);
    } finally {
      closeIfOursSync(fd);
    }
    throw e;
  }
  try {
    native.atomicCommitSync(...commitArgs(j, b));
  } finally {
    closeIfOursSync(fd);
  }
}

// --- call order ----------------------------------------------------------------

// Asynchronous calls for one path (after path.resolve) run one after the other, in call
// order. A synchronous call cannot wait its turn: made while asynchronous ones for the same
// path are pending, it throws ERR_TEMPFILE_BUSY rather than overtake them.
const pending = new Map<string, { tail: Promise<unknown>; count: number }>();

function enqueue(path: string, run: () => Promise<void>): Promise<void> {
  let q = pending.get(path);
  if (q === undefined) {
    q = { tail: Promise.resolve(), count: 0 };
    pending.set(path, q);
  }
  const queue = q;
  queue.count++;
  const done = queue.tail.then(run).finally(() => {
    if (--queue.count === 0 && pending.get(path) === queue) pending.delete(path);
  });
  queue.tail = done.catch(() => undefined);
  return done;
}

function busy(path: string): CodedError {
  const e = new Error(
    `writeFileAtomicSync('${path}') was called while an asynchronous writeFileAtomic of the same path is ` +
      'pending; await it first (calls for one path complete in call order)',
  ) as CodedError;
  e.code = 'ERR_TEMPFILE_BUSY';
  return e;
}

// --- asynchronous --------------------------------------------------------------

function write(fd: number, b: Uint8Array, off: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, b, off, b.length - off, pos + off, (err, n) => (err ? reject(err) : resolve(n))));
}

async function writeAll(fd: number, data: Uint8Array, pos: number): Promise<number> {
  const b = ownCopy(data); // not the caller's memory on the thread pool (see ownCopy)
  for (let off = 0; off < b.length; ) off += await write(fd, b, off, pos);
  return pos + b.length;
}

function closeIfOurs(fd: number): Promise<void> {
  if (native.ATOMIC_CLOSES_FD) return Promise.resolve();
  return closeNativeFdAsync(fd);
}

/** A stream that will not be read after all (the call failed first) is destroyed. */
function release(chunks: Job['chunks']): void {
  const c = chunks as { destroy?: unknown } | null;
  if (c !== null && typeof c.destroy === 'function') (c as { destroy(): void }).destroy();
}

async function runAsync(j: Job): Promise<void> {
  if (j.bytes !== null && internals.beforeAtomicCommit === null && j.dirId === undefined) return native.atomicWrite(...writeArgs(j, j.bytes));
  let b: AtomicBegun;
  try {
    b = await native.atomicBegin(...beginArgs(j));
  } catch (e) {
    release(j.chunks);
    throw e;
  }
  const fd = b[0];
  try {
    if (j.dirId !== undefined) {
      try {
        checkDirId(j, await fdStat(b[1]));
      } catch (e) {
        release(j.chunks); // a stream not to be read after all
        throw e;
      }
    }
    if (j.bytes !== null) await writeAll(fd, j.bytes, 0);
    else {
      // Pulled one chunk at a time: a Readable is paused while its chunk is written.
      let pos = 0;
      for await (const c of j.chunks as AsyncIterable<unknown>) pos = await writeAll(fd, chunkBytes(c, j.enc), pos);
    }
    const hook = internals.beforeAtomicCommit;
    if (hook) await hook(fd);
  } catch (e) {
    try {
      await native.atomicAbort(...abortArgs(j, b));
    } catch (e2) {
      throw withCleanupError(e, e2);
    } finally {
      await closeIfOurs(fd);
    }
    throw e;
  }
  try {
    await native.atomicCommit(...commitArgs(j, b));
  } finally {
    await closeIfOurs(fd);
  }
}

// --- the public functions ---------------------------------------------------------

/**
 * Replaces the contents of `path` atomically: `data` goes to a temp file created exclusively
 * in the same directory (O_TMPFILE, or O_EXCL with a CSPRNG name: never through a planted
 * link), which is fsynced and renamed over `path`; then the directory is fsynced. Readers see
 * the old contents or the new, never a mix; on any failure the old file is untouched and no temp
 * file is left. An existing file's mode (and, as root, owner and group) is kept unless
 * `permissions`/`chown` say otherwise, but nothing is taken from a file the caller should not
 * trust (another user's in a directory where others can add entries, or one with more than one
 * link), and set-user-ID/set-group-ID bits only from the caller's own file. A symbolic link at
 * `path` is replaced, not followed, unless `followSymlinks` is true.
 */
export function writeFileAtomicSync(path: string | URL, data: AtomicDataSync, options?: WriteFileAtomicOptions): void {
  writeSync(path, data, options, null);
}

function writeSync(path: unknown, data: unknown, options: unknown, createMode: number | null): void {
  const j = prepare(path, data, options, false, createMode);
  if (pending.has(j.t.path)) throw busy(j.t.path);
  runSync(resolvedSync(j));
}

/**
 * The asynchronous form: system calls off the main thread; `data` may also be an async
 * iterable or a Readable, written as it comes. Calls for the same path complete in call order.
 */
export function writeFileAtomic(path: string | URL, data: AtomicData, options?: WriteFileAtomicOptions): Promise<void> {
  return writeAsync(path, data, options, null);
}

function writeAsync(path: unknown, data: unknown, options: unknown, createMode: number | null): Promise<void> {
  let j: Job;
  try {
    j = prepare(path, data, options, true, createMode);
  } catch (e) {
    return Promise.reject(e);
  }
  // The bytes as they are now, in memory of ours: the caller may transfer or shrink its buffer
  // before the queued call runs, and the target would be replaced by an empty file (eighth
  // outside review). The addon copies again for its thread (see ReadWriteOwn).
  if (j.bytes !== null) j.bytes = ownCopy(j.bytes);
  const job = j;
  return enqueue(job.t.path, async () => runAsync(await resolved(job)));
}

// --- for securetemp/write-file-atomic ------------------------------------------------

/**
 * As writeFileAtomicSync, but without `permissions` the new file's mode is that of any new
 * file, 0o666 narrowed by the umask, whatever is at `path`: write-file-atomic's `mode: false`.
 * The kernel applies the umask at creation; it is never read (process.umask() would set it to 0
 * for a moment, for every thread of the process). `createMode` (default 0o666) is the mode the
 * file is created with, narrowed by the umask: with no chmod after it, the drop-in's retry
 * when fchmod is refused creates the file with the mode asked, never 0o666 (tenth outside
 * review). Not part of the public API.
 */
export function writeFileAtomicUmaskModeSync(path: string | URL, data: AtomicDataSync, options?: WriteFileAtomicOptions, createMode = 0o666): void {
  writeSync(path, data, options, createMode);
}

/** The asynchronous form of writeFileAtomicUmaskModeSync. Not part of the public API. */
export function writeFileAtomicUmaskMode(path: string | URL, data: AtomicData, options?: WriteFileAtomicOptions, createMode = 0o666): Promise<void> {
  return writeAsync(path, data, options, createMode);
}
