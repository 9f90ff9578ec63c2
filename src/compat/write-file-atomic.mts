/// <reference types="node" preserve="true" />
// The ES module face of securetemp/write-file-atomic: the function is the default export and
// `sync` a named one, as Node gives them for write-file-atomic itself.
import writeFileAtomic from './write-file-atomic.js';

export default writeFileAtomic;
export const sync = writeFileAtomic.sync;
export type Options = writeFileAtomic.Options;
