// The seed's creators (mktemp, TemporaryFile) and the secure primitives
// (mkstemp, mkdtemp). Every creation is one call into the addon, which opens
// the directory once and creates relative to that handle.
import * as fs from 'node:fs';
import { addonNow, KIND_DIR, KIND_FILE, KIND_UNNAMED, FLAG_NO_TMPFILE, type Kind, type CreateArgs } from './_binding';
import { invalidArgType, invalidArgValue, systemError } from './_errors';
import { candidateNames, randomPart, TMP_MAX } from './_names';
import { parseBufsize, parseEncoding, parseMode, type TextEncoding } from './_mode';
import {
  checkOptionsObject,
  checkPermissions,
  joinPath,
  resolveNameOptions,
  NAME_KEYS,
  type CreateOptions,
  type NameOptions,
  type Resolved,
} from './_options';
import { TempFile } from './tempfile';
import { internals } from './_internals';
import { publishUntracked } from './_diagnostics';

export interface MkstempOptions extends CreateOptions {
  /** Permission bits, further narrowed by the umask (default 0o600). */
  permissions?: number;
}

export interface MkdtempOptions extends CreateOptions {
  /** Permission bits, further narrowed by the umask (default 0o700). */
  permissions?: number;
}

export interface TemporaryFileOptions extends CreateOptions {
  /** Python's mode string (default 'w+b'). */
  mode?: string;
  /** -1 default buffer, 0 unbuffered (binary), 1 line buffered (text), n bytes. */
  bufsize?: number;
  /** Text mode encoding (default 'utf8'). */
  encoding?: string;
  /**
   * A cap on the file's size in bytes (default: none). A write, writelines, truncate or write
   * stream that would take the file past it fails with EFBIG and writes nothing past it.
   */
  maxBytes?: number;
}

const MKSTEMP_KEYS = [...NAME_KEYS, 'permissions'] as const;

/** The addon's arguments for one creation. */
export function nativeArgs<K extends Kind>(r: Resolved, kind: K, perms: number): CreateArgs<K> {
  let flags = r.flags;
  if (kind === KIND_UNNAMED && internals.forceNoTmpfile) flags |= FLAG_NO_TMPFILE;
  return [r.dir, r.prefix, r.suffix, kind, flags, perms, candidateNames(r.prefix, r.suffix)];
}

/** A file created O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, readable and writable only by you. */
/** What mkstemp() gives: the open descriptor and the absolute path, yours to close and remove. */
export interface MkstempResult {
  /** The open descriptor (O_RDWR, close-on-exec). */
  fd: number;
  /** The file's absolute path. */
  path: string;
}

/** Options of mkstemp/mkdtemp, checked before anything is created. */
function primitiveArgs<K extends typeof KIND_FILE | typeof KIND_DIR>(options: unknown, kind: K, perms: number) {
  const o = checkOptionsObject('options', options, MKSTEMP_KEYS);
  const p = checkPermissions(o.permissions, perms);
  const r = resolveNameOptions(o);
  return [r, nativeArgs(r, kind, p)] as const;
}

/**
 * Creates a new file atomically and exclusively; you own it (it is never removed for you).
 * Security: never follows a planted link; permissions are `permissions & ~umask`.
 */
export function mkstempSync(options?: MkstempOptions): MkstempResult {
  const [r, a] = primitiveArgs(options, KIND_FILE, 0o600);
  const res = addonNow().createSync(...a);
  const path = joinPath(r.dir, res[1]);
  publishUntracked('mkstemp', path, res[0]);
  return { fd: res[0], path };
}

/** As {@link mkstempSync}, asynchronously (the creation runs on the libuv thread pool). */
export async function mkstemp(options?: MkstempOptions): Promise<MkstempResult> {
  const [r, a] = primitiveArgs(options, KIND_FILE, 0o600);
  const res = await addonNow().create(...a);
  const path = joinPath(r.dir, res[1]);
  publishUntracked('mkstemp', path, res[0]);
  return { fd: res[0], path };
}

/** Creates a new directory (0o700 & ~umask by default) and returns its absolute path. You own it. */
export function mkdtempSync(options?: MkdtempOptions): string {
  const [r, a] = primitiveArgs(options, KIND_DIR, 0o700);
  const path = joinPath(r.dir, addonNow().createSync(...a));
  publishUntracked('mkdtemp', path, -1);
  return path;
}

/** As {@link mkdtempSync}, asynchronously. */
export async function mkdtemp(options?: MkdtempOptions): Promise<string> {
  const [r, a] = primitiveArgs(options, KIND_DIR, 0o700);
  const path = joinPath(r.dir, await addonNow().create(...a));
  publishUntracked('mkdtemp', path, -1);
  return path;
}

// Names mktemp() has handed out: never the same one twice in a process.
const issued = new Set<string>();

/**
 * The seed's mktemp(): an absolute path that did not exist when the call was made. Creates
 * nothing, so it is racy by nature: another process can create that path before you do.
 * Use mkstemp()/mkdtemp() to create securely.
 */
export function mktemp(options?: string | NameOptions): string {
  const o =
    typeof options === 'string'
      ? { suffix: options }
      : checkOptionsObject('options', options, ['suffix', 'prefix', 'dir'] as const);
  const r = resolveNameOptions(o);
  for (let i = 0; i < TMP_MAX; i++) {
    const p = joinPath(r.dir, r.prefix + randomPart() + r.suffix);
    if (issued.has(p) || fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined) continue;
    issued.add(p);
    return p;
  }
  throw systemError('EEXIST', 'mktemp', r.dir, `no unused name found in ${TMP_MAX} attempts`);
}

