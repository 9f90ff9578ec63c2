// What securetemp/tempy and securetemp/temp hand out where the originals hand out a name that
// does not exist yet (tempy's temporaryFile, temp's path): a name that no other user can plant
// anything at. In a directory where only the caller can add entries (the caller owns it, nobody
// else may write it) that is any fresh name in it; elsewhere (/tmp) the name is put inside a
// fresh 0700 directory, created exclusively, that the caller removes (a task, or cleanup).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { native } from '../_binding';
import { mkdtemp, mkdtempSync } from '../create';
import { systemError } from '../_errors';

const euid = typeof process.geteuid === 'function' ? process.geteuid() : -1;

/**
 * True when nobody but the caller (and root) can add an entry to `dir`: owned by the caller,
 * not writable by group or others. On Windows a directory's ACL decides, which is not read
 * here: the per-user %TEMP% is private, and anything else counts as shared.
 */
function isPrivate(st: fs.Stats): boolean {
  if (euid === -1) return false;
  return st.isDirectory() && st.uid === euid && (st.mode & 0o022) === 0;
}

/** tempy's unique-string: 32 hexadecimal characters, 128 bits from the CSPRNG. */
export function uniqueString(): string {
  return randomBytes(16).toString('hex');
}

export interface Unplantable {
  /** The name handed out; nothing exists there yet. */
  path: string;
  /** The fresh private directory it is in, or null when `dir` itself is private. */
  fresh: string | null;
}

/**
 * Whether nobody but the caller and root can rename or remove an entry of `dir` or of any
 * directory above it (third outside review, 2026-12-03: another user's 0755 directory, a hostile
 * TMPDIR, or a `rootDirectory` made inside another user's directory let that user swap the
 * fresh directory, or the bare name's directory, for one of theirs after the check): each
 * directory from the real path up to / is owned by the caller or root, and not writable by group
 * or others unless sticky. Throws EACCES otherwise. Not on Windows (no uids; the ACL decides).
 */
export function checkChainSync(dir: string): void {
  if (euid === -1) return;
  let d = fs.realpathSync(dir);
  for (;;) {
    const st = fs.lstatSync(d);
    if (st.uid !== euid && st.uid !== 0) throw notOurs(d, 'a directory another user owns');
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) throw notOurs(d, 'a directory others may write without the sticky bit');
    const up = path.dirname(d);
    if (up === d) return;
    d = up;
  }
}

/** A not-yet-existing `name` in `dir`, or in a fresh 0700 directory inside it (see above). */
export function unplantableSync(dir: string, name: string): Unplantable {
  checkChainSync(dir);
  if (isPrivate(fs.statSync(dir))) return { path: path.join(dir, name), fresh: null };
  const fresh = mkdtempSync({ dir, prefix: '', suffix: '' });
  return { path: path.join(fresh, name), fresh };
}

export async function unplantable(dir: string, name: string): Promise<Unplantable> {
  checkChainSync(dir);
  if (isPrivate(await fs.promises.stat(dir))) return { path: path.join(dir, name), fresh: null };
  const fresh = await mkdtemp({ dir, prefix: '', suffix: '' });
  return { path: path.join(fresh, name), fresh };
}

/** Removes what was handed out (and its fresh directory) without following a link out of it; gone already is fine. */
export function removeSync(u: Unplantable): void {
  native.removeTreeSync(u.fresh ?? u.path);
}

export function remove(u: Unplantable): Promise<void> {
  return native.removeTree(u.fresh ?? u.path);
}

/**
 * A directory the originals make "if it does not exist" (tempy's parentDirectory, rootDirectory):
 * made 0700 if missing. An existing one must be a directory (a link to one counts only if the
 * caller or root owns the link) owned by the caller or root: another user's directory, or
 * their link, in /tmp would let them plant at every name in it, or lead creation elsewhere.
 */
export function ensureDirSync(p: string, recursive: boolean): string {
  try {
    fs.mkdirSync(p, { mode: 0o700, recursive });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const l = fs.lstatSync(p);
  const ok = (st: fs.Stats) => euid === -1 || st.uid === euid || st.uid === 0;
  if (l.isSymbolicLink() && !ok(l)) throw notOurs(p, 'a symbolic link another user owns');
  const st = l.isSymbolicLink() ? fs.statSync(p) : l;
  if (!st.isDirectory()) throw systemError('ENOTDIR', 'mkdir', p);
  if (!ok(st)) throw notOurs(p, 'a directory another user owns');
  checkChainSync(p); // every directory above it too: made inside another user's, it is theirs
  return p;
}

function notOurs(p: string, what: string): NodeJS.ErrnoException {
  const e = systemError('EACCES', 'mkdir', p, `${what} is not used for temporary files: that user could plant links at the names made in it`);
  return e;
}
