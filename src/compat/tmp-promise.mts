// The ES module face of securetemp/tmp-promise: named exports as tmp-promise has them
// (`tmpdir` is read once, at import, as tmp-promise does), the CommonJS object as default.
import tmpPromise from './tmp-promise.js';

export default tmpPromise;
export const { file, withFile, dir, withDir, tmpName, fileSync, dirSync, tmpNameSync, setGracefulCleanup } = tmpPromise;
export const tmpdir: string = tmpPromise.tmpdir;
export type DirectoryResult = tmpPromise.DirectoryResult;
export type FileResult = tmpPromise.FileResult;
export type FileOptions = tmpPromise.FileOptions;
export type DirOptions = tmpPromise.DirOptions;
export type TmpNameOptions = tmpPromise.TmpNameOptions;
