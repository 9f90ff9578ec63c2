// securetemp/tmp-promise: npm tmp-promise's API (file, dir, withFile, withDir, tmpName, and
// tmp's fileSync, dirSync, tmpNameSync, setGracefulCleanup) on securetemp/tmp, with its state.
import { promisify } from 'node:util';
import tmp = require('./tmp');
import type * as types from './_types';

function file(options?: tmp.FileOptions | null): Promise<types.PromiseFileResult> {
  return new Promise((resolve, reject) =>
    tmp.file(options, (err, path, fd, cleanup) => (err ? reject(err) : resolve({ path, fd, cleanup: promisify(cleanup) }))),
  );
}

/** Runs `fn` with a new file, then removes it, whether `fn` returned or threw. */
async function withFile<T>(fn: (result: { path: string; fd: number }) => Promise<T> | T, options?: tmp.FileOptions | null): Promise<T> {
  const { path, fd, cleanup } = await file(options);
  try {
    return await fn({ path, fd });
  } finally {
    await cleanup();
  }
}

function dir(options?: tmp.DirOptions | null): Promise<types.DirectoryResult> {
  return new Promise((resolve, reject) =>
    tmp.dir(options, (err, path, cleanup) => (err ? reject(err) : resolve({ path, cleanup: promisify(cleanup) }))),
  );
}

/** Runs `fn` with a new directory, then removes it (rmdir, or everything with unsafeCleanup). */
async function withDir<T>(fn: (result: { path: string }) => Promise<T> | T, options?: tmp.DirOptions | null): Promise<T> {
  const { path, cleanup } = await dir(options);
  try {
    return await fn({ path });
  } finally {
    await cleanup();
  }
}

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
