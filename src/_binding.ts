// The one place the addon is loaded and its signatures are typed. It is loaded on first use,
// not when securetemp is required: code under test that swaps `fs` or `path` while requiring its
// dependencies (require-inject, proxyquire, as npm's own packages do) would otherwise hand
// node-gyp-build the swapped modules, and a command line that never creates anything starts
// faster.
import * as path from 'node:path';

export const KIND_FILE = 0;
export const KIND_DIR = 1;
export const KIND_UNNAMED = 2;
export type Kind = typeof KIND_FILE | typeof KIND_DIR | typeof KIND_UNNAMED;

export const FLAG_ALLOW_INSECURE = 1;
export const FLAG_NO_TMPFILE = 2;
/** Named file or directory: keep the directory handle it was made through (and a directory's own). */
export const FLAG_HOLD = 64;
/** writeFileAtomic: fsync the file before the rename and the directory after it. */
export const FLAG_FSYNC = 4;
/** Out of atomicBegin: the directory could only be opened without read access (no fsync). */
export const FLAG_NO_DIRSYNC = 8;
/** atomicCommit/atomicWrite: give the file setUid/setGid. */
export const FLAG_CHOWN = 16;
/** atomicBegin/atomicWrite: a new file's mode (0o666 narrowed by the umask, by the kernel), whatever is at the target. */
export const FLAG_UMASK_MODE = 32;
/** rename/linkFd: fail with EEXIST rather than replace the destination. */
export const MOVE_NOREPLACE = 1;

/** What one creation returns: an unnamed file's fd, a directory's name, a named file's [fd, name]. */
export interface CreateResults {
  [KIND_FILE]: [fd: number, name: string];
  [KIND_DIR]: string;
  [KIND_UNNAMED]: number;
}

export type CreateArgs<K extends Kind> = readonly [
  dir: string,
  prefix: string,
  suffix: string,
  kind: K,
  flags: number,
  perms: number,
  names: string[] | null,
  /** When given: `dir` is relative to it, and the directory opened must be inside it (else ERR_OUTSIDE_ROOT). */
  beneath?: string,
];

export type RenameArgs = readonly [from: string, dir: string, name: string, flags: number];

export type LinkFdArgs = readonly [
  fd: number,
  dir: string,
  name: string,
  flags: number,
  prefix: string,
  suffix: string,
  names: string[] | null,
];

export type PersistAtArgs = readonly [
  handle: number,
  fromName: string,
  fromPath: string,
  fd: number,
  dir: string,
  name: string,
  flags: number,
  prefix: string,
  suffix: string,
  names: string[] | null,
];

export type AtomicBeginArgs = readonly [
  dir: string,
  name: string,
  prefix: string,
  suffix: string,
  flags: number,
  names: string[] | null,
  createPerms: number,
];

/** The temp file, and what the trust rule kept of the file it replaces (core.h; -1: nothing). */
export type AtomicBegun = [fd: number, dirfd: number, tmpName: string, flags: number, mode: number, uid: number, gid: number];

/** What commit gives the file: setMode (-1: the replaced file's), setUid/setGid with FLAG_CHOWN. */
export type AtomicSettings = readonly [setMode: number, setUid: number, setGid: number];

export type AtomicCommitArgs = readonly [
  fd: number,
  dirfd: number,
  dir: string,
  name: string,
  tmpName: string,
  flags: number,
  mode: number,
  uid: number,
  gid: number,
  ...settings: AtomicSettings,
  prefix: string,
  suffix: string,
  names: string[] | null,
];

export type AtomicWriteArgs = readonly [...begin: AtomicBeginArgs, data: Uint8Array, ...settings: AtomicSettings];

export type AtomicAbortArgs = readonly [fd: number, dirfd: number, dir: string, tmpName: string];

