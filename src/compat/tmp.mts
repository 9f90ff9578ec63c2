// The ES module face of securetemp/tmp: the CommonJS object is the default export (so
// `tmp.tmpdir` stays a live getter), its functions are named exports, one state for both.
import tmp from './tmp.js';

export default tmp;
export const { file, fileSync, dir, dirSync, tmpName, tmpNameSync, setGracefulCleanup } = tmp;
export type TmpNameOptions = tmp.TmpNameOptions;
export type FileOptions = tmp.FileOptions;
export type DirOptions = tmp.DirOptions;
export type FileResult = tmp.FileResult;
export type DirResult = tmp.DirResult;
export type FileCallback = tmp.FileCallback;
export type DirCallback = tmp.DirCallback;
export type TmpNameCallback = tmp.TmpNameCallback;
export type RemoveCallback = tmp.RemoveCallback;
export type CleanupCallback = tmp.CleanupCallback;
