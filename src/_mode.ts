// Python's open() mode strings, and the options that go with them.
import { invalidArgType, invalidArgValue } from './_errors';

export interface ModeInfo {
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
  readonly text: boolean;
}

const cache = new Map<string, ModeInfo>();

/** Exactly one of w/a/x/r, optionally '+', optionally 'b' or 't', in any order, none twice. */
export function parseMode(mode: unknown): ModeInfo {
  if (typeof mode !== 'string') throw invalidArgType('mode', 'of type string', mode);
  const hit = cache.get(mode);
  if (hit) return hit;
  const bad = () => invalidArgValue('mode', mode, "must be one of 'r', 'w', 'a', 'x', optionally with '+' and 'b' or 't'");
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwax+bt'.includes(c) || seen.has(c)) throw bad();
    seen.add(c);
  }
  const kinds = ['r', 'w', 'a', 'x'].filter((k) => seen.has(k));
  if (kinds.length !== 1 || (seen.has('b') && seen.has('t'))) throw bad();
  const plus = seen.has('+');
  const info: ModeInfo = {
    readable: kinds[0] === 'r' || plus,
    writable: kinds[0] !== 'r' || plus,
    append: kinds[0] === 'a',
    text: !seen.has('b'),
  };
  if (cache.size < 64) cache.set(mode, info);
  return info;
}

/** The text encodings a text-mode TempFile takes. */
export type TextEncoding = 'utf8' | 'utf16le' | 'latin1' | 'ascii';

const ENCODINGS: Record<string, TextEncoding> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  utf16le: 'utf16le',
  'utf-16le': 'utf16le',
  ucs2: 'utf16le',
  'ucs-2': 'utf16le',
  latin1: 'latin1',
  binary: 'latin1',
  'iso-8859-1': 'latin1',
  ascii: 'ascii',
};

export function parseEncoding(encoding: unknown): TextEncoding {
  if (typeof encoding !== 'string') throw invalidArgType('encoding', 'of type string', encoding);
  const e = ENCODINGS[encoding.toLowerCase()];
  if (e === undefined)
    throw invalidArgValue('encoding', encoding, 'must be one of utf8, utf16le, latin1, ascii');
  return e;
}

/** -1 (default), 0 (unbuffered, binary only), 1 (line buffered, text only) or a size in bytes. */
export function parseBufsize(bufsize: unknown, text: boolean): number {
  if (typeof bufsize !== 'number') throw invalidArgType('bufsize', 'of type number', bufsize);
  if (!Number.isSafeInteger(bufsize) || bufsize < -1 || bufsize > 2 ** 30)
    throw invalidArgValue('bufsize', bufsize, 'must be an integer from -1 to 2**30');
  if (bufsize === 0 && text) throw invalidArgValue('bufsize', bufsize, 'cannot be 0 (unbuffered) in text mode');
  if (bufsize === 1 && !text) {
    process.emitWarning(
      "line buffering (bufsize 1) isn't supported in binary mode, the default buffer size will be used",
      'RuntimeWarning',
    );
    return -1;
  }
  return bufsize;
}
