// GNU mktemp templates for the command line: where the run of X's is, which directory the
// last component is created in, and names with as many CSPRNG characters as there were X's,
// tried by the addon with O_EXCL like its own names.
import * as fs from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { native, KIND_DIR, KIND_FILE } from './_binding';
import { TMP_MAX } from './_names';
import { closeNativeFdSync } from './_close';

const isWindows = process.platform === 'win32';

/** GNU's alphabet: 62 characters, so 3 X's still give 238328 names. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Bytes at or above 4 * 62 are dropped: every character is exactly uniform (no modulo bias). */
const BYTE_LIMIT = 248;

/**
 * `n` characters from [A-Za-z0-9], each drawn uniformly from the OS CSPRNG.
 *
 * No pool kept in JavaScript: bytes are drawn for each call (OpenSSL's generator, which reseeds
 * after a fork()), so a process forked without exec by a native embedder never draws the names
 * its parent drew. The addon's own pool is made stale at fork for the same reason.
 */
export function randomAlnum(n: number): string {
  let s = '';
  const bytes = Buffer.alloc(n + 8);
  while (s.length < n) {
    randomFillSync(bytes);
    for (let i = 0; i < bytes.length && s.length < n; i++) {
      const b = bytes[i]!;
      if (b < BYTE_LIMIT) s += ALPHABET[b % 62];
    }
  }
  bytes.fill(0); // used once, then forgotten
  return s;
}

/** A template's error, worded as GNU mktemp words it (the CLI prefixes its name). */
export class TemplateError extends Error {}

/** What the command line said about the template (GNU mktemp's options). */
export interface TemplateRequest {
  /** The TEMPLATE operand; undefined: tmp.XXXXXXXXXX, and a directory is implied. */
  template: string | undefined;
  /** --suffix=SUFF (undefined when not given; '' is given). */
  suffix: string | undefined;
  /** -p, --tmpdir or -t was given. */
  useDir: boolean;
  /** The last -p DIR / --tmpdir=DIR (a bare --tmpdir resets it to undefined). */
  dirArg: string | undefined;
  /** -t: TEMPLATE is one file name component; $TMPDIR wins over -p. */
  deprecatedT: boolean;
  /** $TMPDIR. */
  tmpdirEnv: string | undefined;
}

/** A resolved template: `path` with `xCount` characters at `xStart` to replace. */
export interface Template {
  /** The full template as printed, e.g. '/tmp/tmp.XXXXXXXXXX'. */
  path: string;
  xStart: number;
  xCount: number;
  /** The directory the last component is created in, as written ('.' when none). */
  dir: string;
  /** The last component around the X's (it can end in '/' when the suffix does). */
  prefix: string;
  suffix: string;
}

export const DEFAULT_TEMPLATE = 'tmp.XXXXXXXXXX';

const isSlash = (c: string | undefined) => c === '/' || (isWindows && c === '\\');

/** Where the last component starts: leading slashes skipped, trailing slashes part of it. */
export function lastComponentStart(s: string): number {
  let base = 0;
  while (isSlash(s[base])) base++;
  let afterSlash = false;
  for (let i = base; i < s.length; i++) {
    if (isSlash(s[i])) afterSlash = true;
    else if (afterSlash) {
      base = i;
      afterSlash = false;
    }
  }
  return base;
}

/** dir + template, with the directory's trailing slashes dropped (a root keeps its own). */
function joinDir(dir: string, template: string): string {
  const base = lastComponentStart(dir);
  let end = dir.length;
  while (end > base + 1 && isSlash(dir[end - 1])) end--;
  if (end === base) return dir.slice(0, base) + template; // all slashes: a root
  return dir.slice(0, end) + '/' + template;
}

function isAbsolute(s: string): boolean {
  return isSlash(s[0]) || (isWindows && /^[A-Za-z]:[\\/]/.test(s));
}

const q = (s: string) => `'${s}'`;

