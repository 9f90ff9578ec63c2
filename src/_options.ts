// Option objects: unknown keys and wrong types are refused before anything is created.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidArgType, invalidArgValue } from './_errors';
import { checkAffix, checkPathPartsFor, gettempprefix } from './_names';
import { gettempdir } from './gettempdir';
import { FLAG_ALLOW_INSECURE } from './_binding';

/** Options every creator takes. */
export interface NameOptions {
  /** Text after the random part (default ''). */
  suffix?: string;
  /** Text before the random part (default gettempprefix()). */
  prefix?: string;
  /** The directory to create in (default gettempdir()). */
  dir?: string | URL;
}

export interface CreateOptions extends NameOptions {
  /**
   * Use a directory others than its owner can add entries to (world- or group-writable without
   * the sticky bit, or sticky but owned by another user than root and you): refused by default.
   */
  allowInsecureDir?: boolean;
}

export interface Resolved {
  dir: string;
  prefix: string;
  suffix: string;
  flags: number;
}

export function checkOptionsObject(name: string, opts: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw invalidArgType(name, 'an object', opts);
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) throw invalidArgValue(name, opts, `has an unknown option "${k}" (known: ${allowed.join(', ')})`);
  }
  return opts as Record<string, unknown>;
}

/** The path of a file: URL; any URL that has none is a bad value of the argument (ERR_INVALID_ARG_VALUE). */
function urlPath(argName: string, u: URL): string {
  if (u.protocol !== 'file:') throw invalidArgValue(argName, u.href, 'must be a file: URL');
  try {
    return fileURLToPath(u);
  } catch (e) {
    // ERR_INVALID_FILE_URL_PATH (an encoded '/'), ERR_INVALID_FILE_URL_HOST (a remote host)
    throw invalidArgValue(argName, u.href, `is not a local file: URL (${(e as Error).message})`);
  }
}

// The last absolute directory resolved, and the result: most programs use one.
let lastDir = '';
let lastResolved = '';

export function checkDir(dir: unknown): string {
  if (dir === lastDir && lastDir !== '') return lastResolved;
  let d: string;
  if (typeof dir === 'string') d = dir;
  else if (dir instanceof URL) d = urlPath('dir', dir);
  else throw invalidArgType('dir', 'of type string or a file: URL', dir);
  if (d.length === 0) throw invalidArgValue('dir', d, 'must not be empty');
  if (d.includes('\0')) throw invalidArgValue('dir', d, 'must not contain null bytes');
  // Windows: no part ending in a dot or a space (Win32 would make the object elsewhere).
  const resolved = checkPathPartsFor(process.platform, 'dir', d, path.resolve(d));
  if (typeof dir === 'string' && path.isAbsolute(dir)) {
    lastDir = dir;
    lastResolved = resolved;
  }
  return resolved;
}

export function checkPermissions(p: unknown, dflt: number): number {
  if (p === undefined) return dflt;
  if (typeof p !== 'number') throw invalidArgType('permissions', 'of type number', p);
  if (!Number.isInteger(p) || p < 0 || p > 0o777)
    throw invalidArgValue('permissions', p, 'must be an integer from 0 to 0o777');
  return p;
}

export function checkBoolean(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw invalidArgType(name, 'of type boolean', v);
  return v;
}

/** Checks the naming options; the directory is resolved last, so a bad option creates nothing. */
export function resolveNameOptions(o: Record<string, unknown>): Resolved {
  const suffix = o.suffix === undefined ? '' : checkAffix('suffix', o.suffix);
  const prefix = o.prefix === undefined ? gettempprefix() : checkAffix('prefix', o.prefix);
  const flags = checkBoolean('allowInsecureDir', o.allowInsecureDir, false) ? FLAG_ALLOW_INSECURE : 0;
  const dir = checkDir(o.dir === undefined ? gettempdir() : o.dir);
  return { dir, prefix, suffix, flags };
}

export const NAME_KEYS = ['suffix', 'prefix', 'dir', 'allowInsecureDir'] as const;

/** dir + separator + name, without path.resolve's cost (dir is already absolute). */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;
}

/** A file's path split for the addon: the absolute path, its directory, its name. */
export interface FilePath {
  path: string;
  dir: string;
  name: string;
}

// The last absolute file path checked, and the result: a program rewriting one file
// (writeFileAtomic in a loop) pays for the checks once.
let lastFile: FilePath | null = null;

/** A string or file: URL naming a file (not a directory: no trailing separator, not a root). */
export function checkFilePath(argName: string, p: unknown): FilePath {
  if (lastFile !== null && p === lastFile.path) return lastFile;
  let s: string;
  if (typeof p === 'string') s = p;
  else if (p instanceof URL) s = urlPath(argName, p);
  else throw invalidArgType(argName, 'of type string or a file: URL', p);
  if (s.length === 0) throw invalidArgValue(argName, s, 'must not be empty');
  if (s.includes('\0')) throw invalidArgValue(argName, s, 'must not contain null bytes');
  const last = s[s.length - 1]!;
  if (last === '/' || (path.sep === '\\' && last === '\\')) throw invalidArgValue(argName, s, 'must name a file, not a directory');
  const abs = checkPathPartsFor(process.platform, argName, s, path.resolve(s));
  const name = path.basename(abs);
  if (name === '' || name === '.' || name === '..') throw invalidArgValue(argName, s, 'must name a file, not a directory');
  const r = { path: abs, dir: path.dirname(abs), name };
  if (abs === s) lastFile = r; // already absolute and normalized: the same string gives the same result
  return r;
}

/** The prefix of an intermediate file named after `name`: '.' + up to 64 bytes of it + '.'. */
export function hiddenPrefix(name: string): string {
  if (name.length <= 21) return `.${name}.`; // at most 3 UTF-8 bytes per UTF-16 unit
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    bytes += Buffer.byteLength(ch);
    if (bytes > 64) break;
    out += ch;
  }
  return `.${out}.`;
}
