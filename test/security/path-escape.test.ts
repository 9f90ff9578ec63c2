// Attack class: path traversal and type confusion through options. A name is
// prefix + random + suffix inside `dir`; whoever controls prefix or suffix (a web form, a
// header, an archive entry) must not be able to leave `dir`. npm tmp had three CVEs here:
// `../` in prefix/postfix, then a bypass of that check with an array or a Buffer (whose
// toString() is the same text but which `includes('/')` does not see), plus a symlinked dir.
// Every string option of every function is checked: only primitive strings are accepted
// (never arrays, Buffers, String objects or objects with toString), prefix/suffix have no
// separator, no NUL and are not '.'/'..'; a bad argument is a TypeError with
// ERR_INVALID_ARG_TYPE/ERR_INVALID_ARG_VALUE and nothing is created anywhere. `dir` and
// writeFileAtomic's path are the caller's to choose (a relative or '..' path is legitimate
// there), but their type, NUL bytes and URLs are checked the same way.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { linuxExtras, ls, scratch, tempfile } from '../_helpers';
import { sw } from './_security';

let s: ReturnType<typeof scratch>;
let work: string; // the intended directory; s.dir around it is watched too
beforeAll(() => {
  s = scratch();
  work = path.join(s.dir, 'work');
  fs.mkdirSync(work);
});
afterAll(() => s.remove());
afterEach(() => {
  tempfile.template = null;
  tempfile.tempdir = null;
  sw.forceNoTmpfile = false;
});

/** Every path under root (relative), sorted: the whole scratch tree, to see anything created anywhere in it. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(path.relative(root, p));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

type Failure = { code?: string; name?: string; message?: string; isTypeError: boolean };

/** A TypeError carrying this code (the argument errors of the contract). */
const argError = (e: Failure | null, code: string | RegExp) =>
  e !== null && e.isTypeError && (typeof code === 'string' ? e.code === code : code.test(e.code ?? ''));

async function outcome(f: () => unknown): Promise<Failure | null> {
  try {
    const r = (await f()) as { close?: () => unknown; closeSync?: () => void; fd?: number } | string | undefined;
    // Made something after all: clean it so the report is about this value only.
    if (r && typeof r === 'object') {
      if (typeof r.closeSync === 'function') r.closeSync();
      else if (typeof r.fd === 'number') fs.closeSync(r.fd);
    }
    return null;
  } catch (e) {
    const x = e as { code?: string; name?: string; message?: string };
    return { code: x.code, name: x.name, message: x.message, isTypeError: e instanceof TypeError };
  }
}

type Opts = Record<string, unknown>;
/** The creators, each taking an options object (SpooledTemporaryFile rolled over so it really creates). */
const CREATORS: [string, (o: Opts) => unknown][] = [
  ['mkstempSync', (o) => tempfile.mkstempSync(o)],
  ['mkstemp', (o) => tempfile.mkstemp(o)],
  ['mkdtempSync', (o) => tempfile.mkdtempSync(o)],
  ['mkdtemp', (o) => tempfile.mkdtemp(o)],
  ['TemporaryFileSync', (o) => tempfile.TemporaryFileSync(o)],
  ['TemporaryFile', (o) => tempfile.TemporaryFile(o)],
  ['NamedTemporaryFileSync', (o) => tempfile.NamedTemporaryFileSync(o)],
  ['NamedTemporaryFile', (o) => tempfile.NamedTemporaryFile(o)],
  ['TemporaryDirectorySync', (o) => tempfile.TemporaryDirectorySync(o)],
  ['TemporaryDirectory', (o) => tempfile.TemporaryDirectory(o)],
  [
    'SpooledTemporaryFile',
    (o) => {
      const f = tempfile.SpooledTemporaryFile(o);
      f.rolloverSync();
      return f;
    },
  ],
  ['mktemp', (o) => tempfile.mktemp(o)],
];
const FILE_CREATORS = new Set(['TemporaryFileSync', 'TemporaryFile', 'NamedTemporaryFileSync', 'NamedTemporaryFile', 'SpooledTemporaryFile']);

const hostileObject = (text: string) => ({ toString: () => text, valueOf: () => text, [Symbol.toPrimitive]: () => text });
const throwingProxy = new Proxy({}, { get: () => { throw new Error('a trap'); }, getPrototypeOf: () => { throw new Error('a trap'); } });

