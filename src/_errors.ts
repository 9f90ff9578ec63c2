/// <reference types="node" preserve="true" />
// Error constructors. System errors come from the addon (or from node:fs)
import { getSystemErrorMap } from 'node:util';
// already shaped like Node's: code, errno, syscall, path.

export type ArgErrorCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE';

export interface CodedError extends Error {
  code: string;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    let ctor: unknown;
    try {
      ctor = (value as { constructor?: { name?: unknown } }).constructor?.name;
    } catch {
      // a getter or a Proxy that throws: the argument error is still the one to report
    }
    return typeof ctor === 'string' && ctor ? `an instance of ${ctor}` : 'an object';
  }
  return `type ${typeof value} (${String(value)})`;
}

export function invalidArgType(name: string, expected: string, actual: unknown): TypeError & CodedError {
  const e = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`) as TypeError &
    CodedError;
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

export function invalidArgValue(name: string, value: unknown, reason: string): TypeError & CodedError {
  const e = new TypeError(`The argument "${name}" ${reason}. Received ${describe(value)}`) as TypeError & CodedError;
  e.code = 'ERR_INVALID_ARG_VALUE';
  return e;
}

export function fileClosed(): CodedError {
  const e = new Error('I/O operation on closed file') as CodedError;
  e.code = 'ERR_FILE_CLOSED';
  return e;
}

export function unsupported(what: string, mode: string): CodedError {
  const e = new Error(`${what} is not supported in mode '${mode}'`) as CodedError;
  e.code = 'ERR_UNSUPPORTED_OPERATION';
  return e;
}

let errnoByCode: Map<string, [number, string]> | null = null;

/** An fs-style error for a condition found in JavaScript (code, errno, syscall, path). */
export function systemError(code: string, syscall: string, path: string, detail?: string): NodeJS.ErrnoException {
  if (errnoByCode === null) {
    errnoByCode = new Map();
    for (const [errno, [name, message]] of getSystemErrorMap()) errnoByCode.set(name, [errno, message]);
  }
  const [errno, message] = errnoByCode.get(code) ?? [0, code];
  const e = new Error(`${code}: ${detail ?? message}, ${syscall} '${path}'`) as NodeJS.ErrnoException;
  e.errno = errno;
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}
