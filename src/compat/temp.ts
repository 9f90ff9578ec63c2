/// <reference types="node" preserve="true" />
// securetemp/temp: temp 0.9's API (track, open/openSync, mkdir/mkdirSync, path,
// createWriteStream, cleanup/cleanupSync, dir) on securetemp's exclusive creation. Affixes are a
// prefix string or {prefix, suffix, dir}; names keep temp's shape (prefix, the date, the pid, a
// random part, suffix), the random part from the CSPRNG.
//
// Differences (README "Migrating", securetemp/temp): a prefix or suffix that could lead out of
// the directory is refused; `path()` hands out a name nobody else can plant at (in a fresh 0700
// directory where others can write: see _unplantable.ts); cleanup never follows a link out of
// what was made.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtemp, mkdtempSync, mkstemp, mkstempSync } from '../create';
import { native } from '../_binding';
import { checkAffix } from '../_names';
import { invalidArgType } from '../_errors';
import { EXIT_FILE, EXIT_TREE, track as trackAtExit, warnAtExit, type Removable } from '../_lifetime';
import { checkChainSync, ensureDirSync, unplantableSync } from './_unplantable';
import type * as types from './_types';

/**
 * The directory used when the affixes give none: the real path of os.tmpdir(), taken once when
 * loaded (as tempy's root): what is made there is made, and named, by that path, not through a
 * link that its owner may repoint (temp's own is path.resolve). os.tmpdir() missing: resolved.
 */
const dir = realOrResolved(os.tmpdir());

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

interface Affixes {
  prefix: string;
  suffix: string;
  dir: string;
}

/** temp's affixes: a string is the prefix; an object is taken as it is (no default prefix); nothing: the default prefix. */
function parseAffixes(raw: unknown, defaultPrefix: string): Affixes {
  if (!raw) return { prefix: defaultPrefix, suffix: '', dir };
  if (typeof raw === 'string') return { prefix: raw, suffix: '', dir };
  if (typeof raw !== 'object') throw new Error('Unknown affix declaration: [object Object]'); // temp's words, as it prints them
  const o = raw as types.TempAffixes;
  // Strings only (or nothing): an object's own toString would choose the name after it was
  // looked at (SECURITY.md, guarantee 6). temp joins whatever it is given.
  const text = (name: 'prefix' | 'suffix', v: unknown): string => {
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw invalidArgType(name, 'of type string', v);
    return v;
  };
  const d: unknown = o.dir;
  if (d !== undefined && d !== null && typeof d !== 'string') throw invalidArgType('dir', 'of type string', d);
  return { prefix: text('prefix', o.prefix), suffix: text('suffix', o.suffix), dir: d || dir };
}

/** temp's shape: prefix, year, month (0-11), day, '-', pid, '-', then the random part, suffix. */
function namePrefix(a: Affixes): string {
  const now = new Date();
  return `${a.prefix}${now.getFullYear()}${now.getMonth()}${now.getDate()}-${process.pid}-`;
}

// --- tracking ---------------------------------------------------------------

let tracking = false;

/** What was made while tracking, with its identity taken at creation (for the hand-over). */
interface Tracked {
  path: string;
  dev: number;
  ino: number;
}
const filesToDelete: Tracked[] = [];
const dirsToDelete: Tracked[] = [];

/**
 * At exit, through the core's hook (_lifetime.ts), as securetemp/tmp does: the process's exit
 * removes everything tracked, each failure reported and the rest still removed (tenth outside
 * review: the first failure was thrown out of the 'exit' listener, and the listeners after it,
 * other objects' cleanup among them, never ran). A worker's exit is not the process's: the
 * worker hands what it tracked to the addon, which removes it when the process exits, if the
 * path still leads to what was made (temp removed it at the worker's exit, while the main
 * thread used what the worker had handed it: the name free for anyone to take).
 */
const atExit: Removable = {
  removeAtExit(): void {
    for (const list of [filesToDelete, dirsToDelete]) {
      for (let t = list.shift(); t !== undefined; t = list.shift()) {
        try {
          native.removeTreeSync(t.path);
        } catch (e) {
          warnAtExit(e, 'securetemp/temp');
        }
      }
    }
  },
  handOver(): void {
    for (const [list, kind] of [[filesToDelete, EXIT_FILE], [dirsToDelete, EXIT_TREE]] as const) {
      for (let t = list.shift(); t !== undefined; t = list.shift()) {
        try {
          native.removeAtProcessExit(kind, t.path, t.dev, t.ino);
        } catch (e) {
          warnAtExit(e, 'securetemp/temp');
        }
      }
    }
  },
};

function tracked(list: Tracked[], p: string, stat: () => fs.Stats): void {
  if (!tracking) return;
  const st = stat();
  list.push({ path: p, dev: st.dev, ino: st.ino });
  trackAtExit(atExit); // installs the core's exit hook with the first entry
}

/** Removes everything tracked, as cleanup() does; `false` when tracking is off. */
function cleanupSync(): false | types.TempStats {
  if (!tracking) return false;
  let files = 0;
  let dirs = 0;
  for (let t = filesToDelete.shift(); t !== undefined; t = filesToDelete.shift(), files++) native.removeTreeSync(t.path);
  for (let t = dirsToDelete.shift(); t !== undefined; t = dirsToDelete.shift(), dirs++) native.removeTreeSync(t.path);
  return { files, dirs };
}


/** temp's calling convention: with a callback, it is called (and nothing returned); without, a Promise. */
function settle<T>(run: () => Promise<T>, callback: types.TempCallback<T> | undefined, onError: (e: unknown) => T): Promise<T> | undefined {
  const p = run();
  if (typeof callback !== 'function') return p;
  p.then(
    (r) => process.nextTick(callback, null, r),
    (e: Error) => process.nextTick(callback, e, onError(e)),
  );
  return undefined;
}

