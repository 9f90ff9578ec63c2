// The one place the addon is loaded and its signatures are typed.
import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import load = require('node-gyp-build');

export const KIND_FILE = 0;
export const KIND_DIR = 1;
export const KIND_UNNAMED = 2;
export type Kind = typeof KIND_FILE | typeof KIND_DIR | typeof KIND_UNNAMED;

export const FLAG_ALLOW_INSECURE = 1;
export const FLAG_NO_TMPFILE = 2;

/** What one creation returns: an unnamed file's fd, a directory's name, a named file's [fd, name]. */
export interface CreateResults {
  [KIND_FILE]: [fd: number, name: string];
  [KIND_DIR]: string;
  [KIND_UNNAMED]: number;
}

export type CreateArgs<K extends Kind> = readonly [
  dir: string,
  prefix: string,
  suffix: string,
  kind: K,
  flags: number,
  perms: number,
  names: string[] | null,
];

export interface Native {
  createSync<K extends Kind>(...args: CreateArgs<K>): CreateResults[K];
  create<K extends Kind>(...args: CreateArgs<K>): Promise<CreateResults[K]>;
  /** Removes a tree without following links; throws the first failure (with `errors`: how many). */
  removeTreeSync(path: string): void;
  removeTree(path: string): Promise<void>;
  randomChars(n: number): string;
  tmpfileKnownUnsupported(): boolean;
  readonly TMP_MAX: number;
  readonly RANDOM_CHARS: number;
}

export const native: Native = load(path.join(__dirname, '..')) as Native;