// [description, value, expected code]
const V = 'ERR_INVALID_ARG_VALUE';
const T = 'ERR_INVALID_ARG_TYPE';
const AFFIX: [string, unknown, string][] = [
  ['../x', '../x', V],
  ['..', '..', V],
  ['.', '.', V],
  ['a/b', 'a/b', V],
  ['x/', 'x/', V],
  ['/', '/', V],
  ['an absolute path', '/etc/cron.d/evil', V],
  ['deep traversal', '../../../../../../../../tmp/evil', V],
  ['NUL inside', 'a\0b', V],
  ['NUL alone', '\0', V],
  ['NUL then ../', '\0../x', V],
  ['an array with ../', ['..', 'x'], T],
  ['a one-element array (String() is "x")', ['x'], T],
  ['a Buffer of ../x', Buffer.from('../x'), T],
  ['a harmless Buffer', Buffer.from('x'), T],
  ['a Uint8Array of ".."', new Uint8Array([0x2e, 0x2e]), T],
  ['an object whose toString is ../x', hostileObject('../x'), T],
  ['an object whose toString is harmless', hostileObject('x'), T],
  ['a String object', new String('x'), T],
  ['a URL', new URL('file:///etc/'), T],
  ['a Symbol', Symbol('x'), T],
  ['a number', 1, T],
  ['a bigint', 1n, T],
  ['a boolean', true, T],
  ['a function returning ../x', () => '../x', T],
  ['null', null, T],
  ['a Proxy whose traps throw', throwingProxy, T],
];
const DIR: [string, unknown, string][] = [
  ['empty', '', V],
  ['NUL inside', `${'/tmp'}\0/../etc`, V],
  ['a non-file URL', new URL('http://example.invalid/tmp'), V],
  ['a file URL with an encoded /', new URL('file:///tmp/a%2Fb'), V],
  ['a file URL with a remote host', new URL('file://remote.invalid/tmp'), V],
  ['a file URL with an encoded NUL', new URL('file:///tmp/a%00b'), V],
  ['a Buffer', Buffer.from('/tmp'), T],
  ['an array', ['/tmp'], T],
  ['an object whose toString is a path', hostileObject('/tmp'), T],
  ['a String object', new String('/tmp'), T],
  ['a number', 7, T],
  ['null', null, T],
];
const MODE: [string, unknown, string][] = [
  ['a path in the mode', 'w+b/../../x', V],
  ['NUL', 'w+b\0', V],
  ['empty', '', V],
  ['an array', ['w+b'], T],
  ['a Buffer', Buffer.from('w+b'), T],
  ['an object whose toString is a mode', hostileObject('w+b'), T],
  ['a String object', new String('w+b'), T],
];
const ENCODING: [string, unknown, string][] = [
  ['a path', '../utf8', V],
  ['NUL', 'utf8\0', V],
  ['an encoding not for text files', 'base64', V],
  ['an array', ['utf8'], T],
  ['an object whose toString is utf8', hostileObject('utf8'), T],
];

function check(call: (o: Opts) => unknown, base: Opts, key: string, table: [string, unknown, string][]) {
  return async () => {
    const before = tree(s.dir);
    const wrong: string[] = [];
    for (const [what, value, code] of table) {
      const e = await outcome(() => call({ ...base, [key]: value }));
      if (!argError(e, code)) wrong.push(`${key} ${what}: ${e ? `${e.name} ${e.code} ${e.message}` : 'accepted'}`);
    }
    expect(wrong).toEqual([]);
    expect(tree(s.dir)).toEqual(before); // nothing created in work, beside it, or in it through a link
  };
}

describe.each(CREATORS)('%s', (name, call) => {
  it('prefix: traversal, absolute paths, NUL and every non-string are refused, nothing created', check(call, { dir: work }, 'prefix', AFFIX));
  it('suffix: the same', check(call, { dir: work }, 'suffix', AFFIX));
  it('dir: NUL, empty, URLs without a local path and every non-string/URL are refused', check(call, {}, 'dir', DIR));
  if (FILE_CREATORS.has(name)) {
    it('mode and encoding: only the strings they name', async () => {
      await check(call, { dir: work }, 'mode', MODE)();
      await check(call, { dir: work, mode: 'w+' }, 'encoding', ENCODING)();
    });
  }
});