async function cleanupAsync(): Promise<types.TempStats> {
  if (!tracking) throw new Error('not tracking');
  let files = 0;
  let dirs = 0;
  for (let t = filesToDelete.shift(); t !== undefined; t = filesToDelete.shift(), files++) await native.removeTree(t.path);
  for (let t = dirsToDelete.shift(); t !== undefined; t = dirsToDelete.shift(), dirs++) await native.removeTree(t.path);
  return { files, dirs };
}

// --- the functions ----------------------------------------------------------

/** Tracks what is created from now on (track(false): stops), to remove at exit or with cleanup(). Chainable. */
function track(value?: boolean): typeof temp {
  tracking = value !== false;
  return temp;
}

/** A new directory, created exclusively, 0700 (affixes.dir made if missing, as temp does). */
function mkdirSync(affixes?: types.TempAffixesArg): string {
  const a = parseAffixes(affixes, 'd-');
  const d = mkdtempSync({ dir: ensureDirSync(a.dir, true), prefix: namePrefix(a), suffix: a.suffix });
  tracked(dirsToDelete, d, () => fs.lstatSync(d));
  return d;
}

/** As mkdirSync: with a callback, calls it with the path; without, returns a Promise of it. */
function mkdir(affixes?: types.TempAffixesArg, callback?: types.TempCallback<string>): Promise<string> | undefined {
  return settle(
    async () => {
      const a = parseAffixes(affixes, 'd-');
      const d = await mkdtemp({ dir: ensureDirSync(a.dir, true), prefix: namePrefix(a), suffix: a.suffix });
      tracked(dirsToDelete, d, () => fs.lstatSync(d));
      return d;
    },
    callback,
    () => undefined as unknown as string,
  );
}

/** A new file, created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW), 0600, open for reading and writing. */
function openSync(affixes?: types.TempAffixesArg): types.TempOpenResult {
  const a = parseAffixes(affixes, 'f-');
  // another user's directory is refused, as by mkdir; made by the real path it checked
  const r = mkstempSync({ dir: checkChainSync(a.dir), prefix: namePrefix(a), suffix: a.suffix });
  tracked(filesToDelete, r.path, () => fs.fstatSync(r.fd));
  return { path: r.path, fd: r.fd };
}

/** As openSync: with a callback, calls it with `{path, fd}`; without, returns a Promise of it. */
function open(affixes?: types.TempAffixesArg, callback?: types.TempCallback<types.TempOpenResult>): Promise<types.TempOpenResult> | undefined {
  return settle(
    async () => {
      const a = parseAffixes(affixes, 'f-');
      const r = await mkstemp({ dir: checkChainSync(a.dir), prefix: namePrefix(a), suffix: a.suffix });
      tracked(filesToDelete, r.path, () => fs.fstatSync(r.fd));
      return { path: r.path, fd: r.fd };
    },
    callback,
    () => undefined as unknown as types.TempOpenResult,
  );
}

/** An fs.WriteStream to a new file created exclusively, 0600; its `path` is the file's. */
function createWriteStream(affixes?: types.TempAffixesArg): fs.WriteStream {
  const a = parseAffixes(affixes, 's-');
  const r = mkstempSync({ dir: checkChainSync(a.dir), prefix: namePrefix(a), suffix: a.suffix });
  tracked(filesToDelete, r.path, () => fs.fstatSync(r.fd));
  const stream = fs.createWriteStream(r.path, { fd: r.fd });
  stream.path = r.path; // given an fd, Node leaves `path` unset; temp's stream has it
  return stream;
}

/**
 * A name that does not exist yet, as temp.path gives, but one nobody else can plant at: in
 * affixes.dir itself if only you can write there, else in a fresh 0700 directory made in it
 * (removed by cleanup() when tracking; else left, as temp leaves whatever you put at the name).
 */
function tempPath(affixes?: types.TempAffixesArg, defaultPrefix?: string): string {
  const a = parseAffixes(affixes, defaultPrefix ?? '');
  // checked as mkstemp checks affixes (one name component, no NUL), before anything is made
  const name = namePrefix({ ...a, prefix: checkAffix('prefix', a.prefix) }) + native.randomChars(native.RANDOM_CHARS) + checkAffix('suffix', a.suffix);
  const u = unplantableSync(a.dir, name);
  if (u.fresh !== null) tracked(dirsToDelete, u.fresh, () => fs.lstatSync(u.fresh!));
  return u.path;
}

/** Removes everything tracked: files, then directories (with everything in them, never following a link out). */
function cleanup(callback?: types.TempCallback<types.TempStats>): Promise<types.TempStats> | undefined {
  return settle(cleanupAsync, callback, () => undefined as unknown as types.TempStats);
}

const temp = {
  /** The directory everything is created in by default: os.tmpdir(), resolved when loaded. */
  dir,
  /** Tracks what is created from now on, to remove at exit or with cleanup(). */
  track,
  /** A new directory (a Promise, or a callback). */
  mkdir,
  /** A new directory. */
  mkdirSync,
  /** A new file (a Promise, or a callback). */
  open,
  /** A new file. */
  openSync,
  /** A name for a new file (created by nothing here). */
  path: tempPath,
  /** Removes everything tracked (a Promise, or a callback). */
  cleanup,
  /** Removes everything tracked. */
  cleanupSync,
  /** A write stream to a new file. */
  createWriteStream,
};

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace temp {
  export type AffixOptions = types.TempAffixes;
  export type OpenFile = types.TempOpenResult;
  export type Stats = types.TempStats;
}

export = temp;
