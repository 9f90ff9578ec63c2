/// <reference types="node" preserve="true" />
// TemporaryDirectory: a mkdtemp directory that removes itself (dispose, cleanup(), exit).
import * as fs from 'node:fs';
import { native, KIND_DIR } from './_binding';
import { nativeArgs } from './create';
import { checkBoolean, checkOptionsObject, checkPermissions, joinPath, resolveNameOptions, NAME_KEYS, type CreateOptions } from './_options';
import { EXIT_TREE, removeTree, removeTreeSync, track, untrack, type Removable } from './_lifetime';

export interface TemporaryDirectoryOptions extends CreateOptions {
  /** Permission bits, narrowed by the umask (default 0o700). */
  permissions?: number;
  /** Do not throw when removal fails (default false). */
  ignoreCleanupErrors?: boolean;
  /** Remove on dispose and at exit (default true). cleanup() always removes. */
  delete?: boolean;
}

/** Only this module (and the test switches) may make a TempDir: it removes whatever path it holds. */
const INTERNAL = Symbol('securetemp.TempDir');

const KEYS = [...NAME_KEYS, 'permissions', 'ignoreCleanupErrors', 'delete'] as const;

export class TempDir implements Removable {
  /** The directory's absolute path. */
  readonly path: string;
  readonly #ignoreErrors: boolean;
  readonly #delete: boolean;
  #done = false;

  /** @internal Use TemporaryDirectory() / TemporaryDirectorySync(). */
  constructor(token: symbol, path: string, ignoreErrors: boolean, del: boolean) {
    if (token !== INTERNAL) {
      throw Object.assign(new TypeError('Illegal constructor: use TemporaryDirectory() or TemporaryDirectorySync()'), {
        code: 'ERR_ILLEGAL_CONSTRUCTOR',
      });
    }
    this.path = path;
    this.#ignoreErrors = ignoreErrors;
    this.#delete = del;
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

  /**
   * Removes the directory and everything in it, never following a link out of it.
   * Removes all it can, then throws the first failure (unless ignoreCleanupErrors).
   * A second call does nothing.
   */
  cleanupSync(): void {
    if (!this.#start()) return;
    try {
      removeTreeSync(this.path);
    } catch (e) {
      if (!this.#ignoreErrors) throw e;
    }
  }

  async cleanup(): Promise<void> {
    if (!this.#start()) return;
    try {
      await removeTree(this.path);
    } catch (e) {
      if (!this.#ignoreErrors) throw e;
    }
  }

  /** @internal */
  removeAtExit(): void {
    if (this.#delete) this.cleanupSync();
  }

  /** @internal A worker's exit: removed at the process's exit instead (see Removable). */
  handOver(): void {
    if (!this.#delete || !this.#start()) return;
    // Its identity now, so that a path swapped between now and the process's exit removes nothing.
    const st = fs.lstatSync(this.path, { throwIfNoEntry: false });
    if (st === undefined || !st.isDirectory()) return; // gone, or no longer a directory of ours
    native.removeAtProcessExit(EXIT_TREE, this.path, st.dev, st.ino);
  }

  [Symbol.dispose](): void {
    if (this.#delete) this.cleanupSync();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#delete) await this.cleanup();
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
  return { r, args: nativeArgs(r, KIND_DIR, perms), ignore, del };
}

/** A new private directory (mkdtemp) removed by cleanup(), dispose, or at exit. */
export function TemporaryDirectorySync(options?: TemporaryDirectoryOptions): TempDir {
  const p = prepare(options);
  return new TempDir(INTERNAL, joinPath(p.r.dir, native.createSync(...p.args)), p.ignore, p.del);
}

export async function TemporaryDirectory(options?: TemporaryDirectoryOptions): Promise<TempDir> {
  const p = prepare(options);
  return new TempDir(INTERNAL, joinPath(p.r.dir, await native.create(...p.args)), p.ignore, p.del);
}

/** For tests: a TempDir for an existing path. */
export function adoptDir(path: string, ignoreErrors: boolean, del: boolean): TempDir {
  return new TempDir(INTERNAL, path, ignoreErrors, del);
}
