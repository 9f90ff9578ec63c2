/**
 * `securetemp/tmp`: npm [tmp](https://www.npmjs.com/package/tmp)'s API (`file`, `fileSync`,
 * `dir`, `dirSync`, `tmpName`, `tmpNameSync`, `setGracefulCleanup`, `tmpdir`) on securetemp's
 * creation. Where it differs from tmp, and why: the README's "securetemp/tmp" section.
 *
 * @module securetemp/tmp
 */
// Documentation entry point (see docs/entries/index.ts): the functions are properties of the
// module's `export =` object, shown with the TSDoc of their declarations.
import tmp = require('../../src/compat/tmp');

/** @function */
export const file = tmp.file;
/** @function */
export const fileSync = tmp.fileSync;
/** @function */
export const dir = tmp.dir;
/** @function */
export const dirSync = tmp.dirSync;
/** @function */
export const tmpName = tmp.tmpName;
/** @function */
export const tmpNameSync = tmp.tmpNameSync;
/** @function */
export const setGracefulCleanup = tmp.setGracefulCleanup;
/** The root temporary directory: `os.tmpdir()`, realpath'd, read at each access (a getter on the module object). */
export const tmpdir: string = tmp.tmpdir;

export type {
  TmpNameOptions,
  FileOptions,
  DirOptions,
  FileResult,
  DirResult,
  FileCallback,
  DirCallback,
  TmpNameCallback,
  RemoveCallback,
  CleanupCallback,
} from '../../src/compat/_types';
