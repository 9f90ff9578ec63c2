/**
 * `securetemp/tempy`: [tempy](https://www.npmjs.com/package/tempy)'s API, with a CommonJS face
 * too.
 *
 * @module securetemp/tempy
 */
// Documentation entry point (see docs/entries/index.ts).
import tempy = require('../../src/compat/tempy');

/** @function */
export const temporaryFile = tempy.temporaryFile;
/** @function */
export const temporaryFileTask = tempy.temporaryFileTask;
/** @function */
export const temporaryDirectory = tempy.temporaryDirectory;
/** @function */
export const temporaryDirectoryTask = tempy.temporaryDirectoryTask;
/** @function */
export const temporaryWrite = tempy.temporaryWrite;
/** @function */
export const temporaryWriteTask = tempy.temporaryWriteTask;
/** @function */
export const temporaryWriteSync = tempy.temporaryWriteSync;
/** The OS temporary directory, realpath'd when the module is loaded (as tempy does). */
export const rootTemporaryDirectory: string = tempy.rootTemporaryDirectory;

export type {
  TempyFileOptions as FileOptions,
  TempyDirectoryOptions as DirectoryOptions,
  TempyBaseOptions as BaseOptions,
  TempyTaskCallback as TaskCallback,
  TempyContent,
} from '../../src/compat/_types';
