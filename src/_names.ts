// Name pieces: validation of prefix/suffix, the default prefix, and the
// swappable name generator (used to force collisions in tests).
import { invalidArgType, invalidArgValue } from './_errors';
import { native } from './_binding';
import { settings } from './_settings';

const isWindows = process.platform === 'win32';

export const TMP_MAX: number = native.TMP_MAX;

/** Throws unless `value` is a string that is safe as a name prefix or suffix. */
export function checkAffix(name: 'prefix' | 'suffix', value: unknown): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (value.includes('\0')) throw invalidArgValue(name, value, 'must not contain null bytes');
  if (value.includes('/') || (isWindows && value.includes('\\')))
    throw invalidArgValue(name, value, 'must not contain a path separator');
  if (value === '.' || value === '..') throw invalidArgValue(name, value, 'must not be "." or ".."');
  if (isWindows && value.includes(':')) throw invalidArgValue(name, value, 'must not contain ":"');
  return value;
}

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
