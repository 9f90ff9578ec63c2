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

/** The caller's effective uid, asked at each call (a process may drop root after loading this), or -1 (Windows). */
function getEuid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : -1;
}

/**
 * True when nobody but the caller (and root) can add an entry to `dir`: owned by the caller,
 * not writable by group or others. On Windows a directory's ACL decides, which is not read
 * here: the per-user %TEMP% is private, and anything else counts as shared.
 */
function isPrivate(st: fs.Stats): boolean {
  const euid = getEuid();
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
 *
 * Returns that real path, resolved once: what is then made, and the path handed out, must be
 * by it, never by `dir` as given (tenth outside review: a link of another user's on the way,
 * in that user's directory, was checked where it pointed, then flipped to their own directory
 * before the creation by the given path followed it). Nobody but the caller and root can
 * change where the real path leads, so creating by it afterwards is what was checked.
 */
export function checkChainSync(dir: string): string {
  const real = fs.realpathSync(dir);
  if (getEuid() === -1) return real;
  for (let d = real; ; ) {
    checkLink(d, fs.lstatSync(d));
    const up = path.dirname(d);
    if (up === d) return real;
    d = up;
  }
}

/** The chain's rule for one directory (lstat'ed): the caller's or root's, not writable by others unless sticky. */
function checkLink(d: string, st: fs.Stats): void {
  const euid = getEuid();
  if (st.uid !== euid && st.uid !== 0) throw notOurs(d, 'a directory another user owns');
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) throw notOurs(d, 'a directory others may write without the sticky bit');
}

/** A not-yet-existing `name` in `dir`, or in a fresh 0700 directory inside it (see above). */
export function unplantableSync(given: string, name: string): Unplantable {
  const dir = checkChainSync(given);
  if (isPrivate(fs.statSync(dir))) return { path: path.join(dir, name), fresh: null };
  const fresh = mkdtempSync({ dir, prefix: '', suffix: '' });
  return { path: path.join(fresh, name), fresh };
}

export async function unplantable(given: string, name: string): Promise<Unplantable> {
  const dir = checkChainSync(given);
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
 * A directory the originals make "if it does not exist" (tempy's parentDirectory, rootDirectory,
 * temp's affixes.dir): made 0700 if missing. Returns its real path, which is what must be used
 * from then on (see checkChainSync).
 *
 * Walked one component at a time from /, with lstat (no mkdir -p, which follows any link on the
 * way: tenth outside review, another user's link at /tmp/myapp made root create
 * /tmp/myapp/cache where that user pointed it). Every directory on the path as given, and on
 * the real path of every link on it, must pass the chain's rule (the caller's or root's, not
 * writable by others unless sticky); a link is followed only if the caller or root owns it.
 * Another user's directory, or their link, in /tmp would let them plant at every name in it,
 * or lead creation elsewhere: EACCES. With `recursive` false only the last component is made.
 */
export function ensureDirSync(p: string, recursive: boolean): string {
  const abs = path.resolve(p);
  const euid = getEuid();
  if (euid === -1) {
    try {
      fs.mkdirSync(abs, { mode: 0o700, recursive });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return fs.realpathSync(abs);
  }
  const parts = abs.split(path.sep).filter((c) => c !== '');
  let cur = path.parse(abs).root; // a real path at every step
  checkLink(cur, fs.lstatSync(cur));
  for (let i = 0; i < parts.length; i++) {
    const next = path.join(cur, parts[i]!);
    let st = fs.lstatSync(next, { throwIfNoEntry: false });
    if (st === undefined) {
      if (!recursive && i < parts.length - 1) throw systemError('ENOENT', 'mkdir', abs);
      try {
        fs.mkdirSync(next, { mode: 0o700 }); // `cur` is a checked real path: nobody else can redirect it
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      st = fs.lstatSync(next); // made by someone else in between (a sticky dir): judged below
    }
    if (st.isSymbolicLink()) {
      if (st.uid !== euid && st.uid !== 0) throw notOurs(next, 'a symbolic link another user owns');
      cur = checkChainSync(next); // where it leads, checked up to /
      if (!fs.statSync(cur).isDirectory()) throw systemError('ENOTDIR', 'mkdir', next);
      continue;
    }
    if (!st.isDirectory()) throw systemError('ENOTDIR', 'mkdir', next);
    checkLink(next, st);
    cur = next;
  }
  return cur;
}

function notOurs(p: string, what: string): NodeJS.ErrnoException {
  const e = systemError('EACCES', 'mkdir', p, `${what} is not used for temporary files: that user could plant links at the names made in it`);
  return e;
}
