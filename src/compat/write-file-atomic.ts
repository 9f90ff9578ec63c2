/// <reference types="node" preserve="true" />
// securetemp/write-file-atomic: npm write-file-atomic's API — writeFileAtomic(filename, data,
// [options], [callback]) and .sync — on securetemp's writeFileAtomic: the temp file is created
// exclusively (O_TMPFILE, else O_EXCL|O_NOFOLLOW with a CSPRNG name), its mode and owner set
// through the descriptor, the directory fsynced after the rename.
import * as fs from 'node:fs';
import * as atomics from '../atomic';
import { ownCopy, plainBytes } from '../_bytes';
import type { WriteFileAtomicOptions } from '../atomic';
import { checkMode } from './_tmp-options';
import type * as types from './_types';

interface Call {
  path: string | URL;
  bytes: NodeJS.ArrayBufferView;
  options: WriteFileAtomicOptions;
  /** mode: false: the mode of any new file, 0o666 narrowed by the umask (by the kernel). */
  umaskMode: boolean;
  /** With umaskMode: the mode the file is created with, narrowed by the umask (by the kernel). */
  createMode: number;
  created: ((tmpfile: null) => unknown) | null;
}

/** write-file-atomic's data rule: bytes as they are, null/undefined as nothing, anything else String(data). */
function bytesOf(data: unknown, encoding: unknown): NodeJS.ArrayBufferView {
  if (ArrayBuffer.isView(data)) return data as NodeJS.ArrayBufferView;
  if (data === null || data === undefined) return new Uint8Array(0);
  return Buffer.from(String(data), String(encoding || 'utf8') as BufferEncoding);
}

/** Its options mapped onto securetemp's; unknown keys are ignored, as write-file-atomic does. */
function prepare(filename: unknown, data: unknown, options: unknown): Call {
  const o = (typeof options === 'string' ? { encoding: options } : (options ?? {})) as types.WriteFileAtomicOptions;
  // A link at filename is followed, as write-file-atomic does (it realpaths the name): the link
  // is the user's own (dotfiles kept as links into a repository), and the new file is still
  // created exclusively in the target's directory, through a handle, and renamed there.
  const st: WriteFileAtomicOptions = { fsync: o.fsync !== false, followSymlinks: true };
  // mode: false, its README's "the system default permissions": 0o666 & ~umask, applied by the
  // kernel at creation. The umask is never read: process.umask() sets it to 0 for a moment, for
  // every thread of the process (a file another thread creates meanwhile comes out 0666).
  const umaskMode = o.mode === false;
  if (o.mode === 0) st.permissions = 0;
  else if (o.mode !== undefined && o.mode !== null) {
    // chmod ignores the file type bits, so a stat().mode works there: here too
    const m = checkMode(typeof o.mode === 'number' && o.mode > 0 ? o.mode & 0o7777 : o.mode);
    if (m !== null) st.permissions = m;
  }
  if (o.chown === false) st.chown = { uid: -1, gid: -1 }; // no chown: the file stays as created
  else if (o.chown !== undefined && o.chown !== null) st.chown = { uid: o.chown.uid, gid: o.chown.gid };
  const created = typeof o.tmpfileCreated === 'function' ? o.tmpfileCreated : null;
  return { path: filename as string | URL, bytes: bytesOf(data, o.encoding), options: st, umaskMode, createMode: 0o666, created };
}

/**
 * write-file-atomic ignores a chown or chmod that the kernel refuses a non-root user (EPERM,
 * EINVAL), and ENOSYS for anyone (its isChownErrOk, for the chown of `chown`, the chown that
 * keeps an existing file's owner, and the chmod of `mode`): the write is done again without that
 * call (the failed one left nothing). Which call it was, or null.
 */
function refused(e: unknown): 'fchown' | 'fchmod' | null {
  const err = e as NodeJS.ErrnoException | null;
  if (err?.syscall !== 'fchown' && err?.syscall !== 'fchmod') return null;
  if (err.code === 'ENOSYS') return err.syscall;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return !root && (err.code === 'EPERM' || err.code === 'EINVAL') ? err.syscall : null;
}

/**
 * The call again without the refused system call: no chown at all (not the one that keeps the
 * owner either); no chmod: the file keeps the mode it is created with, narrowed by the umask, as
 * write-file-atomic's keeps its open() mode: `mode`, or without it the existing file's mode.
 * Never 0o666 for a file asked 0o600 (tenth outside review: {mode: 0o600} came out 0644).
 */
function without(c: Call, call: 'fchown' | 'fchmod'): Call {
  if (call === 'fchown') return { ...c, options: { ...c.options, chown: { uid: -1, gid: -1 } } };
  const options = { ...c.options };
  const createMode = options.permissions !== undefined ? options.permissions & 0o777 : existingMode(c.path);
  delete options.permissions;
  return { ...c, options, umaskMode: true, createMode };
}

