// The seed's creators (mktemp, TemporaryFile) and the secure primitives
// (mkstemp, mkdtemp). Every creation is one call into the addon, which opens
// the directory once and creates relative to that handle.
import * as fs from 'node:fs';
import { native, KIND_DIR, KIND_FILE, KIND_UNNAMED, FLAG_NO_TMPFILE, type Kind, type CreateArgs } from './_binding';
import { invalidArgType, systemError } from './_errors';
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
  const res = native.createSync(...a);
  return { fd: res[0], path: joinPath(r.dir, res[1]) };
}

/** As {@link mkstempSync}, asynchronously (the creation runs on the libuv thread pool). */
export async function mkstemp(options?: MkstempOptions): Promise<MkstempResult> {
  const [r, a] = primitiveArgs(options, KIND_FILE, 0o600);
  const res = await native.create(...a);
  return { fd: res[0], path: joinPath(r.dir, res[1]) };
}

/** Creates a new directory (0o700 & ~umask by default) and returns its absolute path. You own it. */
export function mkdtempSync(options?: MkdtempOptions): string {
  const [r, a] = primitiveArgs(options, KIND_DIR, 0o700);
  return joinPath(r.dir, native.createSync(...a));
}

/** As {@link mkdtempSync}, asynchronously. */
export async function mkdtemp(options?: MkdtempOptions): Promise<string> {
  const [r, a] = primitiveArgs(options, KIND_DIR, 0o700);
  return joinPath(r.dir, await native.create(...a));
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
  return { mode, info, bufsize, encoding, r: resolveNameOptions(o), o };
}

export const FILE_KEYS = [...NAME_KEYS, 'mode', 'bufsize', 'encoding'] as const;

/** The seed's positional form (mode, bufsize, suffix) or an options object. */
function temporaryFileArgs(a: unknown[]): FileArgs {
  if (a.length === 1 && typeof a[0] === 'object' && a[0] !== null) {
    return fileArgs(checkOptionsObject('options', a[0], FILE_KEYS));
  }
  if (a.length > 3) throw invalidArgType('arguments', 'at most (mode, bufsize, suffix) or one options object', a);
  const o: Record<string, unknown> = { mode: a[0], bufsize: a[1], suffix: a[2] };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return fileArgs(o);
}

export function makeFile(f: FileArgs, fd: number, path: string | null): TempFile {
  return new TempFile({ fd, path, mode: f.mode, info: f.info, bufsize: f.bufsize, encoding: f.encoding });
}

/**
 * The seed's TemporaryFile(): a file that never has a name on Linux (O_TMPFILE), is unlinked
 * before it is returned elsewhere on POSIX, and is deleted on close on Windows. Nothing is left
 * behind after close, exit or a crash.
 */
export function TemporaryFileSync(options?: TemporaryFileOptions): TempFile;
export function TemporaryFileSync(mode?: string, bufsize?: number, suffix?: string): TempFile;
export function TemporaryFileSync(...a: unknown[]): TempFile {
  const f = temporaryFileArgs(a);
  return makeFile(f, native.createSync(...nativeArgs(f.r, KIND_UNNAMED, 0o600)), null);
}

/** As {@link TemporaryFileSync}, asynchronously. */
export function TemporaryFile(options?: TemporaryFileOptions): Promise<TempFile>;
export function TemporaryFile(mode?: string, bufsize?: number, suffix?: string): Promise<TempFile>;
export async function TemporaryFile(...a: unknown[]): Promise<TempFile> {
  const f = temporaryFileArgs(a);
  return makeFile(f, await native.create(...nativeArgs(f.r, KIND_UNNAMED, 0o600)), null);
}
