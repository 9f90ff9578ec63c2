/**
 * `securetemp/temp`: npm [temp](https://www.npmjs.com/package/temp)'s API.
 *
 * @module securetemp/temp
 */
// Documentation entry point (see docs/entries/index.ts).
import temp = require('../../src/compat/temp');

/** The directory everything is created in by default: `os.tmpdir()`, resolved when loaded. */
export const dir: string = temp.dir;
/** @function */
export const track = temp.track;
/** @function */
export const mkdir = temp.mkdir;
/** @function */
export const mkdirSync = temp.mkdirSync;
/** @function */
export const open = temp.open;
/** @function */
export const openSync = temp.openSync;
/** @function */
export const path = temp.path;
/** @function */
export const cleanup = temp.cleanup;
/** @function */
export const cleanupSync = temp.cleanupSync;
/** @function */
export const createWriteStream = temp.createWriteStream;

export type {
  TempAffixes as AffixOptions,
  TempOpenResult as OpenFile,
  TempStats as Stats,
  TempAffixesArg,
  TempCallback,
} from '../../src/compat/_types';
