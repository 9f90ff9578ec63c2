// securetemp/tmp: npm tmp's API (file, fileSync, dir, dirSync, tmpName, tmpNameSync,
// setGracefulCleanup, tmpdir) on securetemp's creation: O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC
// (mkdirat for directories) relative to one handle of a directory checked to be inside the
// temporary directory, CSPRNG names, and options that could escape it refused with a TypeError.
import * as fs from 'node:fs';
import { native, KIND_DIR, KIND_FILE } from '../_binding';
import { invalidArgType, systemError } from '../_errors';
import { joinPath } from '../_options';
import { EXIT_EMPTY_DIR, EXIT_FILE, EXIT_TREE, removeTree, removeTreeSync, track, unlinkIfSame, warnAtExit, type Removable } from '../_lifetime';
import { outsideOnOpen, parse, place, placeSync, splitArgs, tmpdirSync, type Parsed, type Place } from './_tmp-options';
import type * as types from './_types';
import { closeNativeFdAsync, closeNativeFdSync } from '../_close';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

// --- what is removed, by its removeCallback or at exit after setGracefulCleanup() ---------

interface Entry {
  removeSync(): void;
  remove(): Promise<void>;
  /** A worker's exit: the descriptor closed, the name removed at the process's exit. */
  handOver(): void;
}

/** Not yet removed and not `keep`; removed newest first at exit, as tmp does (files before their directory). */
const live = new Set<Entry>();
let graceful = false;

/** Errors that leave nothing to report at exit: already gone, or a directory tmp leaves when not empty. */
const EXPECTED_AT_EXIT = new Set(['ENOENT', 'ENOTEMPTY', 'EEXIST']);

const atExit: Removable = {
  removeAtExit(): void {
    if (!graceful) return; // tmp leaves everything in place unless asked
    for (const e of [...live].reverse()) {
      live.delete(e);
      try {
        e.removeSync();
      } catch (err) {
        if (EXPECTED_AT_EXIT.has((err as NodeJS.ErrnoException).code ?? '')) continue;
        warnAtExit(err, 'securetemp/tmp');
      }
    }
  },
  handOver(): void {
    if (!graceful) return;
    for (const e of [...live]) {
      live.delete(e);
      e.handOver(); // in creation order: the addon removes newest first
    }
  },
};

function register(e: Entry): void {
  live.add(e);
  track(atExit); // installs the exit hook with the first entry; a no-op after that
}

function isCode(e: unknown, ...codes: string[]): boolean {
  return codes.includes((e as NodeJS.ErrnoException | null)?.code ?? '');
}

/** The file's identity, so a name or descriptor number that now means another file is left alone. */
interface Identity {
  dev: number;
  ino: number;
}

function same(st: fs.Stats, id: Identity): boolean {
  return st.dev === id.dev && st.ino === id.ino;
}

/** fstat failed otherwise than EBADF: the descriptor is open, its file unknown. */
const UNKNOWN = {} as fs.Stats;

class FileEntry implements Entry {
  /** @param fd ours to close at removal, or -1 (discarded or detached) */
  constructor(
    readonly path: string,
    private fd: number,
    private readonly id: Identity,
  ) {}

  /** The descriptor, if its number still refers to our file (the caller may have closed it and the number been reused). */
  #takeFd(stat: (fd: number) => fs.Stats | null): number {
    const fd = this.fd;
    this.fd = -1;
    if (fd < 0) return -1;
    const st = stat(fd);
    return st !== null && (st === UNKNOWN || same(st, this.id)) ? fd : -1;
  }

  // fstat failing otherwise than EBADF (EIO) says the number is still open, but not which file
  // it holds: it is taken for ours (a number the caller closed and someone reused, on a failing
  // disk, is far less likely than our own file there). Throwing there leaked the descriptor and
  // skipped the unlink (test/faults).
  #closeSync(): void {
    const fd = this.#takeFd((n) => {
      try {
        return fs.fstatSync(n);
      } catch (e) {
        return isCode(e, 'EBADF') ? null : UNKNOWN;
      }
    });
    if (fd >= 0) closeNativeFdSync(fd);
  }

  removeSync(): void {
    try {
      this.#closeSync();
    } finally {
      unlinkIfSame(this.path, this.id.dev, this.id.ino);
    }
  }

  handOver(): void {
    try {
      this.#closeSync();
    } finally {
      native.removeAtProcessExit(EXIT_FILE, this.path, this.id.dev, this.id.ino);
    }
  }

  async remove(): Promise<void> {
    let st: fs.Stats | null = null;
    if (this.fd >= 0) {
      st = await new Promise<fs.Stats | null>((resolve) =>
        fs.fstat(this.fd, (err, s) => resolve(err ? (isCode(err, 'EBADF') ? null : UNKNOWN) : s)),
      );
    }
    const fd = this.#takeFd(() => st);
    try {
      if (fd >= 0) await closeNativeFdAsync(fd);
    } finally {
      await unlinkIfSameAsync(this.path, this.id);
    }
  }
}

