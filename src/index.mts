// The ES module face of the package: the CommonJS module's object is the
// default export, so both module systems share one state.
import tempfile from './index.js';

export default tempfile;
export const {
  TMP_MAX,
  gettempdir,
  gettempprefix,
  mktemp,
  mkstemp,
  mkstempSync,
  mkdtemp,
  mkdtempSync,
  TemporaryFile,
  TemporaryFileSync,
  TempFile,
  NamedTemporaryFile,
  NamedTemporaryFileSync,
  SpooledTemporaryFile,
  SpooledTempFile,
  TemporaryDirectory,
  TemporaryDirectorySync,
  TempDir,
  cleanupOnSignals,
  writeFileAtomic,
  writeFileAtomicSync,
  stats,
} = tempfile;
export type TempFile = tempfile.TempFile;
export type TempDir = tempfile.TempDir;
export type SpooledTempFile = tempfile.SpooledTempFile;
export type NamedTemporaryFileOptions = tempfile.NamedTemporaryFileOptions;
export type SpooledTemporaryFileOptions = tempfile.SpooledTemporaryFileOptions;
export type ReadStreamOptions = tempfile.ReadStreamOptions;
export type WriteStreamOptions = tempfile.WriteStreamOptions;
export type TemporaryDirectoryOptions = tempfile.TemporaryDirectoryOptions;
export type MkstempResult = tempfile.MkstempResult;
export type MkstempOptions = tempfile.MkstempOptions;
export type MkdtempOptions = tempfile.MkdtempOptions;
export type TemporaryFileOptions = tempfile.TemporaryFileOptions;
export type TemporaryFileMemoryOptions = tempfile.TemporaryFileMemoryOptions;
export type NameOptions = tempfile.NameOptions;
export type CreateOptions = tempfile.CreateOptions;
export type PersistOptions = tempfile.PersistOptions;
export type WriteFileAtomicOptions = tempfile.WriteFileAtomicOptions;
export type AtomicChunk = tempfile.AtomicChunk;
export type AtomicData = tempfile.AtomicData;
export type AtomicDataSync = tempfile.AtomicDataSync;
export type Stats = tempfile.Stats;
export type TempKind = tempfile.TempKind;
export type TrackedKind = tempfile.TrackedKind;
export type RemoveReason = tempfile.RemoveReason;
export type CreateMessage = tempfile.CreateMessage;
export type RemoveMessage = tempfile.RemoveMessage;
export type LeakMessage = tempfile.LeakMessage;
export type CleanupErrorMessage = tempfile.CleanupErrorMessage;
