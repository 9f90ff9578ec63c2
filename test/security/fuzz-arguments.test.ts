// Property-based fuzzing of every public function (fast-check). For arbitrary argument lists
// and option objects (hostile strings, arrays, Buffers, objects with toString, URLs, numbers,
// Symbols, unknown keys, anything fast-check can make), each call must either
//   - return a correct object inside the intended directory (and nothing else appears), or
//   - throw a TypeError with ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE, or an fs-style
//     error (a code like ENAMETOOLONG and the system call) for a system failure,
// and nothing may be created anywhere outside the intended directory: the directory around it
// and the one around that are watched too. The intended directory is a few levels down, so a
// `../` that got through would land in a watched place rather than elsewhere on the machine.
//
// fast-check prints the seed and the shrunk counterexample on failure. Reproduce or explore with
//   SECURETEMP_FUZZ_SEED=<seed> SECURETEMP_FUZZ_RUNS=<runs per function> npx vitest run test/security/fuzz-arguments.test.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch, tempfile } from '../_helpers';

const RUNS = Number(process.env.SECURETEMP_FUZZ_RUNS ?? 500);
const SEED = process.env.SECURETEMP_FUZZ_SEED === undefined ? undefined : Number(process.env.SECURETEMP_FUZZ_SEED);

let s: ReturnType<typeof scratch>;
let outer: string; // watched: the directory around the one around work
let around: string; // watched: the directory around work
let work: string; // the intended directory
beforeAll(() => {
  s = scratch();
  outer = s.dir;
  around = path.join(outer, 'around');
  work = path.join(around, 'work');
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(path.join(around, 'bystander'), 'x');
  tempfile.tempdir = work; // creations without a dir go here too
});
afterAll(() => {
  tempfile.tempdir = null;
  s.remove();
});

