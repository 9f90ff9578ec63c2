// npm tmp's options, checked the way securetemp checks its own: a prefix, postfix or template
// that could name another directory is a TypeError, never joined into a path; `dir` and a
// template's directory must lead (after realpath) inside the temporary directory, as tmp
// requires, and the addon proves it again on the handle it creates from; the candidate names are made here, from the CSPRNG, and the addon tries them in
// order with O_EXCL.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../_binding';
import { invalidArgType, invalidArgValue } from '../_errors';
import { TMP_MAX } from '../_names';
import type { TmpNameOptions } from './_types';
import { randomAlnum } from '../_template'; // template X's: [A-Za-z0-9] from the OS CSPRNG

const isWindows = process.platform === 'win32';

/** What every call needs, checked before anything is looked at on disk. */
export interface Parsed {
  /** options.tmpdir, or '' for os.tmpdir(). */
  tmpdir: string;
  /** options.dir, or null. */
  dir: string | null;
  /** The directory part of the template, or ''. */
  templateDir: string;
  /** The template's last component (with its XXXXXX), or ''. */
  templateBase: string;
  /** The candidate names, CSPRNG-made on each call. */
  names: () => string[];
  /** options.mode as permission bits, or null for the default. */
  mode: number | null;
  keep: boolean;
  discardDescriptor: boolean;
  detachDescriptor: boolean;
  unsafeCleanup: boolean;
}

const TEMPLATE_X = 'XXXXXX';

/**
 * An input tmp refuses too: refused with tmp's Error class and message text (its own tests for
 * its CVE fixes, and users' code, match on them), plus our `code`. Where tmp would accept the
 * input, the refusal is securetemp's own TypeError: that is the security difference.
 */
