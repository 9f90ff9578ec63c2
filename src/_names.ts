/// <reference types="node" preserve="true" />
// Name pieces: validation of prefix/suffix, the default prefix, and the
// swappable name generator (used to force collisions in tests).
import { invalidArgType, invalidArgValue } from './_errors';
import { native } from './_binding';
import { settings } from './_settings';

/** Names tried before giving up (the addon's ST_TMP_MAX; a test checks they agree). */
export const TMP_MAX = 10000;

// Windows (Win32 paths, as Node's fs uses them): characters no name may hold ('\\' and
// ':' have messages of their own), and the device names Win32 reads as devices whatever
// the directory or extension (NUL.txt is NUL). The addon refuses the same names (EINVAL).
const WIN_FORBIDDEN = /[<>"|?*\x01-\x1f]/;
const WIN_DEVICE = /^(?:CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(?:COM|LPT)[0-9\u00b9\u00b2\u00b3])$/i;

/**
 * Throws unless `value` is a string that is safe as a name prefix or suffix on `platform`:
 * a pure function of its arguments, so the Windows rules are tested on every system.
 * A name is prefix + random part + suffix. On Windows:
 * - `\\` (a separator), `:` (a stream name) and <>"|?* or control characters are refused;
 * - a suffix must not end in a dot or a space: Win32 drops them, so the file made would
 *   not have the name handed back (a prefix's are inside the name, where they are kept);
 * - a prefix must not start a device name: its part before the first dot, without
 *   trailing spaces, must not be CON, PRN, AUX, NUL, CONIN$, CONOUT$, COM0-9 or LPT0-9
 *   ('con.' would make con.<random>, which Win32 opens as the console). A prefix without
 *   a dot, and any suffix, are followed or preceded by the random part: never a device.
 */
export function checkAffixFor(platform: string, name: 'prefix' | 'suffix', value: unknown): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (value.includes('\0')) throw invalidArgValue(name, value, 'must not contain null bytes');
  const windows = platform === 'win32';
  if (value.includes('/') || (windows && value.includes('\\')))
    throw invalidArgValue(name, value, 'must not contain a path separator');
  if (value === '.' || value === '..') throw invalidArgValue(name, value, 'must not be "." or ".."');
  if (windows) {
    if (value.includes(':')) throw invalidArgValue(name, value, 'must not contain ":"');
    if (WIN_FORBIDDEN.test(value))
      throw invalidArgValue(name, value, 'must not contain characters Windows does not allow in names (<>"|?* or control characters)');
    if (name === 'suffix') {
      const last = value.charCodeAt(value.length - 1);
      if (last === 0x2e || last === 0x20)
        throw invalidArgValue(name, value, 'must not end with a dot or a space (Windows drops them from names)');
    } else {
      const dot = value.indexOf('.');
      if (dot >= 0 && WIN_DEVICE.test(value.slice(0, dot).replace(/ +$/, '')))
        throw invalidArgValue(name, value, 'must not start with a Windows device name (CON, NUL, COM1, ...) followed by a dot');
    }
  }
  return value;
}

/**
 * Throws unless the absolute path `resolved` (the value of `argName` after path.resolve,
 * `given` as the caller wrote it) is one Windows keeps as it is: on win32 no part may end
 * in a dot or a space ("C:\foo." or "C:\foo \x"). Win32 drops them, so the object
 * would be made in "foo" while the path handed back names "foo.", which Node's fs opens
 * literally and someone else may create. Other platforms keep such names: nothing to do.
 * A pure function of its arguments, so the rule is tested on every system.
 */
export function checkPathPartsFor(platform: string, argName: string, given: unknown, resolved: string): string {
  if (platform !== 'win32') return resolved;
  for (const part of resolved.split(/[\\/]/)) {
    if (part === '' || part === '.' || part === '..') continue;
    const last = part.charCodeAt(part.length - 1);
    if (last === 0x2e || last === 0x20)
      throw invalidArgValue(argName, given, `must not have a part that ends with a dot or a space (Windows drops them, and the path would name another file): '${part}'`);
  }
  return resolved;
}

const platform = process.platform;

/** Throws unless `value` is a string that is safe as a name prefix or suffix here. */
export function checkAffix(name: 'prefix' | 'suffix', value: unknown): string {
  return checkAffixFor(platform, name, value);
}

/** The prefix of generated names when none is given: `'tmp'`, or the deprecated `tempfile.template` when set. */
export function gettempprefix(): string {
  const t = settings.template;
  if (t === null || t === undefined) return 'tmp';
  return checkAffix('prefix', t);
}

/** A name generator returns the random middle part of a name. */
export type NameGenerator = () => string;

let generator: NameGenerator | null = null;

/**
 * Replaces the random part of generated names (tests force collisions with it).
 * `null` restores the CSPRNG. While one is set, creation tries TMP_MAX names from it.
 */
export function setNameGenerator(g: NameGenerator | null): void {
  generator = g;
}

/** The candidate names to hand the addon: null means "CSPRNG names, generated natively". */
export function candidateNames(prefix: string, suffix: string): string[] | null {
  if (generator === null) return null;
  const names = new Array<string>(TMP_MAX);
  for (let i = 0; i < TMP_MAX; i++) names[i] = prefix + generator() + suffix;
  return names;
}

export function randomPart(): string {
  return generator === null ? native.randomChars(native.RANDOM_CHARS) : generator();
}
