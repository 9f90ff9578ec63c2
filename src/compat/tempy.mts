/// <reference types="node" preserve="true" />
// The ES module face of securetemp/tempy: tempy's named exports (tempy has no default export;
// the CommonJS object is given as default here too, for require users moving to import).
import tempy from './tempy.js';

export default tempy;
export const {
  temporaryFile,
  temporaryFileTask,
  temporaryDirectory,
  temporaryDirectoryTask,
  temporaryWrite,
  temporaryWriteTask,
  temporaryWriteSync,
  rootTemporaryDirectory,
} = tempy;
export type FileOptions = tempy.FileOptions;
export type DirectoryOptions = tempy.DirectoryOptions;
export type BaseOptions = tempy.BaseOptions;
export type TaskCallback<T> = tempy.TaskCallback<T>;
