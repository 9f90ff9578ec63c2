// The Windows rules for prefix/suffix (src/_names.ts checkAffixFor), tested on every system:
// the validation is a pure function of the platform. test/windows/names.test.mjs runs the
// same samples against the real addon under Windows (or Wine).
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { checkAffixFor } = require('../dist/_names.js') as {
  checkAffixFor(platform: string, name: 'prefix' | 'suffix', value: unknown): string;
};
const { refusedOnWindows, acceptedOnWindows, win32KeepsName } = require('./windows/names.cjs') as {
  refusedOnWindows: Record<'prefix' | 'suffix', [string, string][]>;
  acceptedOnWindows: Record<'prefix' | 'suffix', string[]>;
  win32KeepsName(name: string): boolean;
};

const kinds = ['prefix', 'suffix'] as const;
const RANDOM = 'abcdefghij12'; // what the random part looks like: [a-z0-9]{12}

describe.each(kinds)('%s on win32', (kind) => {
  it.each(refusedOnWindows[kind])('refuses %j (%s)', (value, why) => {
    let err: unknown;
    try {
      checkAffixFor('win32', kind, value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((err as Error).message).toContain(`The argument "${kind}"`);
    expect((err as Error).message).toContain(why);
  });

  it.each(acceptedOnWindows[kind])('accepts %j', (value) => {
    expect(checkAffixFor('win32', kind, value)).toBe(value);
  });

  it('agrees with the addon\'s check_name on every sample: accepted exactly when Win32 keeps the name', () => {
    const samples = [...refusedOnWindows[kind].map(([v]) => v), ...acceptedOnWindows[kind]];
    for (const value of samples) {
      const name = kind === 'prefix' ? value + RANDOM : RANDOM + value;
      let accepted = true;
      try {
        checkAffixFor('win32', kind, value);
      } catch {
        accepted = false;
      }
      expect([value, accepted]).toEqual([value, win32KeepsName(name)]);
    }
  });
});

describe.each(['linux', 'darwin', 'freebsd'])('%s keeps only the POSIX rules', (platform) => {
  it.each(kinds)('%s: what Windows refuses is a valid POSIX name part', (kind) => {
    for (const [value] of refusedOnWindows[kind]) {
      if (value.includes('/')) continue;
      expect(checkAffixFor(platform, kind, value)).toBe(value);
    }
  });
});

describe.each(['win32', 'linux', 'darwin'])('%s: the rules of every system', (platform) => {
  it.each(kinds)('%s: "/", NUL bytes, "." and ".." are refused; non-strings are a type error', (kind) => {
    for (const v of ['a/b', '/', 'a\0b', '.', '..'])
      expect(() => checkAffixFor(platform, kind, v)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    for (const v of [1, null, Symbol('s'), {}])
      expect(() => checkAffixFor(platform, kind, v)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

// A directory (or a file path's directory) with a part ending in a dot or a space: Win32
// strips them, so the object would be made in "foo" while the path handed back names
// "foo.", which Node's fs reaches literally (\\?\ paths) and someone else may create.
// test/windows/atomic.test.mjs runs the entry points and the addon under Windows (or Wine).
describe('path parts on win32 (checkPathPartsFor)', () => {
  const { checkPathPartsFor } = require('../dist/_names.js') as {
    checkPathPartsFor(platform: string, argName: string, given: unknown, resolved: string): string;
  };
  const win = (p: string) => checkPathPartsFor('win32', 'dir', p, path.win32.resolve(p));

  it.each([
    ['C:\\foo.', "'foo.'"],
    ['C:\\foo ', "'foo '"],
    ['C:\\a\\b.\\c', "'b.'"],
    ['C:\\a\\ .\\c', "' .'"],
    ['C:\\...\\x', "'...'"],
    ['C:/x./y', "'x.'"],
    ['C:\\foo.\\', "'foo.'"],
    ['\\\\server\\share\\dir.', "'dir.'"],
  ])('refuses %j (the part %s)', (p, part) => {
    let err: unknown;
    try {
      win(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((err as Error).message).toContain('The argument "dir"');
    expect((err as Error).message).toContain(`ends with a dot or a space`);
    expect((err as Error).message).toContain(part);
  });

  it.each(['C:\\foo', 'C:\\a.b\\x y', 'C:\\a\\.\\b', 'C:\\a\\..\\b', 'C:\\', '\\\\?\\C:\\x', '\\\\.\\pipe\\x', 'C:\\.hidden'])(
    'accepts %j',
    (p) => {
      expect(win(p)).toBe(path.win32.resolve(p));
    },
  );

  it.each(['linux', 'darwin', 'freebsd'])('%s keeps such names: "foo." is a directory of its own there', (platform) => {
    for (const p of ['/tmp/foo.', '/tmp/foo ', '/a/b./c'])
      expect(checkPathPartsFor(platform, 'dir', p, path.posix.resolve(p))).toBe(path.posix.resolve(p));
  });
});
