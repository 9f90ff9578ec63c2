/**
 * `securetemp/write-file-atomic`: npm
 * [write-file-atomic](https://www.npmjs.com/package/write-file-atomic)'s API on securetemp's
 * {@link "securetemp".writeFileAtomic}. The module is the function; `sync` is a property of it.
 *
 * @module securetemp/write-file-atomic
 */
// Documentation entry point (see docs/entries/index.ts).
import writeFileAtomic = require('../../src/compat/write-file-atomic');

export default writeFileAtomic;
/** @function */
export const sync = writeFileAtomic.sync;

export type { WriteFileAtomicOptions as Options, WriteFileAtomicData, WriteFileAtomicCallback } from '../../src/compat/_types';
