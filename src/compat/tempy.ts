/// <reference types="node" preserve="true" />
// securetemp/tempy: tempy 3.2's API (temporaryFile, temporaryFileTask, temporaryDirectory,
// temporaryDirectoryTask, temporaryWrite, temporaryWriteTask, temporaryWriteSync,
// rootTemporaryDirectory) on securetemp's exclusive creation. tempy is ESM only; this module is
// CommonJS underneath, so both `import` and `require` give it (with one state).
//
// Differences (README "Migrating", securetemp/tempy): directories are created exclusively,
// 0700; files written by temporaryWrite* are created exclusively (O_EXCL|O_NOFOLLOW), 0600;
// temporaryFile's not-yet-existing name is one nobody else can plant at (see _unplantable.ts);
// removal after a task never follows a link out of what was made.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mkdtemp, mkdtempSync, mkstemp, mkstempSync } from '../create';
import { ownCopy, plainBytes } from '../_bytes';

import { checkChainSync, ensureDirSync, remove, removeSync, uniqueString, unplantable, unplantableSync, type Unplantable } from './_unplantable';
import type * as types from './_types';

/** tempy's (temp-dir's) root: the real path of os.tmpdir(), taken once when loaded. */
const rootTemporaryDirectory: string = fs.realpathSync(os.tmpdir());

/** tempy's check of a name, prefix, extension or parentDirectory, with its words. */
function assertSafePathComponent(component: unknown): asserts component is string {
  if (typeof component !== 'string') throw new TypeError(`Expected a string, got ${typeof component}`);
  const trimmed = component.trim();
  const safe = trimmed !== '' && trimmed !== '.' && trimmed !== '..' && !component.includes('/') && !component.includes('\\') && !component.includes('\0');
  if (!safe) throw new Error(`Unsafe path component: ${JSON.stringify(component)}`);
}

const given = (v: unknown) => v !== undefined && v !== null;

/** Where to create: rootDirectory (absolute, made if missing) or the root, then parentDirectory in it (made if missing). */
function baseDirectory(o: types.TempyBaseOptions): string {
  let base = rootTemporaryDirectory;
  if (o.rootDirectory !== undefined) {
    if (typeof o.rootDirectory !== 'string' || !path.isAbsolute(o.rootDirectory)) throw new Error('The `rootDirectory` option must be an absolute path');
    base = ensureDirSync(o.rootDirectory, true);
  }
  if (o.parentDirectory) {
    assertSafePathComponent(o.parentDirectory);
    base = ensureDirSync(path.join(base, o.parentDirectory), false);
  }
  // another user's directory, or one under theirs (a hostile TMPDIR): EACCES. Everything is
  // then made, and named, by the real path checked, never by a link on the way.
  return checkChainSync(base);
}

interface FilePlan {
  base: string;
  /** A fixed name (in a fresh directory, as tempy does), or null. */
  name: string | null;
  /** '' or '.ext'. */
  suffix: string;
}

function filePlan(options: types.TempyFileOptions | undefined): FilePlan {
  const o = (options ?? {}) as types.TempyFileOptions & { name?: unknown; extension?: unknown };
  let name: string | null = null;
  let suffix = '';
  if (given(o.name)) {
    if (given(o.extension)) throw new Error('The `name` and `extension` options are mutually exclusive');
    assertSafePathComponent(o.name);
    name = o.name;
  } else if (given(o.extension)) {
    assertSafePathComponent(o.extension);
    suffix = '.' + o.extension.replace(/^\./, '');
  }
  return { base: baseDirectory(o), name, suffix };
}

/** tempy's name in a fresh directory; elsewhere a random name: both where nobody else can plant. */
function fileSync(plan: FilePlan): Unplantable {
  if (plan.name !== null) {
    const fresh = mkdtempSync({ dir: plan.base, prefix: '', suffix: '' });
    return { path: path.join(fresh, plan.name), fresh };
  }
  return unplantableSync(plan.base, uniqueString() + plan.suffix);
}

async function file(plan: FilePlan): Promise<Unplantable> {
  if (plan.name !== null) {
    const fresh = await mkdtemp({ dir: plan.base, prefix: '', suffix: '' });
    return { path: path.join(fresh, plan.name), fresh };
  }
  return unplantable(plan.base, uniqueString() + plan.suffix);
}

/**
 * A path for a file that does not exist yet. Nobody else can plant anything at it: it is in a
 * directory only you can write (the temporary directory if it is yours alone, else a fresh
 * 0700 directory made for it, which is left in place as tempy leaves the file).
 */
function temporaryFile(options?: types.TempyFileOptions): string {
  return fileSync(filePlan(options)).path;
}

async function runTask<T>(made: Unplantable, callback: types.TempyTaskCallback<T>): Promise<T> {
  try {
    return await callback(made.path);
  } finally {
    await remove(made);
  }
}

/** Calls `callback` with temporaryFile()'s path, then removes whatever is there (and its fresh directory). */
async function temporaryFileTask<T>(callback: types.TempyTaskCallback<T>, options?: types.TempyFileOptions): Promise<T> {
  return runTask(await file(filePlan(options)), callback);
}

function dirPlan(options: types.TempyDirectoryOptions | undefined): { base: string; prefix: string } {
  const o = (options ?? {}) as types.TempyDirectoryOptions & { prefix?: unknown };
  const prefix = o.prefix === undefined || o.prefix === '' ? '' : (assertSafePathComponent(o.prefix), o.prefix);
  return { base: baseDirectory(o), prefix };
}