describe('positional forms, module settings, writeFileAtomic and persist', () => {
  it("TemporaryFile(mode, bufsize, suffix) and mktemp(suffix): the seed's positional strings are checked alike", async () => {
    tempfile.tempdir = work;
    const before = tree(s.dir);
    const wrong: string[] = [];
    for (const [what, value, code] of AFFIX.filter(([, v]) => v !== null)) {
      for (const [form, f] of [
        ['TemporaryFileSync', () => tempfile.TemporaryFileSync('w+b', -1, value as string)],
        ['TemporaryFile', () => tempfile.TemporaryFile('w+b', -1, value as string)],
        // mktemp(x): a string is the suffix; anything else is taken as an options object and
        // refused; skipped here: a URL (no own keys: an empty options object) and the Proxy
        // (an options object whose own traps throw: its error, as for any caller code).
        ...(what === 'a URL' || what.includes('Proxy') ? [] : [['mktemp', () => tempfile.mktemp(value as string)] as const]),
      ] as const) {
        const e = await outcome(f);
        const ok = argError(e, form === 'mktemp' ? /^ERR_INVALID_ARG_(TYPE|VALUE)$/ : code);
        if (!ok) wrong.push(`${form} ${what}: ${e ? `${e.name} ${e.code}` : 'accepted'}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(tree(s.dir)).toEqual(before);
  });

  it('tempfile.template (the default prefix) and tempfile.tempdir (the default dir) are checked at use', async () => {
    const before = tree(s.dir);
    const wrong: string[] = [];
    for (const [what, value, code] of AFFIX.filter(([, v]) => v !== null)) {
      tempfile.template = value as string;
      tempfile.tempdir = work;
      for (const [name, call] of CREATORS) {
        const e = await outcome(() => call({}));
        if (!argError(e, code)) wrong.push(`template ${what}, ${name}: ${e ? `${e.name} ${e.code}` : 'accepted'}`);
      }
    }
    tempfile.template = null;
    for (const [what, value, code] of DIR.filter(([, v]) => v !== null && v !== '')) {
      tempfile.tempdir = value as string;
      const e = await outcome(() => tempfile.mkstempSync());
      if (!argError(e, code)) wrong.push(`tempdir ${what}: ${e ? `${e.name} ${e.code}` : 'accepted'}`);
    }
    expect(wrong).toEqual([]);
    expect(tree(s.dir)).toEqual(before);
  });

  // '.' and '..' are relative to the working directory: make it one whose '.' and '..' are
  // directories that are not ancestors of the files (renaming onto an ancestor is ENOTEMPTY,
  // onto '/' a refused path), whatever directory the suite was started in.
  let cwd = '';
  beforeEach(() => {
    cwd = process.cwd();
    const inner = path.join(work, 'cwd', 'inner');
    fs.mkdirSync(inner, { recursive: true });
    process.chdir(inner);
  });
  afterEach(() => {
    process.chdir(cwd);
    fs.rmSync(path.join(work, 'cwd'), { recursive: true, force: true });
  });

  const PATHS: [string, unknown, string][] = [
    ['empty', '', V],
    ['NUL', path.join(s?.dir ?? '/tmp', 'a\0b'), V],
    ['a directory (trailing /)', 'x/', V],
    ['. (a directory: refused by the system, not the checks)', '.', 'EISDIR'],
    ['..', '..', 'EISDIR'],
    ['/', '/', V],
    ['a file URL with an encoded /', new URL('file:///tmp/a%2Fb'), V],
    ['a non-file URL', new URL('http://example.invalid/x'), V],
    ['a Buffer', Buffer.from('/tmp/x'), T],
    ['an array', ['/tmp/x'], T],
    ['an object whose toString is a path', hostileObject('/tmp/x'), T],
    ['a String object', new String('/tmp/x'), T],
  ];

  it('writeFileAtomic(path) and its encoding option', async () => {
    const before = tree(s.dir);
    for (const [what, value, code] of PATHS) {
      for (const f of [() => tempfile.writeFileAtomicSync(value as string, 'x'), () => tempfile.writeFileAtomic(value as string, 'x')]) {
        const e = await outcome(f);
        expect({ what, code: e?.code, type: e?.isTypeError }).toEqual({ what, code, type: code.startsWith('ERR_') });
      }
    }
    for (const [what, value] of [...ENCODING.filter(([w]) => w !== 'an encoding not for text files'), ['a Symbol', Symbol('utf8')] as const]) {
      const e = await outcome(() => tempfile.writeFileAtomicSync(path.join(work, 'target'), 'x', { encoding: value as BufferEncoding }));
      expect({ what, code: e?.code }).toEqual({ what, code: V });
    }
    expect(tree(s.dir)).toEqual(before);
  });

  it('TempFile.persist(targetPath): the same checks; the file stays where it was', async () => {
    const f = tempfile.NamedTemporaryFileSync({ dir: work });
    try {
      const before = tree(s.dir);
      for (const [what, value, code] of PATHS) {
        for (const p of [() => f.persistSync(value as string), () => f.persist(value as string)]) {
          const e = await outcome(p);
          expect({ what, code: e?.code }).toEqual({ what, code });
        }
      }
      expect(tree(s.dir)).toEqual(before);
    } finally {
      f.closeSync();
    }
  });
});

describe('names too long for the file system', () => {
  // 255 bytes is the limit for one name on Linux file systems: bytes, not characters.
  const LONG: [string, Opts][] = [
    ['a 250-character prefix', { prefix: 'a'.repeat(250) }],
    ['a 250-character suffix', { suffix: 'z'.repeat(250) }],
    ['122 two-byte characters (134 characters, 256 bytes with the random part)', { prefix: 'é'.repeat(122) }],
    ['61 four-byte characters (emoji, UTF-16 pairs)', { suffix: '😀'.repeat(61) }],
  ];
  it.each(CREATORS.filter(([n]) => n !== 'mktemp'))('%s: ENAMETOOLONG as an fs error, nothing created', async (name, call) => {
    const before = tree(s.dir);
    if (FILE_CREATORS.has(name) && !name.startsWith('Named') && linuxExtras) {
      // An O_TMPFILE file never has a name: prefix and suffix are not used at all.
      for (const [, o] of LONG) expect(await outcome(() => call({ dir: work, ...o }))).toBe(null);
      sw.forceNoTmpfile = true; // created under a name, then unlinked: that name is too long
    }
    for (const [what, o] of LONG) {
      const e = await outcome(() => call({ dir: work, ...o }));
      expect({ what, code: e?.code, typeError: e?.isTypeError }).toEqual({ what, code: 'ENAMETOOLONG', typeError: false });
    }
    const deep = path.join(work, 'a/'.repeat(2100)); // past PATH_MAX (4096)
    const e = await outcome(() => call({ dir: deep }));
    expect(e?.code).toBe('ENAMETOOLONG');
    expect(tree(s.dir)).toEqual(before);
  });

  it('the longest name that fits (255 bytes) works', () => {
    const f = tempfile.mkstempSync({ dir: work, prefix: 'a'.repeat(243) });
    fs.closeSync(f.fd);
    expect(Buffer.byteLength(path.basename(f.path))).toBe(255);
    fs.unlinkSync(f.path);
  });

  it('mktemp and writeFileAtomic: ENAMETOOLONG too', async () => {
    expect(() => tempfile.mktemp({ dir: work, prefix: 'a'.repeat(250) })).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    await expect(tempfile.writeFileAtomic(path.join(work, 'n'.repeat(256)), 'x')).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    expect(ls(work)).toEqual([]);
  });
});

describe('text that is not valid Unicode (lone surrogates)', () => {
  // A JavaScript string can hold lone surrogates, which have no UTF-8 form. Like node:fs, the
  // package writes them as U+FFFD: the name stays inside dir, and the returned path (whichever
  // form it holds) leads to the object created.
  it('in prefix, suffix and dir: created inside dir, the returned path leads to it', () => {
    const odd = path.join(work, 'odd\uD800dir');
    fs.mkdirSync(odd); // node:fs makes it as odd\uFFFDdir
    expect(ls(work)).toEqual(['odd\uFFFDdir']);
    const f = tempfile.mkstempSync({ dir: odd, prefix: 'p\uD800', suffix: '\uDFFF' });
    expect(fs.lstatSync(f.path).ino).toBe(fs.fstatSync(f.fd).ino);
    fs.closeSync(f.fd);
    const d = tempfile.mkdtempSync({ dir: odd, prefix: '\uDBFF' });
    expect(fs.lstatSync(d).isDirectory()).toBe(true);
    const n = tempfile.NamedTemporaryFileSync({ dir: odd, suffix: '\uD83D' });
    expect(fs.lstatSync(n.path!).ino).toBe(fs.fstatSync(n.fd).ino);
    n.closeSync();
    const names = ls(path.join(work, 'odd\uFFFDdir'));
    expect(names).toHaveLength(2);
    for (const name of names) expect(name).toMatch(/^(p\uFFFD[a-z0-9]{12}\uFFFD|\uFFFD[a-z0-9]{12})$/);
    fs.rmSync(path.join(work, 'odd\uFFFDdir'), { recursive: true });
  });
});

describe('options read through getters', () => {
  // A getter can answer differently each time it is read. The value checked must be the value
  // used: whatever the getter answers on its second, third… read, nothing leaves dir.
  it.each(CREATORS)('%s: a prefix that is harmless on some reads and ../ on others never escapes', async (_, call) => {
    const before = tree(s.dir);
    for (let phase = 0; phase < 4; phase++) {
      let reads = phase;
      const o = { dir: work, get prefix() { return reads++ % 2 === 0 ? 'ok' : '../escaped-'; } };
      const e = await outcome(() => call(o));
      if (e !== null) expect(e.code).toBe(V);
    }
    const after = tree(s.dir).filter((p) => !before.includes(p));
    for (const p of after) expect(p.startsWith(`work${path.sep}ok`)).toBe(true);
    for (const p of after) fs.rmSync(path.join(s.dir, p), { recursive: true, force: true });
  });
});