function tmpRefusal(message: string, code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' = 'ERR_INVALID_ARG_VALUE'): Error & { code: string } {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

function hasSeparator(s: string): boolean {
  return s.includes('/') || (isWindows && s.includes('\\'));
}

/**
 * A prefix or postfix: a string (an Array or Buffer whose text holds '../' is what got around
 * tmp 0.2.6's check), without a separator, '..' (refused by tmp 0.2.6+ too), NUL, or ':' on
 * Windows (an alternate data stream).
 */
function checkAffix(option: string, v: unknown): string {
  if (typeof v !== 'string') throw tmpRefusal(`${option} option must be a string, got "${typeof v}".`, 'ERR_INVALID_ARG_TYPE');
  if (v.includes('..')) throw tmpRefusal('Relative value not allowed');
  if (v.includes('\0')) throw invalidArgValue(option, v, 'must not contain null bytes');
  if (hasSeparator(v)) throw invalidArgValue(option, v, 'must not contain a path separator');
  if (isWindows && v.includes(':')) throw invalidArgValue(option, v, 'must not contain ":"');
  return v;
}

/** `name`: one path component, as tmp requires (it may start with dots: '.name', '..name'). */
function checkName(v: unknown): string {
  if (typeof v !== 'string') throw invalidArgType('name', 'of type string', v);
  if (path.isAbsolute(v)) throw tmpRefusal(`name option must not contain an absolute path, found "${v}".`);
  if (hasSeparator(v) || v === '.' || v === '..') throw tmpRefusal(`name option must not contain a path, found "${v}".`);
  if (v.length === 0) throw invalidArgValue('name', v, 'must not be empty');
  if (v.includes('\0')) throw invalidArgValue('name', v, 'must not contain null bytes');
  if (isWindows && v.includes(':')) throw invalidArgValue('name', v, 'must not contain ":"');
  return v;
}

/** A template: '..' nowhere; XXXXXX in its last component, which becomes the name. */
function splitTemplate(v: unknown): [dir: string, base: string] {
  if (typeof v !== 'string') throw tmpRefusal(`template option must be a string, got "${typeof v}".`, 'ERR_INVALID_ARG_TYPE');
  if (!v.includes(TEMPLATE_X)) throw tmpRefusal(`Invalid template, found "${v}".`);
  if (v.includes('..')) throw tmpRefusal('Relative value not allowed');
  if (v.includes('\0')) throw invalidArgValue('template', v, 'must not contain null bytes');
  const cut = Math.max(v.lastIndexOf('/'), isWindows ? v.lastIndexOf('\\') : -1);
  const base = v.slice(cut + 1);
  if (!base.includes(TEMPLATE_X)) throw invalidArgValue('template', v, `must contain ${TEMPLATE_X} in its last component`);
  if (isWindows && base.includes(':')) throw invalidArgValue('template', v, 'must not contain ":" in its last component');
  return [v.slice(0, cut + 1), base];
}

function checkPath(option: string, v: unknown): string {
  if (typeof v !== 'string') throw invalidArgType(option, 'of type string', v);
  if (v.includes('\0')) throw invalidArgValue(option, v, 'must not contain null bytes');
  return v;
}

/** tries: tmp's default 3 (also for 0), and one attempt more than it says. */
function attempts(v: unknown): number {
  if (v === undefined || v === null) return 4;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (Number.isNaN(n) || n < 0) throw tmpRefusal(`Invalid tries, found "${String(v)}".`);
  return Math.min(TMP_MAX, 1 + Math.ceil(n || 3));
}

/** mode: permission bits (a number, or octal digits as fs takes them); falsy: the default. */
export function checkMode(v: unknown): number | null {
  if (v === undefined || v === null || v === 0 || v === '' || v === false) return null;
  let m: number;
  if (typeof v === 'number') m = v;
  else if (typeof v === 'string' && /^[0-7]+$/.test(v)) m = parseInt(v, 8);
  else throw invalidArgType('mode', 'a number or a string of octal digits', v);
  if (!Number.isInteger(m) || m < 0 || m > 0o777)
    throw invalidArgValue('mode', v, 'must be permission bits from 0 to 0o777 (no setuid, setgid or sticky bit)');
  return m;
}

function flag(v: unknown): boolean {
  return !!v;
}

/** tmp's argument shapes: (options, cb), (cb), (undefined, cb), (), (options). */
export function splitArgs<C>(options: unknown, callback: C | undefined): [Record<string, unknown>, C | undefined] {
  if (typeof options === 'function') return [{}, options as C];
  if (options === undefined || options === null) return [{}, callback];
  if (typeof options !== 'object') throw invalidArgType('options', 'an object', options);
  return [options as Record<string, unknown>, callback];
}

/** Checks every option (all of them, whichever is used, as tmp does). Touches nothing on disk. */
export function parse(o: Record<string, unknown>): Parsed {
  // in tmp's order, so that of several bad options the one tmp reports is reported
  const name = o.name === undefined ? null : checkName(o.name);
  const template = o.template === undefined ? null : splitTemplate(o.template);
  const count = attempts(o.tries);
  const prefix = o.prefix === undefined ? '' : checkAffix('prefix', o.prefix);
  const postfix = o.postfix === undefined ? '' : checkAffix('postfix', o.postfix);
  const tmpdir = o.tmpdir === undefined || o.tmpdir === '' ? '' : checkPath('tmpdir', o.tmpdir);
  const dir = o.dir === undefined ? null : checkPath('dir', o.dir);
  const mode = checkMode(o.mode);

  let names: () => string[];
  let templateDir = '';
  let templateBase = '';
  if (name !== null) names = () => [name];
  else if (template !== null) {
    const [tdir, base] = template;
    templateDir = tdir;
    templateBase = base;
    const at = base.indexOf(TEMPLATE_X);
    const head = base.slice(0, at);
    const tail = base.slice(at + TEMPLATE_X.length);
    names = () => Array.from({ length: count }, () => head + randomAlnum(TEMPLATE_X.length) + tail);
  } else {
    // tmp's shape: prefix-pid-random[-postfix]; the random part is securetemp's own.
    const head = `${prefix || 'tmp'}-${process.pid}-`;
    const tail = postfix ? `-${postfix}` : '';
    names = () => Array.from({ length: count }, () => head + native.randomChars(native.RANDOM_CHARS) + tail);
  }
  return {
    tmpdir,
    dir,
    templateDir,
    templateBase,
    names,
    mode,
    keep: flag(o.keep),
    discardDescriptor: flag(o.discardDescriptor),
    detachDescriptor: flag(o.detachDescriptor),
    unsafeCleanup: flag(o.unsafeCleanup),
  };
}

// --- where: the realpath checks, written once as steps, driven sync or async -----------

/** A path to resolve; `loose`: if it does not exist, its parent's realpath and its name. */
type Ask = [p: string, loose: boolean];

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

/** tmp's own refusal (since the symlinked-`dir` CVE), in its words: `found` is relative to the root. */
function outside(option: string, root: string, real: string): Error {
  return tmpRefusal(`${option} option must be relative to "${root}", found "${path.relative(root, real)}".`);
}

/** Where to create: `where` (realpath'd, checked by path) is `rel` below the realpath'd `root`. */
export interface Place {
  root: string;
  where: string;
  rel: string;
}

/**
 * The addon found, on the handle it opened, that the directory was not inside the root after
 * all (the path changed after the check above): the same TypeError as a static escape.
 */
export function outsideOnOpen(p: Parsed, where: Place, e: unknown): unknown {
  if ((e as { code?: unknown } | null)?.code !== 'ERR_OUTSIDE_ROOT') return e;
  const [option, value] = p.dir !== null ? ['dir', p.dir] : ['template', p.templateDir];
  return invalidArgValue(
    option,
    value,
    `must lead inside the temporary directory "${where.root}" (it resolved to "${where.where}", but led outside when it was opened: it changed meanwhile)`,
  );
}

function* placeSteps(p: Parsed): Generator<Ask, Place, string> {
  const root = yield [p.tmpdir || os.tmpdir(), false];
  let where = root;
  if (p.dir !== null) {
    where = yield [path.resolve(root, p.dir), true];
    if (!inside(root, where)) throw outside('dir', root, where);
  }
  if (p.templateDir !== '') {
    const t = yield [path.resolve(where, p.templateDir), true];
    if (!inside(root, t)) throw outside('template', root, path.join(t, p.templateBase));
    where = t;
  }
  return { root, where, rel: path.relative(root, where) };
}

function isENOENT(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function realpathSync([p, loose]: Ask): string {
  try {
    return fs.realpathSync(p);
  } catch (e) {
    if (!loose || !isENOENT(e)) throw e;
    return path.join(fs.realpathSync(path.dirname(p)), path.basename(p));
  }
}

async function realpath([p, loose]: Ask): Promise<string> {
  try {
    return await fs.promises.realpath(p);
  } catch (e) {
    if (!loose || !isENOENT(e)) throw e;
    return path.join(await fs.promises.realpath(path.dirname(p)), path.basename(p));
  }
}

/**
 * The real directory to create in (absolute, no links), checked to be inside the temporary
 * directory (tmp's rule since the symlinked-`dir` CVE). That check is on paths, and a path can
 * change right after it: creation passes `rel` with the root as `beneath`, and the addon opens
 * it from a handle of the root, proves that handle is inside (openat2 RESOLVE_BENEATH, or a walk
 * up '..'), and creates relative to it.
 */
export function placeSync(p: Parsed): Place {
  const steps = placeSteps(p);
  let r = steps.next();
  while (!r.done) r = steps.next(realpathSync(r.value));
  return r.value;
}

export async function place(p: Parsed): Promise<Place> {
  const steps = placeSteps(p);
  let r = steps.next();
  while (!r.done) r = steps.next(await realpath(r.value));
  return r.value;
}

/** The root temporary directory as tmp reports it: os.tmpdir(), realpath'd. */
export function tmpdirSync(): string {
  return fs.realpathSync(os.tmpdir());
}
