// Option objects: unknown keys and wrong types are refused before anything is created.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidArgType, invalidArgValue } from './_errors';
import { checkAffix, gettempprefix } from './_names';
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
  /** Use a directory that is world-writable without the sticky bit (refused by default). */
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

// The last absolute directory resolved, and the result: most programs use one.
let lastDir = '';
let lastResolved = '';

export function checkDir(dir: unknown): string {
  if (dir === lastDir && lastDir !== '') return lastResolved;
  let d: string;
  if (typeof dir === 'string') d = dir;
  else if (dir instanceof URL) {
    if (dir.protocol !== 'file:') throw invalidArgValue('dir', dir.href, 'must be a file: URL');
    d = fileURLToPath(dir);
  } else throw invalidArgType('dir', 'of type string or a file: URL', dir);
  if (d.length === 0) throw invalidArgValue('dir', d, 'must not be empty');
  if (d.includes('\0')) throw invalidArgValue('dir', d, 'must not contain null bytes');
  const resolved = path.resolve(d);
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