/** A new directory, created exclusively (mkdtemp), 0700. */
function temporaryDirectory(options?: types.TempyDirectoryOptions): string {
  const { base, prefix } = dirPlan(options);
  return mkdtempSync({ dir: base, prefix, suffix: '' });
}

/** Calls `callback` with a new directory, then removes it and everything in it (never following a link out). */
async function temporaryDirectoryTask<T>(callback: types.TempyTaskCallback<T>, options?: types.TempyDirectoryOptions): Promise<T> {
  const { base, prefix } = dirPlan(options);
  const dir = await mkdtemp({ dir: base, prefix, suffix: '' });
  return runTask({ path: dir, fresh: null }, callback);
}

function isReadable(v: unknown): v is NodeJS.ReadableStream {
  return v !== null && typeof v === 'object' && typeof (v as { pipe?: unknown }).pipe === 'function';
}

/** The file created exclusively (0600): a fixed name in a fresh directory, or a fresh name. */
function createSync(plan: FilePlan): [Unplantable, number] {
  if (plan.name === null) {
    const { fd, path: p } = mkstempSync({ dir: plan.base, prefix: '', suffix: plan.suffix });
    return [{ path: p, fresh: null }, fd];
  }
  const made = fileSync(plan);
  return [made, fs.openSync(made.path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | (fs.constants.O_NOFOLLOW ?? 0), 0o600)];
}

async function create(plan: FilePlan): Promise<[Unplantable, number]> {
  if (plan.name === null) {
    const { fd, path: p } = await mkstemp({ dir: plan.base, prefix: '', suffix: plan.suffix });
    return [{ path: p, fresh: null }, fd];
  }
  const made = await file(plan);
  // a plain descriptor (fs.open), not a FileHandle: a FileHandle closes its number again when
  // it is collected, after write() closed it, and by then the number may be someone else's
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(made.path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | (fs.constants.O_NOFOLLOW ?? 0), 0o600, (e, n) => (e ? reject(e) : resolve(n))),
  );
  return [made, fd];
}


async function write(content: types.TempyContent, options: types.TempyFileOptions | undefined): Promise<Unplantable> {
  // Bytes are copied at the call, into memory of ours: fs.writeFile runs on the thread pool,
  // later, and the caller may shrink or transfer its buffer meanwhile (ninth outside review:
  // another allocation's bytes in the file, or an empty file).
  const data = ArrayBuffer.isView(content) ? ownCopy(plainBytes(content, 'fileContent')!) : content;
  // A stream's error while the file is being created is kept for then (tempy pipes at once,
  // before anything is awaited; an error with no listener would be thrown at the process).
  const readable = isReadable(content);
  let early: { error: unknown } | null = null;
  const keep = (error: unknown) => void (early ??= { error });
  if (readable) content.on('error', keep);
  let made: Unplantable;
  let fd: number;
  try {
    [made, fd] = await create(filePlan(options));
  } finally {
    if (readable) content.removeListener('error', keep);
  }
  // The descriptor has one owner at a time: write() until a stream takes it, then the stream
  // (autoClose), whose 'close' is awaited. A WriteStream closes its descriptor when destroyed,
  // even with autoClose: false (tenth outside review: a failed source had it closed twice, the
  // second time a number free or someone else's by then; EBADF replaced the source's error and
  // the partial file was left).
  let owned = true;
  try {
    if (early !== null) throw (early as { error: unknown }).error;
    if (readable) {
      const out = fs.createWriteStream('', { fd, autoClose: true });
      owned = false;
      const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
      try {
        await pipeline(content, out);
      } finally {
        await closed; // the file is removed (on failure) only once the stream let go of it
      }
    } else await new Promise<void>((resolve, reject) => fs.writeFile(fd, data as string, (e) => (e ? reject(e) : resolve())));
  } catch (e) {
    if (owned) closeQuietly(fd);
    await remove(made); // a failed write leaves nothing (tempy leaves the partial file)
    throw e;
  }
  if (owned) fs.closeSync(fd);
  return made;
}

/** Closes a descriptor of ours on a failure path: the failure is what is reported. */
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // the first error is the one the caller gets
  }
}

/** Writes `content` (a string, bytes or a readable stream) to a new file created exclusively (0600); returns its path. */
async function temporaryWrite(content: types.TempyContent, options?: types.TempyFileOptions): Promise<string> {
  return (await write(content, options)).path;
}

/** temporaryWrite, then `callback` with the path, then the file (and its fresh directory) removed. */
async function temporaryWriteTask<T>(content: types.TempyContent, callback: types.TempyTaskCallback<T>, options?: types.TempyFileOptions): Promise<T> {
  return runTask(await write(content, options), callback);
}

/** The synchronous temporaryWrite (no streams). */
function temporaryWriteSync(content: string | NodeJS.ArrayBufferView, options?: types.TempyFileOptions): string {
  const [made, fd] = createSync(filePlan(options));
  try {
    fs.writeFileSync(fd, content as string);
  } catch (e) {
    fs.closeSync(fd);
    removeSync(made);
    throw e;
  }
  fs.closeSync(fd);
  return made.path;
}



const tempy = {
  temporaryFile,
  temporaryFileTask,
  temporaryDirectory,
  temporaryDirectoryTask,
  temporaryWrite,
  temporaryWriteTask,
  temporaryWriteSync,
  rootTemporaryDirectory,
};

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace tempy {
  export type FileOptions = types.TempyFileOptions;
  export type DirectoryOptions = types.TempyDirectoryOptions;
  export type BaseOptions = types.TempyBaseOptions;
  export type TaskCallback<T> = types.TempyTaskCallback<T>;
}

export = tempy;
