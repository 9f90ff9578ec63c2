// Bad arguments: TypeError with ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE, and nothing created.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ls, scratch, tempfile } from './_helpers';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

type Call = (o: Record<string, unknown>) => unknown;
const CREATORS: [string, Call][] = [
  ['mkstempSync', (o) => tempfile.mkstempSync(o)],
  ['mkstemp', (o) => tempfile.mkstemp(o)],
  ['mkdtempSync', (o) => tempfile.mkdtempSync(o)],
  ['mkdtemp', (o) => tempfile.mkdtemp(o)],
  ['TemporaryFileSync', (o) => tempfile.TemporaryFileSync(o)],
  ['TemporaryFile', (o) => tempfile.TemporaryFile(o)],
  ['mktemp', (o) => tempfile.mktemp(o)],
];

const BAD_VALUES: [string, Record<string, unknown>][] = [
  ['prefix with /', { prefix: '../x' }],
  ['prefix with / at the end', { prefix: 'a/' }],
  ['suffix with /', { suffix: '/../../etc/passwd' }],
  ['prefix ..', { prefix: '..' }],
  ['suffix .', { suffix: '.' }],
  ['prefix with NUL', { prefix: 'a\0b' }],
  ['suffix with NUL', { suffix: '\0' }],
  ['dir with NUL', { dir: '/tmp\0/x' }],
  ['empty dir', { dir: '' }],
  ['unknown option', { sufix: '.txt' }],
];
const BAD_TYPES: [string, Record<string, unknown>][] = [
  ['prefix array', { prefix: ['..', 'x'] }],
  ['prefix Buffer', { prefix: Buffer.from('../x') }],
  ['suffix object with toString', { suffix: { toString: () => '/../x' } }],
  ['suffix number', { suffix: 1 }],
  ['dir number', { dir: 5 }],
  ['dir Buffer', { dir: Buffer.from('/tmp') }],
  ['allowInsecureDir string', { allowInsecureDir: 'yes' }],
];

async function outcome(f: () => unknown): Promise<unknown> {
  try {
    await f();
    return null;
  } catch (e) {
    return e;
  }
}

describe.each(CREATORS)('%s', (name, call) => {
  it.each(BAD_VALUES)('rejects %s with ERR_INVALID_ARG_VALUE and creates nothing', async (_, o) => {
    const e = await outcome(() => call({ dir: s.dir, ...o }));
    expect(e).toBeInstanceOf(TypeError);
    expect((e as { code: string }).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(ls(s.dir)).toEqual([]);
  });

  // mktemp takes no allowInsecureDir (it creates nothing): there it is an unknown option.
  const types = name === 'mktemp' ? BAD_TYPES.filter(([, o]) => !('allowInsecureDir' in o)) : BAD_TYPES;
  it.each(types)('rejects %s with ERR_INVALID_ARG_TYPE and creates nothing', async (_, o) => {
    const e = await outcome(() => call({ dir: s.dir, ...o }));
    expect(e).toBeInstanceOf(TypeError);
    expect((e as { code: string }).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(ls(s.dir)).toEqual([]);
  });

  if (name.startsWith('mk') && name !== 'mktemp') {
    it.each([
      [-1, 'ERR_INVALID_ARG_VALUE'],
      [0o4755, 'ERR_INVALID_ARG_VALUE'],
      [1.5, 'ERR_INVALID_ARG_VALUE'],
      ['0600', 'ERR_INVALID_ARG_TYPE'],
    ])('rejects permissions %s', async (permissions, code) => {
      const e = await outcome(() => call({ dir: s.dir, permissions }));
      expect(e).toMatchObject({ code });
      expect(ls(s.dir)).toEqual([]);
    });
  }

  it('rejects a non-object options argument', async () => {
    const e = await outcome(() => (call as (o: unknown) => unknown)(42));
    expect(e).toBeInstanceOf(TypeError);
    expect(ls(s.dir)).toEqual([]);
  });
});

describe('TemporaryFile modes and buffering', () => {
  it.each(['', 'rw', 'w+b+', 'wb t', 'bt', 'ww', 'r+x', 'w+bt', 'U', 'wbb'])(
    'rejects mode %j with ERR_INVALID_ARG_VALUE',
    (mode) => {
      expect(() => tempfile.TemporaryFileSync({ dir: s.dir, mode })).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
      );
      expect(() => tempfile.TemporaryFileSync(mode)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    },
  );

  it('rejects a non-string mode with ERR_INVALID_ARG_TYPE', () => {
    expect(() => tempfile.TemporaryFileSync({ dir: s.dir, mode: 1 as unknown as string })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it.each(['w', 'w+', 'wb', 'w+b', 'bw+', 'r', 'r+b', 'a', 'ab+', 'x', 'xt', 'x+b'])('accepts mode %j', (mode) => {
    const f = tempfile.TemporaryFileSync({ dir: s.dir, mode });
    expect(f.mode).toBe(mode);
    f.closeSync();
  });

  it('rejects bufsize 0 in text mode and bad bufsizes', () => {
    expect(() => tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+', bufsize: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    for (const bufsize of [-2, 1.5, NaN]) {
      expect(() => tempfile.TemporaryFileSync({ dir: s.dir, bufsize })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
      );
    }
    expect(() => tempfile.TemporaryFileSync({ dir: s.dir, bufsize: '8' as unknown as number })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('rejects an unknown encoding, and an encoding in binary mode', () => {
    expect(() => tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+', encoding: 'base64' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => tempfile.TemporaryFileSync({ dir: s.dir, mode: 'w+b', encoding: 'utf8' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('rejects more than three positional arguments', () => {
    expect(() => (tempfile.TemporaryFileSync as (...a: unknown[]) => unknown)('w+b', -1, '', 'x')).toThrow(TypeError);
  });

  it('bad template (the deprecated prefix variable) is refused too', () => {
    tempfile.template = '../evil';
    try {
      expect(() => tempfile.mkstempSync({ dir: s.dir })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => tempfile.gettempprefix()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    } finally {
      tempfile.template = null;
    }
    expect(ls(s.dir)).toEqual([]);
  });
});
