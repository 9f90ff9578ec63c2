// persist and reopen: a TempFile given a permanent name, or opened a second time.
// TempFile's methods check their state and flush; the system calls are here.
import * as fs from 'node:fs';
import { native, MOVE_NOREPLACE } from './_binding';
import { checkBoolean, checkFilePath, checkOptionsObject, hiddenPrefix } from './_options';
import { candidateNames } from './_names';
import { systemError, type CodedError } from './_errors';
import { internals } from './_internals';
import { releaseDir } from './_lifetime';
import type { FileState } from './tempfile';

/** Options of TempFile.persist()/persistSync(). */
export interface PersistOptions {
  /** Replace an existing target (default true); false: EEXIST, target untouched. */
  overwrite?: boolean;
}

export interface PersistArgs {
  path: string;
  dir: string;
  name: string;
  flags: number;
}

export function persistArgs(target: unknown, options: unknown): PersistArgs {
  const o = checkOptionsObject('options', options, ['overwrite']);
  const overwrite = checkBoolean('overwrite', o.overwrite, true);
  return { ...checkFilePath('targetPath', target), flags: overwrite ? 0 : MOVE_NOREPLACE };
}

/**
 * Registers how to stop treating `s` as temporary besides clearing its close hook (a named
 * file's exit registration), undone when it is persisted. Kept on the state: a WeakMap's set
 * was a measurable part of NamedTemporaryFileSync (bench/create.mjs).
 */
export function onPersist(s: FileState, keep: () => void): void {
  s.onPersist = keep;
}

function madePermanent(s: FileState, path: string): void {
  releaseDir(s); // its name is the target's now, in the target's directory
  s.path = path;
  s.beforeClose = null;
  const keep = s.onPersist;
  s.onPersist = null;
  keep?.();
}

export function replaced(path: string): CodedError {
  const e = new Error(
    `the temporary file '${path}' was replaced: that name no longer leads to the file this object ` +
      'holds (a temp cleaner or another process removed or swapped it)',
  ) as CodedError & { path: string };
  e.code = 'ERR_TEMPFILE_REPLACED';
  e.path = path;
  return e;
}

function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

// A named file is renamed by its name: refuse when that name leads elsewhere now,
// rather than move someone else's file into place.
function checkName(s: FileState, path: string): void {
  const named = fs.lstatSync(path, { throwIfNoEntry: false });
  if (named === undefined || !sameFile(named, fs.fstatSync(s.fd))) throw replaced(path);
}

function linkArgs(s: FileState, a: PersistArgs) {
  const prefix = hiddenPrefix(a.name);
  return [s.fd, a.dir, a.name, a.flags, prefix, '.tmp', candidateNames(prefix, '.tmp')] as const;
}

/** A named file with a held directory handle: persisted through it (issue 12). */
function persistAtArgs(s: FileState, a: PersistArgs) {
  const prefix = hiddenPrefix(a.name);
  const d = s.dir!;
  return [d.handle, d.name, s.path!, s.fd, a.dir, a.name, a.flags, prefix, '.tmp', candidateNames(prefix, '.tmp')] as const;
}

export function persistStateSync(s: FileState, a: PersistArgs): void {
  if (s.path !== null && s.dir !== null) {
    native.persistAtSync(...persistAtArgs(s, a));
  } else if (s.path !== null) {
    checkName(s, s.path);
    native.renameSync(s.path, a.dir, a.name, a.flags);
  } else {
    native.linkFdSync(...linkArgs(s, a));
  }
  madePermanent(s, a.path);
}

export async function persistState(s: FileState, a: PersistArgs): Promise<void> {
  if (s.path !== null && s.dir !== null) {
    await native.persistAt(...persistAtArgs(s, a));
  } else if (s.path !== null) {
    checkName(s, s.path); // two cheap stats, not worth two thread-pool trips
    await native.rename(s.path, a.dir, a.name, a.flags);
  } else {
    await native.linkFd(...linkArgs(s, a));
  }
  madePermanent(s, a.path);
}

// Linux reopens through the descriptor: /proc/self/fd/N leads to the file itself, named
// or not, whatever happened to its name. Elsewhere the name is opened and checked.
const BY_DESCRIPTOR = process.platform === 'linux';
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

function byPath(s: FileState): string {
  if (s.path === null) {
    throw systemError(
      'ENOTSUP',
      'open',
      `<fd ${s.fd}>`,
      'an unnamed temporary file can be reopened only through /proc/self/fd (Linux)',
    );
  }
  return s.path;
}

function openError(e: unknown, path: string): unknown {
  // O_NOFOLLOW: a link now stands where our file was.
  return (e as NodeJS.ErrnoException).code === 'ELOOP' ? replaced(path) : e;
}

function procFailed(e: unknown, s: FileState): void {
  // No /proc mounted (some containers): a named file can still go by its name.
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || s.path === null) throw e;
}

/**
 * Off Linux, a named file with a held directory handle (issue 12): openat(handle, name,
 * O_RDWR|O_NOFOLLOW), kept only if it is the file the object holds (device and inode).
 */
function reopenAt(s: FileState, path: string): number {
  const fd = native.reopenAtSync(s.dir!.handle, s.dir!.name, s.fd, path);
  if (fd < 0) throw replaced(path);
  return fd;
}

/** A new read-write descriptor on the file `s` holds. */
export function reopenFdSync(s: FileState): number {
  if (BY_DESCRIPTOR && !internals.forceReopenByPath) {
    try {
      return fs.openSync(`/proc/self/fd/${s.fd}`, fs.constants.O_RDWR);
    } catch (e) {
      procFailed(e, s);
    }
  }
  const path = byPath(s);
  if (s.dir !== null) return reopenAt(s, path);
  const ours = fs.fstatSync(s.fd);
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDWR | O_NOFOLLOW);
  } catch (e) {
    throw openError(e, path);
  }
  let same = false;
  try {
    same = sameFile(fs.fstatSync(fd), ours);
  } finally {
    if (!same) fs.closeSync(fd);
  }
  if (!same) throw replaced(path);
  return fd;
}

function call<T>(f: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

export async function reopenFd(s: FileState): Promise<number> {
  if (BY_DESCRIPTOR && !internals.forceReopenByPath) {
    try {
      return await call<number>((cb) => fs.open(`/proc/self/fd/${s.fd}`, fs.constants.O_RDWR, cb));
    } catch (e) {
      procFailed(e, s);
    }
  }
  const path = byPath(s);
  if (s.dir !== null) return reopenAt(s, path); // one openat and two fstats: not worth a pool trip
  const ours = await call<fs.Stats>((cb) => fs.fstat(s.fd, cb));
  let fd: number;
  try {
    fd = await call<number>((cb) => fs.open(path, fs.constants.O_RDWR | O_NOFOLLOW, cb));
  } catch (e) {
    throw openError(e, path);
  }
  let same = false;
  try {
    same = sameFile(await call<fs.Stats>((cb) => fs.fstat(fd, cb)), ours);
  } finally {
    if (!same) await call<void>((cb) => fs.close(fd, (err) => cb(err, undefined)));
  }
  if (!same) throw replaced(path);
  return fd;
}