async function unlinkIfSameAsync(p: string, id: Identity): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(p);
  } catch (e) {
    if (isCode(e, 'ENOENT')) return; // already gone
    throw e;
  }
  if (!same(st, id)) return; // not ours any more
  try {
    await fs.promises.unlink(p);
  } catch (e) {
    if (!isCode(e, 'ENOENT')) throw e;
  }
}

class DirEntry implements Entry {
  /** @param id the directory's identity as the addon read it from its proven handle, or null (Windows) */
  constructor(
    readonly path: string,
    private readonly unsafeCleanup: boolean,
    private readonly id: Identity | null,
  ) {}

  /**
   * Whether the path leads to another directory than ours now (a component swapped for a link
   * since: the removal would be redirected there). Then nothing is removed, as for a file.
   */
  #replaced(st: fs.Stats | undefined): boolean {
    // A file now, even one that reuses our directory's inode number, is not ours.
    return this.id !== null && st !== undefined && (!st.isDirectory() || !same(st, this.id));
  }

  handOver(): void {
    native.removeAtProcessExit(this.unsafeCleanup ? EXIT_TREE : EXIT_EMPTY_DIR, this.path, this.id?.dev ?? -1, this.id?.ino ?? -1);
  }

  /** unsafeCleanup: securetemp's removal (never follows a link out); else rmdir, which fails when not empty. */
  removeSync(): void {
    if (this.#replaced(fs.lstatSync(this.path, { throwIfNoEntry: false }))) return;
    if (this.unsafeCleanup) removeTreeSync(this.path);
    else fs.rmdirSync(this.path);
  }

  async remove(): Promise<void> {
    let st: fs.Stats | undefined;
    try {
      st = await fs.promises.lstat(this.path);
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e;
    }
    if (this.#replaced(st)) return;
    return this.unsafeCleanup ? removeTree(this.path) : fs.promises.rmdir(this.path);
  }
}

/** The two removal functions handed out for `e`; each runs once, later calls do nothing (tmp's guard). */
function once(e: Entry): { removeCallback: types.RemoveCallback; cleanupCallback: types.CleanupCallback } {
  let called = false;
  const start = (): boolean => {
    if (called) return false;
    called = true;
    live.delete(e);
    return true;
  };
  return {
    removeCallback(): void {
      if (start()) e.removeSync();
    },
    cleanupCallback(next?: (err?: Error | null) => void): void {
      if (!start()) return;
      e.remove().then(
        () => {
          // as tmp: a file's next() gets no argument, a directory's gets fs.rmdir's null
          if (next) process.nextTick(e instanceof FileEntry ? next : () => next(null));
        },
        (err: Error) => {
          // tmp drops the error when no callback was given; it is reported instead
          if (next) process.nextTick(next, err);
          else process.emitWarning(`securetemp/tmp: cleanup failed: ${err.message}`, 'CleanupWarning');
        },
      );
    },
  };
}

// --- the API -----------------------------------------------------------------------------

function checkCallback(cb: unknown): void {
  if (typeof cb !== 'function') throw invalidArgType('callback', 'a function', cb);
}

/** Calls back from a fresh tick, so an exception in the callback is not turned into a rejection. */
function settle<A extends unknown[]>(work: () => Promise<A>, cb: (err: Error | null, ...args: A) => void): void {
  const call = cb as (err: Error | null, ...args: unknown[]) => void;
  work().then(
    (args) => process.nextTick(() => call(null, ...args)),
    (err: Error) => process.nextTick(() => call(err)),
  );
}

// The directory goes to the addon relative to the root, with the root as `beneath`: it is
// opened from the root's handle and proven inside before anything is created in it.
function fileArgs(p: Parsed, w: Place) {
  return [w.rel, '', '', KIND_FILE, 0, p.mode ?? FILE_MODE, p.names(), w.root] as const;
}

function dirArgs(p: Parsed, w: Place) {
  return [w.rel, '', '', KIND_DIR, 0, p.mode ?? DIR_MODE, p.names(), w.root] as const;
}

/** What the addon gives for a directory made with `beneath`: its name, device and inode (-1: unknown). */
type DirMade = [name: string, dev: number, ino: number];

function dirEntry(p: Parsed, w: Place, [name, dev, ino]: DirMade): DirEntry {
  const e = new DirEntry(joinPath(w.where, name), p.unsafeCleanup, dev === -1 ? null : { dev, ino });
  if (!p.keep) register(e);
  return e;
}

/** Runs a synchronous creation, with the escape found on the handle reported as tmp's TypeError. */
function created<T>(p: Parsed, w: Place, make: () => T): T {
  try {
    return make();
  } catch (e) {
    throw outsideOnOpen(p, w, e);
  }
}

async function createdAsync<T>(p: Parsed, w: Place, make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (e) {
    throw outsideOnOpen(p, w, e);
  }
}

/** A new file's removal: it closes the descriptor only when it is still ours (not discarded or detached). */
function fileEntry(p: Parsed, path: string, fd: number, st: fs.Stats): Entry {
  const owned = !p.discardDescriptor && !p.detachDescriptor;
  const e = new FileEntry(path, owned ? fd : -1, { dev: st.dev, ino: st.ino });
  if (!p.keep) register(e);
  return e;
}

/** A file we could not hand out is closed and removed before the error is thrown. */
function undoSync(fd: number, path: string, err: unknown): never {
  try {
    closeNativeFdSync(fd);
    fs.unlinkSync(path);
  } catch (e2) {
    if (typeof err === 'object' && err !== null) (err as { cleanupError?: unknown }).cleanupError = e2;
  }
  throw err;
}

/**
 * Creates a file (exclusively, 0600 & ~umask unless `mode`) and calls back with its path, its
 * descriptor (undefined with `discardDescriptor`) and a cleanup function that closes the
 * descriptor (unless detached or discarded) and removes the file if its name still leads to it.
 */
function file(callback: types.FileCallback): void;
function file(options: types.FileOptions | undefined | null, callback: types.FileCallback): void;
function file(options: unknown, callback?: types.FileCallback): void {
  const [o, cb] = splitArgs(options, callback);
  checkCallback(cb);
  settle(async (): Promise<[string, number, types.CleanupCallback]> => {
    const p = parse(o);
    const w = await place(p);
    const [fd, name] = await createdAsync(p, w, () => native.create(...fileArgs(p, w)));
    const path = joinPath(w.where, name);
    let st: fs.Stats;
    try {
      st = await new Promise<fs.Stats>((resolve, reject) => fs.fstat(fd, (err, s) => (err ? reject(err) : resolve(s))));
      if (p.discardDescriptor) await closeNativeFdAsync(fd);
    } catch (err) {
      undoSync(fd, path, err);
    }
    const e = fileEntry(p, path, fd, st);
    return [path, p.discardDescriptor ? (undefined as unknown as number) : fd, once(e).cleanupCallback];
  }, cb as types.FileCallback);
}

/** The synchronous form: `{name, fd, removeCallback}`. */
function fileSync(options?: types.FileOptions | null): types.FileResult {
  const [o] = splitArgs(options, undefined);
  const p = parse(o);
  const w = placeSync(p);
  const [fd, name] = created(p, w, () => native.createSync(...fileArgs(p, w)));
  const path = joinPath(w.where, name);
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
    if (p.discardDescriptor) closeNativeFdSync(fd);
  } catch (err) {
    undoSync(fd, path, err);
  }
  const e = fileEntry(p, path, fd, st);
  return { name: path, fd: p.discardDescriptor ? (undefined as unknown as number) : fd, removeCallback: once(e).removeCallback };
}