/** Every path under root with its type and size: what must not change outside work. */
function snapshot(root: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (p === skip) continue;
      const st = fs.lstatSync(p);
      out.push(`${path.relative(root, p)} ${st.mode} ${st.size} ${st.ino}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

// ---- arbitraries ---------------------------------------------------------------------------

const hostileObject = (text: string) => ({ toString: () => text, valueOf: () => text });
const TRAVERSALS = ['../x', '..', '.', '/', 'a/b', '../../escaped', '/tmp/abs', 'x/', '\0', 'a\0b', '\0../x', '..\\x', 'é'.repeat(130), 'x'.repeat(300), '\uD800', ''];
const hostileString = fc.constantFrom(...TRAVERSALS);
const notAString = fc.oneof(
  fc.anything({ maxDepth: 2 }).filter((v) => typeof v !== 'string'),
  fc.constantFrom<unknown>(
    ['..', 'x'],
    ['x'],
    Buffer.from('../x'),
    Buffer.from('x'),
    new Uint8Array([0x2e, 0x2e]),
    new String('x'),
    Symbol('x'),
    10n,
    () => 'x',
    new URL('file:///etc/'),
  ),
  hostileString.map(hostileObject),
);
/** A value for a string option: a fair string, a hostile one, or not a string at all. */
const stringish = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 8 }), hostileString, notAString);
/** Only controlled strings may name a directory: a random one could name a real place ('.', '..'). */
const dirArb = fc.oneof(
  fc.constant<unknown>(undefined),
  fc.constantFrom<unknown>('WORK', 'WORK/', 'WORK_URL', 'WORK_RELATIVE', '', 'WORK\0', 'NOT_A_URL', 'URL_ENCODED_SLASH', 'URL_REMOTE'),
  notAString,
);
function realDir(v: unknown): unknown {
  switch (v) {
    case 'WORK':
      return work;
    case 'WORK/':
      return `${work}/`;
    case 'WORK_URL':
      return pathToFileURL(work);
    case 'WORK_RELATIVE':
      return path.relative(process.cwd(), work);
    case 'WORK\0':
      return `${work}\0`;
    case 'NOT_A_URL':
      return new URL('http://example.invalid/tmp');
    case 'URL_ENCODED_SLASH':
      return new URL(`${pathToFileURL(work).href}/a%2Fb`);
    case 'URL_REMOTE':
      return new URL('file://remote.invalid/tmp');
    default:
      return v;
  }
}
const boolish = fc.oneof(fc.boolean(), fc.anything({ maxDepth: 1 }));
const intish = fc.oneof(fc.integer({ min: -3, max: 0o7777 }), fc.constantFrom(0o600, 0o700, 0o777, 1.5, NaN, Infinity, -1, 2 ** 31), fc.anything({ maxDepth: 1 }));
const modeArb = fc.oneof(fc.constantFrom('w+b', 'w+', 'r', 'ab+', 'x', 'xt', 'wb', 'U', 'rw', 'w+b\0', 'w+b/../'), fc.string({ maxLength: 4 }), notAString);
const encodingArb = fc.oneof(fc.constantFrom('utf8', 'utf16le', 'latin1', 'ascii', 'base64', 'hex', '../utf8'), fc.string({ maxLength: 6 }), notAString);

const CREATE_KEYS = {
  prefix: stringish,
  suffix: stringish,
  dir: dirArb,
  allowInsecureDir: boolish,
  permissions: intish,
  mode: modeArb,
  bufsize: intish,
  encoding: encodingArb,
  delete: boolish,
  ignoreCleanupErrors: boolish,
  maxSize: intish,
};
/** Option objects with any subset of the known keys, sometimes an unknown one, sometimes not an object at all. */
const optionsArb = fc.oneof(
  { weight: 6, arbitrary: fc.record(CREATE_KEYS, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.tuple(fc.record(CREATE_KEYS, { requiredKeys: [] }), fc.string({ minLength: 1, maxLength: 6 }), fc.anything({ maxDepth: 1 })).map(([o, k, v]) => ({ ...o, [k]: v })) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }).filter((v) => typeof v !== 'string') },
);
const withDir = (o: unknown) => (typeof o === 'object' && o !== null && !Array.isArray(o) && 'dir' in o ? { ...o, dir: realDir((o as { dir: unknown }).dir) } : o);

/** The names writeFileAtomic may be given: inside work, or hostile; never a random real place. */
const atomicPath = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }).filter((n) => !n.includes('/')).map((n) => `WORK/${n}`) },
  { weight: 1, arbitrary: fc.constantFrom('WORK/..', 'WORK/.', 'WORK/', 'WORK/x\0y', '', 'WORK/' + 'n'.repeat(300)) },
  { weight: 1, arbitrary: notAString },
);
const realPath = (p: unknown) => (typeof p === 'string' && p.startsWith('WORK') ? work + p.slice(4) : p);
const dataArb = fc.oneof(
  { weight: 3, arbitrary: fc.string() },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 8 }), fc.anything({ maxDepth: 1 })), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);
const atomicOptions = fc.oneof(
  fc.record(
    {
      permissions: intish,
      fsync: fc.oneof(fc.constant(false), boolish),
      encoding: encodingArb,
      chown: fc.oneof(fc.record({ uid: intish, gid: intish }, { requiredKeys: [] }), fc.anything({ maxDepth: 1 })),
    },
    { requiredKeys: [] },
  ),
  fc.anything({ maxDepth: 2 }).filter((v) => typeof v !== 'string'),
);

// ---- the property ----------------------------------------------------------------------------

const ALLOWED_ARG_ERRORS = /^ERR_INVALID_ARG_(TYPE|VALUE)$/;

/** Checks a thrown value: an argument TypeError, or a system error with a code and a system call. */
function expectCleanFailure(e: unknown): void {
  const err = e as { code?: unknown; syscall?: unknown; message?: unknown };
  if (e instanceof TypeError && typeof err.code === 'string' && ALLOWED_ARG_ERRORS.test(err.code)) return;
  if (e instanceof Error && typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code) && typeof err.syscall === 'string') return;
  throw new Error(`not an argument TypeError nor an fs-style error: ${e instanceof Error ? `${e.name} ${String(err.code)} ${e.message}` : String(e)}`);
}

interface Made {
  close(): unknown;
}
type Check = (result: unknown) => Promise<Made | null> | Made | null;

const inWork = (p: unknown) => typeof p === 'string' && path.dirname(p) === work;

function fileObject(named: boolean): Check {
  return (r) => {
    const f = r as { fd: number; path: string | null; closeSync(): void; closed: boolean };
    expect(f.closed).toBe(false);
    const st = fs.fstatSync(f.fd);
    expect(st.isFile()).toBe(true);
    if (named) {
      expect(inWork(f.path)).toBe(true);
      expect(fs.lstatSync(f.path!).ino).toBe(st.ino);
    } else expect(f.path).toBe(null);
    return { close: () => { f.closeSync(); if (f.path !== null) fs.rmSync(f.path, { force: true }); } };
  };
}

const CHECKS: Record<string, Check> = {
  gettempdir: (r) => (expect(r).toBe(work), null),
  gettempprefix: (r) => (expect(r).toBe('tmp'), null),
  // Takes no arguments and ignores any: counters, whatever it is given.
  stats: (r) => (expect(Object.keys(r as object).sort()).toEqual(['created', 'leaked', 'live', 'removed']), null),
  mktemp: (r) => {
    expect(inWork(r)).toBe(true);
    expect(fs.existsSync(r as string)).toBe(false);
    return null;
  },
  mkstemp: (r) => {
    const { fd, path: p } = r as { fd: number; path: string };
    expect(inWork(p)).toBe(true);
    expect(fs.lstatSync(p).ino).toBe(fs.fstatSync(fd).ino);
    expect(fs.fstatSync(fd).isFile()).toBe(true);
    return { close: () => { fs.closeSync(fd); fs.unlinkSync(p); } };
  },
  mkdtemp: (r) => {
    expect(inWork(r)).toBe(true);
    expect(fs.lstatSync(r as string).isDirectory()).toBe(true);
    return { close: () => fs.rmdirSync(r as string) };
  },
  TemporaryFile: fileObject(false),
  NamedTemporaryFile: fileObject(true),
  SpooledTemporaryFile: (r) => {
    const f = r as { rolloverSync(): void; closeSync(): void; path: string | null };
    f.rolloverSync();
    expect(f.path).toBe(null);
    return { close: () => f.closeSync() };
  },
  TemporaryDirectory: (r) => {
    const d = r as { path: string; cleanupSync(): void };
    expect(inWork(d.path)).toBe(true);
    expect(fs.lstatSync(d.path).isDirectory()).toBe(true);
    return { close: () => { d.cleanupSync(); fs.rmSync(d.path, { recursive: true, force: true }); } };
  },
  cleanupOnSignals: (r) => {
    expect(typeof r).toBe('function');
    return { close: () => (r as () => void)() };
  },
  writeFileAtomic: () => null, // checked through the directory: the target is what appeared
};

/** One call: what it returned or threw must be right, and only work may have changed. */
async function callOnce(name: string, call: () => unknown, allowedInWork: (names: string[]) => boolean): Promise<void> {
  const outside = snapshot(outer, work);
  const before = fs.readdirSync(work);
  let result: unknown;
  let threw = false;
  try {
    result = await call();
  } catch (e) {
    threw = true;
    expectCleanFailure(e);
  }
  let made: Made | null = null;
  if (!threw) made = await CHECKS[name.replace(/Sync$/, '')]!(result);
  const appeared = fs.readdirSync(work).filter((n) => !before.includes(n));
  expect(snapshot(outer, work)).toEqual(outside); // nothing anywhere else
  if (threw) expect(appeared).toEqual([]); // a refused call makes nothing
  else expect(allowedInWork(appeared)).toBe(true);
  await made?.close();
  for (const n of fs.readdirSync(work)) if (!before.includes(n)) fs.rmSync(path.join(work, n), { recursive: true, force: true });
}

const params = () => ({ numRuns: RUNS, seed: SEED, endOnFailure: true });

// Every function the package exports, from the package itself. Classes are not called:
// TempDir's constructor is closed (ERR_ILLEGAL_CONSTRUCTOR, tested in tempdir.test.ts), and
// TempFile/SpooledTempFile are exported for instanceof; constants and settings are not functions.
const api = tempfile as unknown as Record<string, unknown>;
const CLASSES = new Set(['TempFile', 'SpooledTempFile', 'TempDir']);
const FUNCTIONS = Object.keys(api).filter((k) => typeof api[k] === 'function' && !CLASSES.has(k));

describe('fuzzing every public function', () => {
  it('the list comes from the package: every function is fuzzed below', () => {
    expect(FUNCTIONS.sort()).toEqual(
      [
        'NamedTemporaryFile', 'NamedTemporaryFileSync', 'SpooledTemporaryFile', 'TemporaryDirectory', 'TemporaryDirectorySync',
        'TemporaryFile', 'TemporaryFileSync', 'cleanupOnSignals', 'gettempdir', 'gettempprefix', 'mkdtemp', 'mkdtempSync',
        'mkstemp', 'mkstempSync', 'mktemp', 'stats', 'writeFileAtomic', 'writeFileAtomicSync',
      ].sort(),
    );
  });

  const one = (n: string[]) => n.length <= 1;
  const none = (n: string[]) => n.length === 0;
  // What each function may leave in work: a named object (removed by the check's close), or nothing.
  const LEAVES: Record<string, (n: string[]) => boolean> = {
    mkstemp: one, mkstempSync: one, mkdtemp: one, mkdtempSync: one, NamedTemporaryFile: one, NamedTemporaryFileSync: one,
    TemporaryDirectory: one, TemporaryDirectorySync: one, TemporaryFile: none, TemporaryFileSync: none,
    SpooledTemporaryFile: none, mktemp: none, gettempdir: none, gettempprefix: none, cleanupOnSignals: none, stats: none,
  };

  it.each(FUNCTIONS.filter((f) => !f.startsWith('writeFileAtomic')))(
    `%s: arbitrary argument lists (${RUNS} cases): a correct object in the intended directory, or a clean error, and nothing elsewhere`,
    async (name) => {
      const fn = api[name] as (...a: unknown[]) => unknown;
      const argsArb =
        name === 'cleanupOnSignals'
          ? fc.oneof(fc.constant([]), fc.tuple(fc.oneof(fc.array(fc.constantFrom('SIGUSR2', 'SIGWINCH', 'SIGKILL', 'SIGSTOP', 'NOPE', '../x')), fc.anything({ maxDepth: 2 }))))
          : fc.oneof(
              { weight: 6, arbitrary: fc.tuple(optionsArb) },
              { weight: 1, arbitrary: fc.constant([]) },
              // The seed's positional forms (TemporaryFile(mode, bufsize, suffix), mktemp(suffix)), and too many arguments.
              { weight: 2, arbitrary: fc.array(fc.oneof(stringish, intish, modeArb), { minLength: 1, maxLength: 4 }) },
            );
      await fc.assert(
        fc.asyncProperty(argsArb, async (args) => {
          const real = (args as unknown[]).map(withDir);
          await callOnce(name, () => fn(...real), LEAVES[name]!);
        }),
        params(),
      );
    },
  );

  it.each(['writeFileAtomicSync', 'writeFileAtomic'])(
    `%s: arbitrary paths, data and options (${RUNS} cases): the target written in its directory, or a clean error, no temp file`,
    async (name) => {
      const fn = api[name] as (...a: unknown[]) => unknown;
      await fc.assert(
        fc.asyncProperty(atomicPath, dataArb, fc.option(atomicOptions, { nil: undefined, freq: 2 }), async (p, data, options) => {
          const target = realPath(p);
          const args = options === undefined ? [target, data] : [target, data, options];
          // Only the target may appear, never a temp file (whose name starts with '.').
          await callOnce(name, () => fn(...args), (n) => n.length === 0 || (n.length === 1 && typeof target === 'string' && n[0] === path.basename(target)));
        }),
        params(),
      );
    },
  );
});