export interface FileArgs {
  mode: string;
  info: ReturnType<typeof parseMode>;
  bufsize: number;
  encoding: TextEncoding | null;
  maxBytes: number; // Infinity: no cap
  r: Resolved;
  o: Record<string, unknown>;
}

/** Checks a file creator's options object (`keys`: what it accepts). */
export function fileArgs(o: Record<string, unknown>): FileArgs {
  const mode = o.mode === undefined ? 'w+b' : (o.mode as string);
  const info = parseMode(mode);
  const bufsize = o.bufsize === undefined ? -1 : parseBufsize(o.bufsize, info.text);
  let encoding: TextEncoding | null = null;
  if (o.encoding !== undefined) {
    if (!info.text) throw invalidArgType('encoding', 'undefined in binary mode', o.encoding);
    encoding = parseEncoding(o.encoding);
  } else if (info.text) encoding = 'utf8';
  return { mode, info, bufsize, encoding, maxBytes: parseMaxBytes(o.maxBytes), r: resolveNameOptions(o), o };
}

/** maxBytes: undefined or Infinity (no cap), or an integer from 0 to Number.MAX_SAFE_INTEGER. */
function parseMaxBytes(v: unknown): number {
  if (v === undefined || v === Infinity) return Infinity;
  if (typeof v !== 'number') throw invalidArgType('maxBytes', 'of type number', v);
  if (!Number.isSafeInteger(v) || v < 0) throw invalidArgValue('maxBytes', v, 'must be an integer >= 0 or Infinity');
  return v;
}

export const FILE_KEYS = [...NAME_KEYS, 'mode', 'bufsize', 'encoding', 'maxBytes'] as const;
const TEMPORARY_FILE_KEYS = [...FILE_KEYS, 'memory'] as const;

export interface TemporaryFileMemoryOptions extends TemporaryFileOptions {
  /**
   * true: a memory-only file (Linux and FreeBSD: memfd_create), never on any file system;
   * ERR_UNSUPPORTED_OPERATION elsewhere. 'prefer': the same where there is one, else an unnamed
   * TemporaryFile (`memory` on the file says which). dir, prefix and suffix are checked, and
   * used only by that fallback.
   */
  memory?: boolean | 'prefer';
}

type MemoryChoice = false | true | 'prefer';

function parseMemory(v: unknown): MemoryChoice {
  if (v === undefined || v === false || v === true || v === 'prefer') return v ?? false;
  if (typeof v !== 'string') throw invalidArgType('memory', "a boolean or 'prefer'", v);
  throw invalidArgValue('memory', v, "must be true, false or 'prefer'");
}

function memoryUnsupported(): Error {
  const e = new Error(
    "memory-only files are not supported here (memfd_create: Linux and FreeBSD); memory: 'prefer' falls back to an unnamed TemporaryFile",
  ) as Error & { code: string };
  e.code = 'ERR_UNSUPPORTED_OPERATION';
  return e;
}

/** A memfd, or null when there is none and 'prefer' allows an ordinary unnamed file. */
function memfd(memory: MemoryChoice): number | null {
  if (memory === false) return null;
  try {
    return addonNow().memfdCreateSync();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSYS') throw e;
    if (memory === 'prefer') return null;
    throw memoryUnsupported();
  }
}

/**
 * The seed's positional form (mode, bufsize, suffix) or an options object. Two values, not one
 * object spread from fileArgs' (`{...fileArgs(o), memory}`): that copy cost more than the rest of
 * the JavaScript of a TemporaryFileSync() together (a slow-path map transition per call).
 */
function temporaryFileArgs(a: unknown[]): [FileArgs, MemoryChoice] {
  if (a.length === 1 && typeof a[0] === 'object' && a[0] !== null) {
    const o = checkOptionsObject('options', a[0], TEMPORARY_FILE_KEYS);
    const memory = parseMemory(o.memory);
    return [fileArgs(o), memory];
  }
  if (a.length > 3) throw invalidArgType('arguments', 'at most (mode, bufsize, suffix) or one options object', a);
  const o: Record<string, unknown> = { mode: a[0], bufsize: a[1], suffix: a[2] };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return [fileArgs(o), false];
}

export function makeFile(f: FileArgs, fd: number, path: string | null, memory = false): TempFile {
  return new TempFile({ fd, path, mode: f.mode, info: f.info, bufsize: f.bufsize, encoding: f.encoding, maxBytes: f.maxBytes, memory });
}

/**
 * The seed's TemporaryFile(): a file that never has a name on Linux (O_TMPFILE), is unlinked
 * before it is returned elsewhere on POSIX, and is deleted on close on Windows. Nothing is left
 * behind after close, exit or a crash.
 */
export function TemporaryFileSync(options?: TemporaryFileMemoryOptions): TempFile;
export function TemporaryFileSync(mode?: string, bufsize?: number, suffix?: string): TempFile;
export function TemporaryFileSync(...a: unknown[]): TempFile {
  const [f, memory] = temporaryFileArgs(a);
  const m = memfd(memory);
  if (m !== null) return makeFile(f, m, null, true);
  return makeFile(f, addonNow().createSync(...nativeArgs(f.r, KIND_UNNAMED, 0o600)), null);
}

/** As {@link TemporaryFileSync}, asynchronously. */
export function TemporaryFile(options?: TemporaryFileMemoryOptions): Promise<TempFile>;
export function TemporaryFile(mode?: string, bufsize?: number, suffix?: string): Promise<TempFile>;
export async function TemporaryFile(...a: unknown[]): Promise<TempFile> {
  const [f, memory] = temporaryFileArgs(a);
  // memfd_create touches no storage and does not block: made here, not on the thread pool.
  const m = memfd(memory);
  if (m !== null) return makeFile(f, m, null, true);
  return makeFile(f, await addonNow().create(...nativeArgs(f.r, KIND_UNNAMED, 0o600)), null);
}