/**
 * Creates a directory (0700 & ~umask unless `mode`) and calls back with its path and a cleanup
 * function: rmdir (fails when not empty), or with `unsafeCleanup` removal of everything in it.
 */
function dir(callback: types.DirCallback): void;
function dir(options: types.DirOptions | undefined | null, callback: types.DirCallback): void;
function dir(options: unknown, callback?: types.DirCallback): void {
  const [o, cb] = splitArgs(options, callback);
  checkCallback(cb);
  settle(async (): Promise<[string, types.CleanupCallback]> => {
    const p = parse(o);
    const w = await place(p);
    const made = (await createdAsync(p, w, () => native.create(...dirArgs(p, w)))) as unknown as DirMade;
    const e = dirEntry(p, w, made);
    return [e.path, once(e).cleanupCallback];
  }, cb as types.DirCallback);
}

/** The synchronous form: `{name, removeCallback}`. */
function dirSync(options?: types.DirOptions | null): types.DirResult {
  const [o] = splitArgs(options, undefined);
  const p = parse(o);
  const w = placeSync(p);
  const e = dirEntry(p, w, created(p, w, () => native.createSync(...dirArgs(p, w))) as unknown as DirMade);
  return { name: e.path, removeCallback: once(e).removeCallback };
}

function exhausted(dir: string): NodeJS.ErrnoException {
  return systemError('EEXIST', 'tmpName', dir, 'Could not get a unique tmp filename, max tries reached');
}

