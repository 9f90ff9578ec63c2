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

/** [fd (-1 for a directory), name created ('' when the file has none), whether O_TMPFILE was used] */
export type CreateResult = [fd: number, name: string, usedTmpfile: boolean];

export interface Native {
  createSync(
    dir: string,
    prefix: string,
    suffix: string,
    kind: Kind,
    flags: number,
    perms: number,
    names: string[] | null,
  ): CreateResult;
  create(
    dir: string,
    prefix: string,
    suffix: string,
    kind: Kind,
    flags: number,
    perms: number,
    names: string[] | null,
  ): Promise<CreateResult>;
  /** Removes a tree without following links; throws the first failure (with `errors`: how many). */
  removeTreeSync(path: string): void;
  removeTree(path: string): Promise<void>;
  randomChars(n: number): string;
  tmpfileKnownUnsupported(): boolean;
  readonly TMP_MAX: number;
  readonly RANDOM_CHARS: number;
}

export const native: Native = load(path.join(__dirname, '..')) as Native;