export interface Native {
  createSync<K extends Kind>(...args: CreateArgs<K>): CreateResults[K];
  create<K extends Kind>(...args: CreateArgs<K>): Promise<CreateResults[K]>;
  /** Removes a tree without following links; throws the first failure (with `errors`: how many). */
  removeTreeSync(path: string): void;
  removeTree(path: string): Promise<void>;
  /** A TemporaryDirectory's removal through its handles (core.h st_remove_tree_at); path only for messages. */
  removeTreeAtSync(parent: number, own: number, name: string, path: string): void;
  removeTreeAt(parent: number, own: number, name: string, path: string): Promise<void>;
  /** persist of a named file through its held directory handle (core.h st_persist_at). */
  persistAtSync(...args: PersistAtArgs): void;
  persistAt(...args: PersistAtArgs): Promise<void>;
  /** Drops one reference to a held directory handle. */
  dirRelease(handle: number): void;
  /** Closes the handles no object holds; how many. */
  dirReleaseIdle(): number;
  /** Directory handles the table holds open. */
  dirOpenCount(): number;
  /** Unlinks name in the held directory only while it is the file fd holds; path only for messages. */
  unlinkAtSync(handle: number, name: string, fd: number, path: string): void;
  /** openat(handle, name, O_RDWR|O_NOFOLLOW), kept only if it is fd's file: the new fd, or -1. */
  reopenAtSync(handle: number, name: string, fd: number, path: string): number;
  randomChars(n: number): string;
  /** A worker's object, removed when the process exits (kind: EXIT_*; dev -1: no identity check). */
  removeAtProcessExit(kind: number, path: string, dev: number, ino: number): void;
  /** The handed-over objects removed now (a signal is about to end the process). */
  removeHandedOverNow(): void;
  /** Tests only: every thread's pool of random bytes is stale; the next name reads the OS CSPRNG. */
  randomInvalidate(): void;
  /** Closes a descriptor the addon opened (libuv's close; see _close.ts). */
  closeSync(fd: number): void;
  /** rename(from, dir/name); MOVE_NOREPLACE: EEXIST rather than replace, atomically. */
  renameSync(...args: RenameArgs): void;
  rename(...args: RenameArgs): Promise<void>;
  /** Names the open file fd dir/name (an O_TMPFILE file); replacing goes through a fresh name. */
  linkFdSync(...args: LinkFdArgs): void;
  linkFd(...args: LinkFdArgs): Promise<void>;
  /** Atomic replacement, step 1: directory handle, the target's metadata, the temp file (0600). */
  atomicBeginSync(...args: AtomicBeginArgs): AtomicBegun;
  atomicBegin(...args: AtomicBeginArgs): Promise<AtomicBegun>;
  /** Step 2: owner and mode (see core.h), fsync, link, rename, directory fsync; closes what begin opened. */
  atomicCommitSync(...args: AtomicCommitArgs): void;
  atomicCommit(...args: AtomicCommitArgs): Promise<void>;
  /** Begin, write all of data, commit (or abort): one call for data given whole. */
  atomicWriteSync(...args: AtomicWriteArgs): void;
  atomicWrite(...args: AtomicWriteArgs): Promise<void>;
  /** Or: unlink the temp name if it has one, close what begin opened. */
  atomicAbortSync(...args: AtomicAbortArgs): void;
  atomicAbort(...args: AtomicAbortArgs): Promise<void>;
  /** False where commit/abort leave the fd open for JavaScript to close (Windows). */
  readonly ATOMIC_CLOSES_FD: boolean;
  tmpfileKnownUnsupported(): boolean;
  /** n bytes of memory from the system (mmap, VirtualAlloc), given back when the Buffer is collected. */
  pagesAlloc(n: number): Buffer;
  /** memfd_create(MFD_CLOEXEC|MFD_ALLOW_SEALING): a descriptor; ENOSYS where unsupported. */
  memfdCreateSync(): number;
  /** F_ADD_SEALS F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE|F_SEAL_SEAL (syscall 'fcntl'). */
  memfdSealSync(fd: number): void;
  /** F_GET_SEALS. */
  memfdSealsSync(fd: number): number;
  /** True in a build with st_posix_portable=1: POSIX without the Linux extras (the macOS/BSD path). */
  readonly PORTABLE: boolean;
  readonly TMP_MAX: number;
  readonly RANDOM_CHARS: number;
}

/**
 * Internal, for tests only: SECURETEMP_ADDON=<path of a .node file> loads that build
 * instead of the package's own (npm run test:portable runs the whole suite against the
 * st_posix_portable build with it). Not an API. Whoever sets a process's environment can
 * already make it load code (NODE_OPTIONS=--require), so this opens nothing new.
 */
function loadAddon(): Native {
  const override = process.env.SECURETEMP_ADDON;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (override) return require(path.resolve(override)) as Native;
  // node-gyp-build is required here too: it takes `fs` and `path` when it is first required.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (dir: string) => unknown;
  const root = path.join(__dirname, '..');
  try {
    return load(root) as Native;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('No native build was found')) throw noBuild(root, err);
    throw err;
  }
}

/**
 * node-gyp-build found neither a prebuild for this platform nor a compiled build (none shipped
 * for it, and the install script could not compile one, or did not run): say which platform and
 * what builds one, instead of its "No native build was found for platform=… abi=…".
 */
function noBuild(root: string, cause: Error): Error {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  const libc = process.platform === 'linux' ? (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc') : '';
  const tuple = `${process.platform}-${process.arch}${libc ? ` (${libc})` : ''}`;
  let shipped: string[] = [];
  try {
    shipped = fs.readdirSync(path.join(root, 'prebuilds'));
  } catch {
    // none shipped (a git checkout)
  }
  const toolchain =
    process.platform === 'win32'
      ? 'Visual Studio Build Tools ("Desktop development with C++") and Python 3'
      : process.platform === 'darwin'
        ? 'the Xcode Command Line Tools (xcode-select --install) and Python 3'
        : libc === 'musl'
          ? 'a C++ compiler, make and Python 3 (apk add g++ make python3)'
          : 'a C++ compiler, make and Python 3 (Debian/Ubuntu: apt-get install g++ make python3; Fedora: dnf install gcc-c++ make python3)';
  const err = new Error(
    `securetemp: no native addon for ${tuple}: the package ships prebuilds for ${shipped.length ? shipped.join(', ') : 'no platform'}, ` +
      `and none was compiled at install. To compile one, install ${toolchain}, then run \`npm rebuild securetemp\` ` +
      `(install scripts allowed: not --ignore-scripts; pnpm: pnpm approve-builds).`,
    { cause },
  );
  (err as NodeJS.ErrnoException).code = 'ERR_SECURETEMP_NO_BUILD';
  return err;
}

let addon: Native | null = null;

/** The addon itself, loaded now if need be: the creation hot path, without the Proxy's trap. */
export function addonNow(): Native {
  return addon ?? (addon = loadAddon());
}

/** The addon, loaded by the first property read (a function, a constant). */
export const native: Native = new Proxy({} as Native, {
  get(_target, key) {
    return addonNow()[key as keyof Native];
  },
});

/** True once something has used the addon (tests: nothing loads it at require time). */
export function addonLoaded(): boolean {
  return addon !== null;
}
