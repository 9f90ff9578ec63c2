// securetemp/tmp-promise: npm tmp-promise's API (file, dir, withFile, withDir, tmpName, and
// tmp's fileSync, dirSync, tmpNameSync, setGracefulCleanup) on securetemp/tmp, with its state.
import { promisify } from 'node:util';
import tmp = require('./tmp');
import type * as types from './_types';

/**
 * The removal as a Promise, memoized: a second call gets the first one's outcome. tmp's
 * callback never calls back a second time, so tmp-promise's promisified one never settles
 * then; withFile/withDir hand `cleanup` to their function and call it again after.
 */
function cleanupOnce(cleanup: tmp.CleanupCallback): () => Promise<void> {
  let done: Promise<void> | null = null;
  const removal = promisify(cleanup) as () => Promise<void>;
  return () => (done ??= removal());
}

/** tmp.file as a Promise: the path, the descriptor and `cleanup()`. */
function file(options?: tmp.FileOptions | null): Promise<types.PromiseFileResult> {
  return new Promise((resolve, reject) =>
    tmp.file(options, (err, path, fd, cleanup) => (err ? reject(err) : resolve({ path, fd, cleanup: cleanupOnce(cleanup) }))),
  );
}

/**
 * Runs `fn` with a new file, then removes it, whether `fn` returned or threw. `fn` gets
 * `cleanup` too, as tmp-promise's declarations say (its runtime leaves it out): called early,
 * it removes the file then, and the removal after `fn` does nothing.
 */
async function withFile<T>(fn: (result: types.PromiseFileResult) => Promise<T> | T, options?: tmp.FileOptions | null): Promise<T> {
  const result = await file(options);
  try {
    return await fn({ ...result });
  } finally {
    await result.cleanup();
  }
}

/** tmp.dir as a Promise: the path and `cleanup()`. */
function dir(options?: tmp.DirOptions | null): Promise<types.DirectoryResult> {
  return new Promise((resolve, reject) =>
    tmp.dir(options, (err, path, cleanup) => (err ? reject(err) : resolve({ path, cleanup: cleanupOnce(cleanup) }))),
  );
}

/** Runs `fn` with a new directory (and its `cleanup`), then removes it (rmdir, or everything with unsafeCleanup). */
async function withDir<T>(fn: (result: types.DirectoryResult) => Promise<T> | T, options?: tmp.DirOptions | null): Promise<T> {
  const result = await dir(options);
  try {
    return await fn({ ...result });
  } finally {
    await result.cleanup();
  }
}

/** tmp.tmpName as a Promise. */
function tmpName(options?: tmp.TmpNameOptions | null): Promise<string> {
  return new Promise((resolve, reject) => tmp.tmpName(options, (err, name) => (err ? reject(err) : resolve(name))));
}

const tmpPromise = {
  file,
  withFile,
  dir,
  withDir,
  tmpName,
  fileSync: tmp.fileSync,
  dirSync: tmp.dirSync,
  tmpNameSync: tmp.tmpNameSync,
  setGracefulCleanup: tmp.setGracefulCleanup,
  /** tmp.tmpdir, read at each access (tmp-promise reads it once, when loaded). */
  get tmpdir(): string {
    return tmp.tmpdir;
  },
};

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace tmpPromise {
  export type DirectoryResult = types.DirectoryResult;
  export type FileResult = types.PromiseFileResult;
  export type FileOptions = tmp.FileOptions;
  export type DirOptions = tmp.DirOptions;
  export type TmpNameOptions = tmp.TmpNameOptions;
}

export = tmpPromise;
