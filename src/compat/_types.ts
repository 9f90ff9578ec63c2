/// <reference types="node" preserve="true" />
// The public types of the compat entry points (securetemp/tmp, securetemp/tmp-promise,
// securetemp/write-file-atomic), named as @types/tmp, tmp-promise and
// @types/write-file-atomic name them.

/** The options npm tmp documents (all optional; anything else is ignored, as tmp does). */
export interface TmpNameOptions {
  /** A fixed name (one path component) instead of a generated one; tried once. */
  name?: string | undefined;
  /** Text before the generated part (default 'tmp'); no separators, no '..'. */
  prefix?: string | undefined;
  /** Text after the generated part (tmp joins it with a '-'); no separators, no '..'. */
  postfix?: string | undefined;
  /** mkstemp-like: its first XXXXXX is replaced by 6 random characters. */
  template?: string | undefined;
  /** Where to create, relative to `tmpdir` (an absolute path must lead inside it). */
  dir?: string | undefined;
  /** The root temporary directory (default os.tmpdir()). */
  tmpdir?: string | undefined;
  /** How many more names to try after a collision (default 3). */
  tries?: number | undefined;
}

/** Removes the file or directory (once; later calls do nothing). */
export type RemoveCallback = () => void;
/** Removes the file or directory, then calls `next` (with an error, if removal failed). */
export type CleanupCallback = (next?: (err?: Error | null) => void) => void;

export interface FileOptions extends TmpNameOptions {
  /** Permission bits, narrowed by the umask (default 0o600). */
  mode?: number | undefined;
  /** Leave the file in place at exit even after setGracefulCleanup(). */
  keep?: boolean | undefined;
  /** Close the descriptor at once; `fd` is undefined. */
  discardDescriptor?: boolean | undefined;
  /** The descriptor is yours to close; removal leaves it open. */
  detachDescriptor?: boolean | undefined;
}

export interface DirOptions extends TmpNameOptions {
  /** Permission bits, narrowed by the umask (default 0o700). */
  mode?: number | undefined;
  /** Leave the directory in place at exit even after setGracefulCleanup(). */
  keep?: boolean | undefined;
  /** Remove it with everything in it (securetemp's removal: never follows a link out of it). */
  unsafeCleanup?: boolean | undefined;
}

/** tmp: what `fileSync` returns. */
export interface FileResult {
  /** The file's absolute path. */
  name: string;
  /** Its open descriptor; undefined with `discardDescriptor` (typed `number`, as @types/tmp has it). */
  fd: number;
  /** Closes the descriptor (unless detached or discarded) and removes the file if its name still leads to it. */
  removeCallback: RemoveCallback;
}

/** tmp: what `dirSync` returns. */
export interface DirResult {
  /** The directory's absolute path. */
  name: string;
  /** Removes the directory (rmdir, or everything in it with `unsafeCleanup`). */
  removeCallback: RemoveCallback;
}

/** tmp: `file`'s callback: the error, or the path, the descriptor and the removal function. */
export type FileCallback = (err: Error | null, name: string, fd: number, removeCallback: CleanupCallback) => void;
/** tmp: `dir`'s callback: the error, or the path and the removal function. */
export type DirCallback = (err: Error | null, name: string, removeCallback: CleanupCallback) => void;
/** tmp: `tmpName`'s callback: the error, or the name. */
export type TmpNameCallback = (err: Error | null, name: string) => void;

/** tmp-promise: a directory and its removal. */
export interface DirectoryResult {
  /** The absolute path. */
  path: string;
  /** Removes the directory (rmdir, or everything in it with unsafeCleanup). */
  cleanup: () => Promise<void>;
}

/** tmp-promise: a file, its descriptor (undefined with discardDescriptor) and its removal. */
export interface PromiseFileResult extends DirectoryResult {
  /** The open descriptor. */
  fd: number;
}

/** write-file-atomic's options. */
export interface WriteFileAtomicOptions {
  /** Owner and group of the new file (default: the replaced file's); false: yours, as created. */
  chown?:
    | {
        /** User id. */
        uid: number;
        /** Group id. */
        gid: number;
      }
    | false
    | null
    | undefined;
  /** The encoding of string data (default 'utf8'); ignored for bytes. */
  encoding?: BufferEncoding | null | undefined;
  /** fsync the file before the rename and the directory after it (default true). */
  fsync?: boolean | undefined;
  /** Permission bits of the new file, exactly (default: the replaced file's, if it is trusted: see writeFileAtomic); false: 0o666 & ~umask. */
  mode?: number | false | null | undefined;
  /**
   * Called once the temp file exists, before data is written (awaited by the async form), with
   * null: the temp file has no name (Linux O_TMPFILE) or one that is not handed out.
   */
  tmpfileCreated?: ((tmpfile: null) => unknown) | undefined;
}

/** What write-file-atomic writes: a string or bytes; null/undefined as nothing; anything else String(data). */
export type WriteFileAtomicData =
  | string
  | NodeJS.ArrayBufferView
  | null
  | undefined
  | {
      /** Gives the text written. */
      toString(): string;
    };

/** write-file-atomic: called with the error, or with nothing once the file is replaced. */
export type WriteFileAtomicCallback = (err?: Error) => unknown;

/** tempy: where to create. */
export interface TempyBaseOptions {
  /** A directory inside the root to create in, made (0700) if missing; one path component. */
  readonly parentDirectory?: string;
  /** An absolute directory to use instead of the OS temporary directory, made if missing. */
  readonly rootDirectory?: string;
}

/** tempy: `extension` or `name`, not both. */
export type TempyFileOptions = TempyBaseOptions &
  (
    | {
        /** The file name's extension (with or without the dot), after a random name. */
        readonly extension?: string;
        /** Not with `extension`. */
        readonly name?: never;
      }
    | {
        /** The exact file name, in a fresh random directory. */
        readonly name?: string;
        /** Not with `name`. */
        readonly extension?: never;
      }
  );

export interface TempyDirectoryOptions extends TempyBaseOptions {
  /** Text before the random part of the directory's name. */
  readonly prefix?: string;
}

/** tempy: called with the temporary path; may be asynchronous. */
export type TempyTaskCallback<T> = (temporaryPath: string) => Promise<T> | T;

/** temp: affixes as an object. */
export interface TempAffixes {
  /** Text before the random part of the name. */
  prefix?: string | null;
  /** Text after it. */
  suffix?: string | null;
  /** The directory to create in (default temp.dir), made if missing. */
  dir?: string;
}

/** temp: a prefix string, an affixes object, or nothing for the defaults ('f-', 'd-', 's-'). */
export type TempAffixesArg = string | TempAffixes | null | undefined;

/** temp: what `open`/`openSync` give. */
export interface TempOpenResult {
  /** The file's absolute path. */
  path: string;
  /** Its open descriptor. */
  fd: number;
}

/** tempy: what `temporaryWrite` and `temporaryWriteTask` write (a stream is piped to the file). */
export type TempyContent = string | NodeJS.ArrayBufferView | NodeJS.ReadableStream;

/** temp: the Node-style callback its functions take instead of returning a Promise. */
export type TempCallback<T> = (err: Error | null, result: T) => void;

/** temp: what `cleanup`/`cleanupSync` removed (`cleanupSync` gives `false` when tracking is off). */
export interface TempStats {
  /** Files removed. */
  files: number;
  /** Directories removed (each with everything in it). */
  dirs: number;
}
