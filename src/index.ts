// securetemp: the default export is one mutable settings-and-functions object,
// the same whether the package is loaded with require() or import.
import { settings } from './_settings';
import { gettempdir } from './gettempdir';
import { gettempprefix, TMP_MAX } from './_names';
import {
  mkstemp,
  mkstempSync,
  mkdtemp,
  mkdtempSync,
  mktemp,
  TemporaryFile,
  TemporaryFileSync,
} from './create';
import { TempFile as TempFileClass } from './tempfile';
import { TempDir as TempDirClass, TemporaryDirectory, TemporaryDirectorySync } from './tempdir';
import { cleanupOnSignals } from './_lifetime';
import { NamedTemporaryFile, NamedTemporaryFileSync } from './named';
import { SpooledTemporaryFile, SpooledTempFile as SpooledTempFileClass } from './spooled';
import { writeFileAtomic, writeFileAtomicSync } from './atomic';
import { stats } from './_diagnostics';
import type * as diagnosticsTypes from './_diagnostics';
import type * as namedTypes from './named';
import type * as spooledTypes from './spooled';
import type * as fileTypes from './tempfile';
import type * as dirTypes from './tempdir';
import type * as createTypes from './create';
import type * as optionTypes from './_options';
import type * as atomicTypes from './atomic';
import type * as persistTypes from './persist';

const tempfile = {
  /** When not null, the directory every call uses when no `dir` is given. */
  get tempdir(): string | null {
    return settings.tempdir;
  },
  set tempdir(v: string | null) {
    settings.tempdir = v;
  },
  /** Deprecated (as in the seed): when not null, the prefix of every generated name. Use gettempprefix()/prefix. */
  get template(): string | null {
    return settings.template;
  },
  set template(v: string | null) {
    settings.template = v;
  },
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
  TempFile: TempFileClass,
  NamedTemporaryFile,
  NamedTemporaryFileSync,
  SpooledTemporaryFile,
  SpooledTempFile: SpooledTempFileClass,
  TemporaryDirectory,
  TemporaryDirectorySync,
  TempDir: TempDirClass,
  cleanupOnSignals,
  writeFileAtomic,
  writeFileAtomicSync,
  /** Live objects per kind, and totals created, removed and leaked (see README "Observability"). */
  stats,
};

// Types, reachable as tempfile.TempFile etc. from both module systems.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace tempfile {
  export type TempFile = TempFileClass;
  export type TempDir = TempDirClass;
  export type SpooledTempFile = SpooledTempFileClass;
  export type NamedTemporaryFileOptions = namedTypes.NamedTemporaryFileOptions;
  export type SpooledTemporaryFileOptions = spooledTypes.SpooledTemporaryFileOptions;
  export type ReadStreamOptions = fileTypes.ReadStreamOptions;
  export type WriteStreamOptions = fileTypes.WriteStreamOptions;
  export type TemporaryDirectoryOptions = dirTypes.TemporaryDirectoryOptions;
  export type MkstempResult = createTypes.MkstempResult;
  export type MkstempOptions = createTypes.MkstempOptions;
  export type MkdtempOptions = createTypes.MkdtempOptions;
  export type TemporaryFileOptions = createTypes.TemporaryFileOptions;
  export type TemporaryFileMemoryOptions = createTypes.TemporaryFileMemoryOptions;
  export type NameOptions = optionTypes.NameOptions;
  export type CreateOptions = optionTypes.CreateOptions;
  export type PersistOptions = persistTypes.PersistOptions;
  export type WriteFileAtomicOptions = atomicTypes.WriteFileAtomicOptions;
  export type AtomicChunk = atomicTypes.AtomicChunk;
  export type AtomicData = atomicTypes.AtomicData;
  export type AtomicDataSync = atomicTypes.AtomicDataSync;
  export type Stats = diagnosticsTypes.Stats;
  export type TempKind = diagnosticsTypes.TempKind;
  export type TrackedKind = diagnosticsTypes.TrackedKind;
  export type RemoveReason = diagnosticsTypes.RemoveReason;
  export type CreateMessage = diagnosticsTypes.CreateMessage;
  export type RemoveMessage = diagnosticsTypes.RemoveMessage;
  export type LeakMessage = diagnosticsTypes.LeakMessage;
  export type CleanupErrorMessage = diagnosticsTypes.CleanupErrorMessage;
}

export = tempfile;
