/**
 * `securetemp`: Python's `tempfile` API for Node.js on race-free system calls.
 *
 * One object is both module faces: `require('securetemp')` returns it and `import tempfile from
 * 'securetemp'` gives it as the default export; `import { mkstemp } from 'securetemp'` gives the
 * same functions by name. Besides the functions and classes documented here, that object has
 * two mutable settings, described by {@link Settings}.
 *
 * Errors are `fs`-style (`code`, `errno`, `syscall`, `path`) or `TypeError` with
 * `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE`; every `code` securetemp gives is listed in
 * the README's [Errors](../../README.md#errors) section.
 *
 * @module securetemp
 */
// Documentation entry point (TypeDoc, `npm run docs`): it names what src/index.ts puts on the
// `export =` object, re-exported from where each is declared so that the reference shows the
// declarations and their TSDoc. It is not compiled into dist/; test/docs.test.ts checks that
// its names are the package's exports.
export { TMP_MAX, gettempprefix } from '../../src/_names';
export { gettempdir } from '../../src/gettempdir';
export {
  mktemp,
  mkstemp,
  mkstempSync,
  mkdtemp,
  mkdtempSync,
  TemporaryFile,
  TemporaryFileSync,
} from '../../src/create';
export { TempFile } from '../../src/tempfile';
export { NamedTemporaryFile, NamedTemporaryFileSync } from '../../src/named';
export { SpooledTemporaryFile, SpooledTempFile } from '../../src/spooled';
export { TemporaryDirectory, TemporaryDirectorySync, TempDir } from '../../src/tempdir';
export { cleanupOnSignals } from '../../src/_lifetime';
export { writeFileAtomic, writeFileAtomicSync } from '../../src/atomic';
export { stats } from '../../src/_diagnostics';

export type { NamedTemporaryFileOptions } from '../../src/named';
export type { SpooledTemporaryFileOptions } from '../../src/spooled';
export type { ReadStreamOptions, WriteStreamOptions } from '../../src/tempfile';
export type { TemporaryDirectoryOptions } from '../../src/tempdir';
export type { MkstempResult, MkstempOptions, MkdtempOptions, TemporaryFileOptions, TemporaryFileMemoryOptions } from '../../src/create';
export type { NameOptions, CreateOptions } from '../../src/_options';
export type { PersistOptions } from '../../src/persist';
export type { WriteFileAtomicOptions, AtomicChunk, AtomicData, AtomicDataSync } from '../../src/atomic';

/**
 * The two settings on the package's object (`tempfile.tempdir = '/var/cache/x'`), shared by
 * `require` and `import`. They are properties of the default export only, not named exports.
 */
export interface Settings {
  /** When not null, the directory every call uses when no `dir` is given (Python's `tempfile.tempdir`). */
  tempdir: string | null;
  /**
   * When not null, the prefix of every generated name when no `prefix` is given.
   * @deprecated As in Python: give `prefix`, or read {@link gettempprefix}.
   */
  template: string | null;
}

export type { Bytes } from '../../src/tempfile';
export type {
  Stats,
  TempKind,
  TrackedKind,
  RemoveReason,
  CreateMessage,
  RemoveMessage,
  LeakMessage,
  CleanupErrorMessage,
} from '../../src/_diagnostics';

export type { TextEncoding } from '../../src/_mode';