/** The mode of the file at `p` (a link followed, as the write follows it), or 0o666 when there is none. */
function existingMode(p: string | URL): number {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(p, { throwIfNoEntry: false });
  } catch {
    return 0o666; // the write reports what is wrong with the path, if anything
  }
  return st !== undefined && st.isFile() ? st.mode & 0o777 : 0o666;
}

/** Runs attempt(c); each refused chown/chmod once more without it (at most one of each). */
function retrying<T>(c: Call, attempt: (c: Call) => T, chain: (r: T, again: (e: unknown) => T) => T, depth = 0): T {
  const again = (e: unknown): T => {
    const call = refused(e);
    if (call === null || depth >= 2) throw e;
    return retrying(without(c, call), attempt, chain, depth + 1);
  };
  let r: T;
  try {
    r = attempt(c);
  } catch (e) {
    return again(e);
  }
  return chain(r, again);
}

function runSync(c: Call): void {
  const atomicSync = c.umaskMode
    ? (p: string | URL, d: atomics.AtomicDataSync, o: WriteFileAtomicOptions) => atomics.writeFileAtomicUmaskModeSync(p, d, o, c.createMode)
    : atomics.writeFileAtomicSync;
  // tmpfileCreated must run once the temp file exists: the data is handed over as an iterable,
  // whose first step securetemp takes after creating the file.
  if (c.created === null) return atomicSync(c.path, c.bytes, c.options);
  const created = c.created;
  function* announced() {
    created(null);
    yield c.bytes;
  }
  atomicSync(c.path, announced(), c.options);
}

async function run(c: Call): Promise<void> {
  const atomic = c.umaskMode
    ? (p: string | URL, d: atomics.AtomicData, o: WriteFileAtomicOptions) => atomics.writeFileAtomicUmaskMode(p, d, o, c.createMode)
    : atomics.writeFileAtomic;
  if (c.created === null) return atomic(c.path, c.bytes, c.options);
  const created = c.created;
  async function* announced() {
    await created(null);
    yield c.bytes;
  }
  await atomic(c.path, announced(), c.options);
}

async function writeAsync(filename: unknown, data: unknown, options: unknown): Promise<void> {
  const c = prepare(filename, data, options);
  // The caller's bytes as they are now, in memory of ours: every attempt (a retry without a
  // refused chown/chmod, the iterable behind tmpfileCreated) runs later, and the caller may
  // shrink or transfer its buffer meanwhile (ninth outside review: an empty file committed).
  if (ArrayBuffer.isView(data)) c.bytes = ownCopy(plainBytes(c.bytes)!);
  return retrying(c, run, (p, again) => p.catch(again));
}

/**
 * Replaces `filename` atomically with `data` (a string, bytes; null/undefined: empty; anything
 * else String(data)). Returns a Promise; with a callback, it is called with the error (or
 * undefined) and the Promise resolves to what it returns.
 */
function writeFileAtomic(filename: string | URL, data: types.WriteFileAtomicData, options?: types.WriteFileAtomicOptions | BufferEncoding | null): Promise<void>;
function writeFileAtomic(filename: string | URL, data: types.WriteFileAtomicData, callback: types.WriteFileAtomicCallback): Promise<unknown>;
function writeFileAtomic(
  filename: string | URL,
  data: types.WriteFileAtomicData,
  options: types.WriteFileAtomicOptions | BufferEncoding | null | undefined,
  callback: types.WriteFileAtomicCallback,
): Promise<unknown>;
function writeFileAtomic(filename: string | URL, data: types.WriteFileAtomicData, options?: unknown, callback?: types.WriteFileAtomicCallback): Promise<unknown> {
  if (typeof options === 'function') {
    callback = options as types.WriteFileAtomicCallback;
    options = {};
  }
  const p = writeAsync(filename, data, options);
  if (typeof callback !== 'function') return p;
  const cb = callback;
  return p.then(
    () => cb(undefined),
    (err: Error) => cb(err),
  );
}

/** The synchronous form. */
function writeFileAtomicSync(filename: string | URL, data: types.WriteFileAtomicData, options?: types.WriteFileAtomicOptions | BufferEncoding | null): void {
  const c = prepare(filename, data, options);
  retrying(c, runSync, () => undefined);
}

/** The synchronous form. */
writeFileAtomic.sync = writeFileAtomicSync;

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace writeFileAtomic {
  /** write-file-atomic's options (an encoding name is also taken in their place). */
  export type Options = types.WriteFileAtomicOptions;
}

export = writeFileAtomic;