/**
 * A path that did not exist when it was checked (lstat: a dangling link counts as existing).
 * Creates nothing, so another process may take the name first: prefer file()/dir(). The
 * directory is checked to be inside tmpdir by path only, as it can only be: the caller gets a
 * path and uses it by name later, when whoever owns a directory on it may have swapped a
 * component (SECURITY.md). Nothing here opens or creates through it.
 */
function tmpName(callback: types.TmpNameCallback): void;
function tmpName(options: types.TmpNameOptions | undefined | null, callback: types.TmpNameCallback): void;
function tmpName(options: unknown, callback?: types.TmpNameCallback): void {
  const [o, cb] = splitArgs(options, callback);
  checkCallback(cb);
  settle(async (): Promise<[string]> => {
    const p = parse(o);
    const dir = (await place(p)).where;
    for (const name of p.names()) {
      const candidate = joinPath(dir, name);
      try {
        await fs.promises.lstat(candidate);
      } catch (e) {
        if (isCode(e, 'ENOENT')) return [candidate];
        throw e;
      }
    }
    throw exhausted(dir);
  }, cb as types.TmpNameCallback);
}

/** As tmpName, returning the name. */
function tmpNameSync(options?: types.TmpNameOptions | null): string {
  const [o] = splitArgs(options, undefined);
  const p = parse(o);
  const dir = placeSync(p).where;
  for (const name of p.names()) {
    const candidate = joinPath(dir, name);
    if (fs.lstatSync(candidate, { throwIfNoEntry: false }) === undefined) return candidate;
  }
  throw exhausted(dir);
}

/**
 * Remove, at exit, every file and directory not yet removed and not `keep` (newest first; a
 * directory that is not empty and not `unsafeCleanup` stays). Without this call tmp, and this
 * module, leave them in place.
 */
function setGracefulCleanup(): void {
  graceful = true;
}

const tmp = {
  /** The root temporary directory: os.tmpdir(), realpath'd, read at each access. */
  get tmpdir(): string {
    return tmpdirSync();
  },
  file,
  fileSync,
  dir,
  dirSync,
  tmpName,
  tmpNameSync,
  setGracefulCleanup,
};

// The types @types/tmp gives, reachable as tmp.FileOptions etc. from both module systems.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace tmp {
  export type TmpNameOptions = types.TmpNameOptions;
  export type FileOptions = types.FileOptions;
  export type DirOptions = types.DirOptions;
  export type FileResult = types.FileResult;
  export type DirResult = types.DirResult;
  export type FileCallback = types.FileCallback;
  export type DirCallback = types.DirCallback;
  export type TmpNameCallback = types.TmpNameCallback;
  export type RemoveCallback = types.RemoveCallback;
  export type CleanupCallback = types.CleanupCallback;
}

export = tmp;