/** Applies GNU mktemp's rules, in its order; throws TemplateError where GNU refuses. */
export function resolveTemplate(r: TemplateRequest): Template {
  let template = r.template ?? DEFAULT_TEMPLATE;
  const useDir = r.useDir || r.template === undefined;
  let suffix: string;
  if (r.suffix !== undefined) {
    if (!template.endsWith('X')) throw new TemplateError(`with --suffix, template ${q(template)} must end in X`);
    suffix = r.suffix;
    template += suffix;
  } else {
    const lastX = template.lastIndexOf('X');
    suffix = lastX === -1 ? '' : template.slice(lastX + 1);
  }
  if (suffix !== '' && lastComponentStart(suffix) !== 0) {
    throw new TemplateError(`invalid suffix ${q(suffix)}, contains directory separator`);
  }
  const xEnd = template.length - suffix.length;
  let xStart = xEnd;
  while (xStart > 0 && template[xStart - 1] === 'X') xStart--;
  const xCount = xEnd - xStart;
  if (xCount < 3) throw new TemplateError(`too few X's in template ${q(template)}`);

  let path = template;
  if (useDir) {
    let dir: string;
    const env = r.tmpdirEnv ? r.tmpdirEnv : undefined;
    const arg = r.dirArg ? r.dirArg : undefined;
    if (r.deprecatedT) {
      dir = env ?? arg ?? '/tmp';
      if (lastComponentStart(template) !== 0) {
        throw new TemplateError(`invalid template, ${q(template)}, contains directory separator`);
      }
    } else {
      dir = arg ?? env ?? '/tmp';
      if (isAbsolute(template)) {
        throw new TemplateError(`invalid template, ${q(template)}; with --tmpdir, it may not be absolute`);
      }
    }
    path = joinDir(dir, template);
    xStart += path.length - template.length;
  }
  const base = lastComponentStart(path);
  return {
    path,
    xStart,
    xCount,
    dir: base === 0 ? '.' : path.slice(0, base),
    prefix: path.slice(base, xStart),
    suffix,
  };
}

/** `t` with its X's replaced by `random`. */
export function fill(t: Template, random: string): string {
  return t.path.slice(0, t.xStart) + random + t.path.slice(t.xStart + t.xCount);
}

/** Candidate names in growing batches: most creations need one, TMP_MAX in all. */
function* batches(t: Template): Generator<string[]> {
  let tried = 0;
  for (const size of [16, 240, TMP_MAX]) {
    const n = Math.min(size, TMP_MAX - tried);
    if (n <= 0) return;
    const names = new Array<string>(n);
    for (let i = 0; i < n; i++) names[i] = t.prefix + randomAlnum(t.xCount) + t.suffix;
    tried += n;
    yield names;
  }
}

/**
 * Creates the file (closed again) or directory the template names, exclusively, relative to a
 * handle of its directory, never through a link; `permissions & ~umask`. Returns its path
 * in the template's form. Throws the addon's errors (EEXIST once TMP_MAX names collided,
 * ERR_INSECURE_TEMPDIR for a world-writable directory without the sticky bit).
 */
export function createFromTemplate(t: Template, directory: boolean): string {
  const perms = directory ? 0o700 : 0o600;
  let err: unknown;
  for (const names of batches(t)) {
    let name: string;
    try {
      if (directory) name = native.createSync(t.dir, t.prefix, t.suffix, KIND_DIR, 0, perms, names);
      else {
        const [fd, n] = native.createSync(t.dir, t.prefix, t.suffix, KIND_FILE, 0, perms, names);
        try {
          closeNativeFdSync(fd);
        } catch {
          // close() releases the descriptor whatever it returns (Linux, POSIX 2024); its EIO
          // can only be about data written through it, and none was: the empty file is whole.
          // Failing here left the file behind, a name nobody was told (test/faults).
        }
        name = n;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      err = e;
      continue;
    }
    return fill(t, name.slice(t.prefix.length, t.prefix.length + t.xCount));
  }
  throw err;
}

/**
 * A path that did not exist when it was checked; creates nothing (unsafe: anyone can create
 * it first). An error other than ENOENT from lstat (ENOTDIR, EACCES…) is thrown.
 */
export function dryRunFromTemplate(t: Template): string {
  let last: unknown;
  for (let i = 0; i < TMP_MAX; i++) {
    const p = fill(t, randomAlnum(t.xCount));
    try {
      fs.lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return p;
      throw e;
    }
    last = Object.assign(new Error(`EEXIST: file already exists, lstat '${p}'`), { code: 'EEXIST', path: p });
  }
  throw last;
}
