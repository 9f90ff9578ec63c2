/// <reference types="node" preserve="true" />
// TemporaryDirectory: a mkdtemp directory that removes itself (dispose, cleanup(), exit).
import * as fs from 'node:fs';
import { native, KIND_DIR, FLAG_HOLD } from './_binding';
import { nativeArgs } from './create';
import { checkBoolean, checkOptionsObject, checkPermissions, joinPath, resolveNameOptions, NAME_KEYS, type CreateOptions } from './_options';
import { EXIT_TREE, removeTree, removeTreeSync, track, untrack, type ExitReason, type Removable } from './_lifetime';
import { publishCleanupError, publishCreate, publishRemove, type RemoveReason } from './_diagnostics';

export interface TemporaryDirectoryOptions extends CreateOptions {
  /** Permission bits, narrowed by the umask (default 0o700). */
  permissions?: number;
  /** Do not throw when removal fails (default false). */
  ignoreCleanupErrors?: boolean;
  /** Remove on dispose and at exit (default true). cleanup() always removes. */
  delete?: boolean;
}

function outOfDescriptors(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** Only this module (and the test switches) may make a TempDir: it removes whatever path it holds. */
const INTERNAL = Symbol('securetemp.TempDir');

/**
 * A directory's handles in the addon's table: its parent's (where it was made) and its own,
 * and its name in the parent. Null where it has none (a directory off Linux we may not read, adoptDir): removal by path.
 */
interface Pinned {
  parent: number;
  own: number;
  name: string;
}

function release(p: Pinned): void {
  native.dirRelease(p.parent);
  native.dirRelease(p.own);
}

// A TempDir dropped without cleanup (delete: false) gives its handles back when collected.
const dropped = new FinalizationRegistry<Pinned>(release);

const KEYS = [...NAME_KEYS, 'permissions', 'ignoreCleanupErrors', 'delete'] as const;

/**
 * A private temporary directory (0700, made by mkdtemp) that removes itself with everything in
 * it: cleanup()/cleanupSync(), dispose (`using`), or at exit. Made by TemporaryDirectory() and
 * TemporaryDirectorySync(), never with `new`.
 */
export class TempDir implements Removable {
  /** The directory's absolute path. */
  readonly path: string;
  readonly #ignoreErrors: boolean;
  readonly #delete: boolean;
  #done = false;
  #pinned: Pinned | null;

  /** @internal Use TemporaryDirectory() / TemporaryDirectorySync(). */
  constructor(token: symbol, path: string, ignoreErrors: boolean, del: boolean, pinned: Pinned | null = null) {
    if (token !== INTERNAL) {
      throw Object.assign(new TypeError('Illegal constructor: use TemporaryDirectory() or TemporaryDirectorySync()'), {
        code: 'ERR_ILLEGAL_CONSTRUCTOR',
      });
    }
    this.path = path;
    this.#ignoreErrors = ignoreErrors;
    this.#delete = del;
    this.#pinned = pinned;
    if (pinned !== null) dropped.register(this, pinned, this);
    publishCreate('TemporaryDirectory', path, -1);
    if (del) track(this);
  }

  /** Python compatibility: the path. */
  get name(): string {
    return this.path;
  }

  /** True once cleanup has run. */
  get cleaned(): boolean {
    return this.#done;
  }

  #start(): boolean {
    if (this.#done) return false;
    this.#done = true;
    untrack(this);
    return true;
  }

  /** The handles, once: from now on this object gives them back itself. */
  #takePinned(): Pinned | null {
    const p = this.#pinned;
    this.#pinned = null;
    if (p !== null) dropped.unregister(this);
    return p;
  }

  /**
   * Removes the directory and everything in it, never following a link out of it.
   * Removes all it can, then throws the first failure (unless ignoreCleanupErrors).
   * A second call does nothing.
   */
  cleanupSync(): void {
    this.#cleanupSync('cleanup');
  }

  #failed(reason: RemoveReason, e: unknown): void {
    publishCleanupError('TemporaryDirectory', this.path, -1, reason, e);
    if (!this.#ignoreErrors) throw e;
  }

  #cleanupSync(reason: RemoveReason): void {
    if (!this.#start()) return;
    const p = this.#takePinned();
    let removed = false;
    try {
      // Through its handles: contents through its own, itself through its parent's while the
      // name is still ours. By path only where there are none (adoptDir).
      const remove = () => (p !== null ? native.removeTreeAtSync(p.parent, p.own, p.name, this.path) : removeTreeSync(this.path));
      try {
        remove();
      } catch (e) {
        // Out of descriptors while the table keeps idle directory handles: given back, then
        // tried once more (third outside review: the tree stayed, marked cleaned).
        if (!outOfDescriptors(e) || native.dirReleaseIdle() === 0) throw e;
        remove();
      }
      removed = true;
    } catch (e) {
      this.#failed(reason, e);
    } finally {
      if (p !== null) release(p);
      // A removal that failed is on securetemp:cleanup-error, not securetemp:remove, and the
      // directory stays counted as live: it is still there (fourth outside review).
      if (removed) publishRemove('TemporaryDirectory', this.path, -1, reason);
    }
  }

  /** As {@link TempDir.cleanupSync}, asynchronously. */
  async cleanup(): Promise<void> {
    return this.#cleanup('cleanup');
  }

  async #cleanup(reason: RemoveReason): Promise<void> {
    if (!this.#start()) return;
    const p = this.#takePinned();
    let removed = false;
    try {
      const remove = () => (p !== null ? native.removeTreeAt(p.parent, p.own, p.name, this.path) : removeTree(this.path));
      try {
        await remove();
      } catch (e) {
        if (!outOfDescriptors(e) || native.dirReleaseIdle() === 0) throw e;
        await remove();
      }
      removed = true;
    } catch (e) {
      this.#failed(reason, e);
    } finally {
      if (p !== null) release(p);
      if (removed) publishRemove('TemporaryDirectory', this.path, -1, reason);
    }
  }

  /** @internal */
  removeAtExit(reason: ExitReason): void {
    if (this.#delete) this.#cleanupSync(reason);
  }

  /** @internal A worker's exit: removed at the process's exit instead (see Removable). */
  handOver(): void {
    if (!this.#delete || !this.#start()) return;
    const p = this.#takePinned(); // the worker's handles are given back; the path is handed over
    try {
      // Its identity now, so that a path swapped between now and the process's exit removes nothing.
      const st = fs.lstatSync(this.path, { throwIfNoEntry: false });
      if (st === undefined || !st.isDirectory()) return; // gone, or no longer a directory of ours
      native.removeAtProcessExit(EXIT_TREE, this.path, st.dev, st.ino);
    } finally {
      if (p !== null) release(p);
      publishRemove('TemporaryDirectory', this.path, -1, 'exit');
    }
  }

  /** `using d = TemporaryDirectorySync()`: cleanupSync() at the end of the scope, unless `delete: false`. */
  [Symbol.dispose](): void {
    if (this.#delete) this.#cleanupSync('dispose');
  }

  /** `await using d = await TemporaryDirectory()`: cleanup() at the end of the scope, unless `delete: false`. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#delete) await this.#cleanup('dispose');
  }

  toString(): string {
    return this.path;
  }
}

function prepare(options: unknown) {
  const o = checkOptionsObject('options', options, KEYS);
  const perms = checkPermissions(o.permissions, 0o700);
  const ignore = checkBoolean('ignoreCleanupErrors', o.ignoreCleanupErrors, false);
  const del = checkBoolean('delete', o.delete, true);
  const r = resolveNameOptions(o);
  return { r, args: nativeArgs({ ...r, flags: r.flags | FLAG_HOLD }, KIND_DIR, perms), ignore, del };
}

/** What a creation with FLAG_HOLD gives for a directory: its parent's handle and its own (0: none). */
type HeldDir = [name: string, parent: number, own: number];

function make(p: ReturnType<typeof prepare>, res: unknown): TempDir {
  const [name, parent, own] = res as HeldDir;
  const pinned = parent !== 0 && own !== 0 ? { parent, own, name } : null;
  // No handle of its own (off Linux, a directory we may not read): removed by path.
  if (pinned === null && parent !== 0) native.dirRelease(parent);
  return new TempDir(INTERNAL, joinPath(p.r.dir, name), p.ignore, p.del, pinned);
}

/** A new private directory (mkdtemp) removed by cleanup(), dispose, or at exit. */
export function TemporaryDirectorySync(options?: TemporaryDirectoryOptions): TempDir {
  const p = prepare(options);
  return make(p, native.createSync(...p.args));
}

/** As {@link TemporaryDirectorySync}, asynchronously. */
export async function TemporaryDirectory(options?: TemporaryDirectoryOptions): Promise<TempDir> {
  const p = prepare(options);
  return make(p, await native.create(...p.args));
}

/** For tests: a TempDir for an existing path. */
export function adoptDir(path: string, ignoreErrors: boolean, del: boolean): TempDir {
  return new TempDir(INTERNAL, path, ignoreErrors, del);
}
