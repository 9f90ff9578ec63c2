// NamedTemporaryFile: a TempFile with a visible path, removed on close, on garbage
// collection and at exit when delete is true.
import * as fs from 'node:fs';
import { addonNow, native, KIND_FILE, FLAG_HOLD } from './_binding';
import { checkBoolean, checkOptionsObject, checkPermissions, joinPath } from './_options';
import { fileArgs, nativeArgs, FILE_KEYS, type FileArgs, type TemporaryFileOptions } from './create';
import { EXIT_FILE, track, unlinkIfSame, untrack, type DirRef, type Removable } from './_lifetime';
import { onPersist } from './persist';
import { TempFile, type FileState } from './tempfile';
import { publishCleanupError } from './_diagnostics';
import { gone } from './tempfile';

export interface NamedTemporaryFileOptions extends TemporaryFileOptions {
  /** Remove the file on close, garbage collection and exit (default true). */
  delete?: boolean;
  /** Permission bits, narrowed by the umask (default 0o600). */
  permissions?: number;
}

const KEYS = [...FILE_KEYS, 'delete', 'permissions'] as const;

/** What a creation with FLAG_HOLD gives for a named file: its directory's handle too (0: none). */
type HeldFile = [fd: number, name: string, handle: number];

/**
 * Removes the file the state names, if that name still leads to the file the descriptor holds:
 * through the handle of the directory it was made in (fstatat, device and inode, unlinkat), so
 * the path is never resolved again (on Windows: the name opened relative to the held HANDLE,
 * volume and file index compared, deleted through that handle). By path (lstat, then unlink)
 * only where the object holds no handle.
 */
function removeNamed(s: FileState): void {
  if (s.path === null || s.fd < 0) return;
  if (s.dir !== null && s.dir.handle !== 0) {
    addonNow().unlinkAtSync(s.dir.handle, s.dir.name, s.fd, s.path);
    return;
  }
  const st = fs.fstatSync(s.fd);
  unlinkIfSame(s.path, st.dev, st.ino);
}

function prepare(options: unknown) {
  const o = checkOptionsObject('options', options, KEYS);
  const del = checkBoolean('delete', o.delete, true);
  const perms = checkPermissions(o.permissions, 0o600);
  const f = fileArgs(o);
  // The file keeps the handle of its directory (FLAG_HOLD).
  // Written out, not spread ({...f.r, flags}): an object spread here cost as much as a system call.
  const r = { dir: f.r.dir, prefix: f.r.prefix, suffix: f.r.suffix, flags: f.r.flags | FLAG_HOLD };
  return { f, del, args: nativeArgs(r, KIND_FILE, perms) };
}

function make(f: FileArgs, del: boolean, fd: number, name: string, handle: number): TempFile {
  const path = joinPath(f.r.dir, name);
  let removable: Removable | null = null;
  let handedOver = false;
  const dir: DirRef | null = handle !== 0 ? { handle, name } : null;
  const file = new TempFile({
    fd,
    kind: 'NamedTemporaryFile',
    path,
    dir,
    mode: f.mode,
    info: f.info,
    bufsize: f.bufsize,
    encoding: f.encoding,
    maxBytes: f.maxBytes,
    beforeClose: del
      ? (s) => {
          if (removable) untrack(removable);
          if (!handedOver) removeNamed(s);
        }
      : undefined,
  });
  if (del) {
    // Holds the state, not the file object, so garbage collection can still close it.
    const s = file._state;
    const r: Removable = {
      removeAtExit: (why) => {
        // The process ends with the file open: removed now, its descriptor left to the exit.
        try {
          removeNamed(s);
        } catch (e) {
          publishCleanupError(s.kind, s.path, s.fd, why, e);
          throw e; // said on stderr by the exit hook
        } finally {
          gone(s, s.fd, why);
        }
      },
      handOver: () => {
        if (s.path === null || s.fd < 0) return;
        const st = fs.fstatSync(s.fd);
        native.removeAtProcessExit(EXIT_FILE, s.path, st.dev, st.ino);
        handedOver = true; // the worker's exit closes the descriptor without removing the name
      },
    };
    removable = r;
    track(r);
    onPersist(s, () => untrack(r)); // a persisted file is no longer removed at exit
  }
  return file;
}

/**
 * A file with a visible name (`path`), created like mkstemp (O_EXCL|O_NOFOLLOW, 0600).
 * With delete (the default) it is removed on close, when garbage-collected, and at exit;
 * a name that no longer leads to this file (someone replaced it) is left alone.
 */
export function NamedTemporaryFileSync(options?: NamedTemporaryFileOptions): TempFile {
  const p = prepare(options);
  const [fd, name, handle] = addonNow().createSync(...p.args) as unknown as HeldFile;
  return make(p.f, p.del, fd, name, handle);
}

/** As {@link NamedTemporaryFileSync}, asynchronously. */
export async function NamedTemporaryFile(options?: NamedTemporaryFileOptions): Promise<TempFile> {
  const p = prepare(options);
  const [fd, name, handle] = (await addonNow().create(...p.args)) as unknown as HeldFile;
  return make(p.f, p.del, fd, name, handle);
}
