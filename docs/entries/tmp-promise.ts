/**
 * `securetemp/tmp-promise`: npm [tmp-promise](https://www.npmjs.com/package/tmp-promise)'s API
 * on {@link "securetemp/tmp"}.
 *
 * @module securetemp/tmp-promise
 */
// Documentation entry point (see docs/entries/index.ts).
import tmpPromise = require('../../src/compat/tmp-promise');

/** @function */
export const file = tmpPromise.file;
/** @function */
export const withFile = tmpPromise.withFile;
/** @function */
export const dir = tmpPromise.dir;
/** @function */
export const withDir = tmpPromise.withDir;
/** @function */
export const tmpName = tmpPromise.tmpName;
/** @function */
export const fileSync = tmpPromise.fileSync;
/** @function */
export const dirSync = tmpPromise.dirSync;
/** @function */
export const tmpNameSync = tmpPromise.tmpNameSync;
/** @function */
export const setGracefulCleanup = tmpPromise.setGracefulCleanup;
/** `tmp.tmpdir`, read at each access (tmp-promise reads it once, when loaded). */
export const tmpdir: string = tmpPromise.tmpdir;

export type { DirectoryResult, PromiseFileResult as FileResult, FileOptions, DirOptions, TmpNameOptions } from '../../src/compat/_types';
