// Attack class: securetemp/tmp's `dir` (or template directory) swapped after the containment
// check (issue 11, finding 3; CVE-2025-54798 through a race). The drop-in resolves `dir` with
// realpath and checks that it is inside `tmpdir`, as npm tmp does; were the addon then to open
// the path again by name, a user who owns a directory on that path could exchange a component
// with a symbolic link to a directory outside (renameat2 RENAME_EXCHANGE: both names exist at
// every instant) between the check and the open, and root would create outside `tmpdir`.
// Creation must instead start from a handle of `tmpdir` and prove the directory it creates in
// is beneath it: openat2(RESOLVE_BENEATH) on Linux, a walk up '..' from the handle comparing
// device and inode with tmpdir's elsewhere (npm run test:portable runs this file on that path).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Tmp from 'securetemp/tmp';
import { ROOT, isLinux, isRoot, linuxExtras, ls, scratch } from '../_helpers';
import { NOBODY, requireStrace } from './_security';

const require = createRequire(import.meta.url);
const tmp: typeof Tmp = require('securetemp/tmp');

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
  fs.chmodSync(s.dir, 0o755); // the attacker (nobody) reaches its directory inside
});
afterAll(() => s.remove());

/** The attacker (native/exchange.cc), built once into the scratch directory, where nobody can run it. */
let exchanger = '';
beforeAll(() => {
  if (!isLinux || !isRoot) return;
  exchanger = path.join(s.dir, 'exchange');
  const cc = spawnSync('g++', ['-O1', 'test/security/native/exchange.cc', '-o', exchanger], { cwd: ROOT, encoding: 'utf8' });
  expect(cc.stderr).toBe('');
  expect(cc.status).toBe(0);
});

interface Layout {
  root: string; // tmpdir's stand-in: root's, 0755
  outside: string; // root's, 0755, outside root: where nothing may ever be created
  sub: string; // root/attacker/sub, exchanged with the link root/attacker/swap -> outside
  swap: string;
}

function layout(name: string): Layout {
  const base = path.join(s.dir, name);
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  const attacker = path.join(root, 'attacker');
  const sub = path.join(attacker, 'sub');
  const swap = path.join(attacker, 'swap');
  for (const d of [base, root, outside]) {
    fs.mkdirSync(d, { recursive: true });
    fs.chmodSync(d, 0o755);
  }
  fs.mkdirSync(sub, { recursive: true });
  fs.symlinkSync(outside, swap);
  for (const p of [attacker, sub]) fs.chownSync(p, NOBODY, NOBODY);
  fs.lchownSync(swap, NOBODY, NOBODY);
  return { root, outside, sub, swap };
}

async function startExchanger(a: string, b: string) {
  const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', exchanger, a, b], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const started = await new Promise<boolean>((r) => {
    child.stdout.once('data', () => r(true));
    child.once('exit', () => r(false));
  });
  if (!started) throw new Error(`the attacker did not start: ${err}`);
  return {
    async stop(): Promise<void> {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

type Attempt = () => Promise<string>;

/**
 * How a call that created nothing failed: 'path' for the refusal of a static escape found by
 * realpath (tmp refuses it too, so it is tmp's Error and words with our ERR_INVALID_ARG_VALUE:
 * compat-tmp.test.ts), 'handle' for our TypeError when the path passed but the handle opened
 * from tmpdir's led out (tmp would have followed it), 'realpath' for realpath
 * itself failing as the names are exchanged under it (lstat saw a link, readlink no longer
 * does), null for anything else.
 */
function refusal(e: unknown): 'path' | 'handle' | 'realpath' | null {
  const { code, syscall } = e as { code?: string; syscall?: string };
  if (e instanceof TypeError && code === 'ERR_INVALID_ARG_VALUE' && /led outside when it was opened/.test(e.message)) return 'handle';
  if (e instanceof Error && !(e instanceof TypeError) && code === 'ERR_INVALID_ARG_VALUE' && /^(dir|template) option must be relative to ".*", found "\.\.\//.test(e.message))
    return 'path';
  if (code === 'EINVAL' && syscall === 'readlink') return 'realpath';
  return null;
}

function attempts(root: string): [string, Attempt][] {
  const o = { tmpdir: root, dir: 'attacker/sub', keep: true };
  const cb = <T>(f: (done: (err: Error | null, p?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => f((err, p) => (err ? reject(err) : resolve(p as T))));
  return [
    [
      'fileSync',
      async () => {
        const f = tmp.fileSync(o);
        fs.closeSync(f.fd);
        return f.name;
      },
    ],
    ['dirSync', async () => tmp.dirSync(o).name],
    [
      'fileSync with a template',
      async () => {
        const f = tmp.fileSync({ tmpdir: root, template: 'attacker/sub/t-XXXXXX', keep: true, discardDescriptor: true });
        return f.name;
      },
    ],
    [
      'file',
      () =>
        cb<string>((done) =>
          tmp.file(o, (err, p, fd) => {
            if (!err) fs.closeSync(fd);
            done(err, p);
          }),
        ),
    ],
    ['dir', () => cb<string>((done) => tmp.dir(o, (err, p) => done(err, p)))],
  ];
}

describe.skipIf(!isLinux || !isRoot)('securetemp/tmp: dir exchanged with a link out of tmpdir while root creates', () => {
  it.each(attempts('').map(([name]) => name))('%s: nothing is ever created outside tmpdir', async (name) => {
    const l = layout(name.replace(/\W+/g, '-'));
    const attempt = attempts(l.root).find(([n]) => n === name)![1];
    const attacker = await startExchanger(l.sub, l.swap);
    const outcome = { created: 0, refused: 0, path: 0, handle: 0, realpath: 0, other: [] as string[] };
    const made: string[] = [];
    try {
      // At least 300 rounds, more (up to 3000) while one outcome is still rare: the exchange
      // landing between the check by path and the open ('handle') is about one round in 100.
      const rare = () => outcome.created < 50 || outcome.refused < 50 || outcome.handle < 1;
      for (let round = 0; round < 3000 && (round < 300 || rare()); round++) {
        if (ls(l.outside).length > 0) break; // an escape: the assertion below reports it
        try {
          made.push(await attempt());
          outcome.created++;
        } catch (e) {
          const why = refusal(e);
          if (why === null) outcome.other.push(String(e));
          else {
            outcome[why]++;
            if (why !== 'realpath') outcome.refused++;
          }
        }
      }
    } finally {
      await attacker.stop();
    }
    // Nothing outside, ever: the exchanged link led there about half the time.
    expect(ls(l.outside)).toEqual([]);
    expect(outcome.other).toEqual([]);
    // Everything made is inside root, in the real directory (wherever its name is now).
    const inside = ls(fs.lstatSync(l.sub).isSymbolicLink() ? l.swap : l.sub);
    expect(new Set(inside).size).toBe(made.length);
    for (const p of made) expect(inside).toContain(path.basename(p));
    // The race ran: both outcomes happened many times, and the handle caught an exchange the
    // path check had missed (before the fix, that call created outside instead).
    expect(outcome.created).toBeGreaterThanOrEqual(50);
    expect(outcome.refused).toBeGreaterThanOrEqual(50);
    expect(outcome.handle).toBeGreaterThanOrEqual(1);
    if (process.env.SECURETEMP_TEST_VERBOSE) console.log(name, JSON.stringify({ ...outcome, other: outcome.other.length }));
  });
});

describe.skipIf(!isLinux || !isRoot)('the addon with `beneath`: the handle is proven inside the root', () => {
  // What tmp relies on, without a race: a dir that leads out when it is opened is refused
  // with ERR_OUTSIDE_ROOT, whatever the path looked like (openat2 here, the walk up '..' in
  // the portable build), and nothing is created.
  const native: typeof import('../../dist/_binding.js').native = require('../../dist/_binding.js').native;
  function create(root: string, rel: string, kind: 0): [fd: number, name: string];
  function create(root: string, rel: string, kind: 1): [name: string, dev: number, ino: number];
  function create(root: string, rel: string, kind: 0 | 1): unknown;
  function create(root: string, rel: string, kind: 0 | 1): unknown {
    return native.createSync(rel, '', '', kind, 0, 0o600, ['made'], root);
  }

  it.each([
    ['a link to a directory outside', 'attacker/evil'],
    ['a path through that link', 'attacker/evil/.'],
    ['".." above the root', '../outside'],
    ['a relative link that climbs out', 'attacker/up'],
  ])('%s: ERR_OUTSIDE_ROOT, nothing created', (_, rel) => {
    const l = layout(`beneath-${rel.replace(/\W+/g, '-')}`);
    fs.renameSync(l.swap, path.join(l.root, 'attacker', 'evil'));
    fs.symlinkSync('../../outside', path.join(l.root, 'attacker', 'up'));
    for (const kind of [0, 1] as const) {
      expect(() => create(l.root, rel, kind)).toThrow(
        expect.objectContaining({ code: 'ERR_OUTSIDE_ROOT', root: l.root, path: `${l.root}/${rel}` }),
      );
    }
    expect(ls(l.outside)).toEqual([]);
  });

  it('inside: the root itself, a subdirectory, a relative link that stays inside', () => {
    const l = layout('beneath-inside');
    fs.symlinkSync('sub', path.join(l.root, 'attacker', 'near'));
    const f = create(l.root, '', 0);
    fs.closeSync(f[0]);
    const [name, dev, ino] = create(l.root, 'attacker/sub', 1);
    expect(name).toBe('made');
    // A directory's identity comes back too (securetemp/tmp checks its path against it at cleanup).
    const st = fs.lstatSync(path.join(l.sub, 'made'));
    expect([dev, ino]).toEqual([st.dev, st.ino]);
    expect(() => create(l.root, 'attacker/near', 1)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(ls(l.root)).toEqual(['attacker', 'made']);
    expect(ls(l.sub)).toEqual(['made']);
  });

  it('a missing directory or a file is the usual system error, with the path joined', () => {
    const l = layout('beneath-errors');
    fs.writeFileSync(path.join(l.root, 'file'), '');
    expect(() => create(l.root, 'missing', 0)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open', path: path.join(l.root, 'missing') }));
    expect(() => create(l.root, 'file', 0)).toThrow(expect.objectContaining({ code: 'ENOTDIR', path: path.join(l.root, 'file') }));
  });
});

describe.skipIf(!linuxExtras || !isRoot)('openat2 missing (ENOSYS: a kernel before 5.6) or refused (EPERM: an older container seccomp profile)', () => {
  // strace makes every openat2 fail so; the walk up '..' must take over with the same results.
  it.each(['ENOSYS', 'EPERM'])('%s: created inside, refused outside, as with openat2', (err) => {
    requireStrace();
    const l = layout(`no-openat2-${err}`);
    fs.renameSync(l.swap, path.join(l.root, 'attacker', 'evil'));
    const log = path.join(s.dir, `strace-${err}.log`);
    const code = `const { native } = require('./dist/_binding.js'); const out = [];
      for (const rel of ['attacker/sub', 'attacker/sub', 'attacker/evil', '../outside']) {
        try { out.push(native.createSync(rel, '', '', 1, 0, 0o700, null, ${JSON.stringify(l.root)})[0]); } catch (e) { out.push(e.code); }
      }
      console.log(JSON.stringify(out));`;
    const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=openat2', '-e', `inject=openat2:error=${err}`, process.execPath, '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as string[];
    expect(out.slice(2)).toEqual(['ERR_OUTSIDE_ROOT', 'ERR_OUTSIDE_ROOT']);
    expect(ls(l.sub).sort()).toEqual(out.slice(0, 2).sort());
    expect(ls(l.outside)).toEqual([]);
    // openat2 was really tried and refused (ENOSYS: once, then known missing for the process).
    const tried = fs.readFileSync(log, 'utf8').split('\n').filter((line) => line.includes('openat2(') && line.includes(`= -1 ${err}`));
    expect(tried.length).toBe(err === 'ENOSYS' ? 1 : 4);
  });
});

describe.skipIf(!isLinux || !isRoot)("securetemp/tmp's cleanup after dir was swapped for a link out", () => {
  // Removal starts again from the returned path. With tmp's `name` the attacker knows the name
  // in advance, and needs no race: it moves its directory aside and puts a link to a directory
  // outside in its place, where root has a directory of that name. The cleanup used to remove
  // that one (rmdir, or everything in it with unsafeCleanup); now the path must still lead to
  // the directory made (device and inode, read from the proven handle at creation).
  const swapAfterCreation = (l: Layout) => {
    const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', 'mv sub sub.moved && ln -s "$0" sub', l.outside], {
      cwd: path.dirname(l.sub),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(fs.readlinkSync(l.sub)).toBe(l.outside);
  };

  it.each([
    ['removeCallback, unsafeCleanup', true, false],
    ['removeCallback (rmdir)', false, false],
    ['cleanupCallback, unsafeCleanup', true, true],
    ['cleanupCallback (rmdir)', false, true],
  ])('%s: the directory of that name outside stays', async (name, unsafeCleanup, async) => {
    const l = layout(`cleanup-${name.replace(/\W+/g, '-')}`);
    const victim = path.join(l.outside, 'victim');
    fs.mkdirSync(victim);
    if (unsafeCleanup) fs.writeFileSync(path.join(victim, 'precious'), 'root only');
    const o = { tmpdir: l.root, dir: 'attacker/sub', name: 'victim', unsafeCleanup };
    let remove: () => Promise<void>;
    if (async) {
      const [err, , cleanup] = await new Promise<unknown[]>((resolve) => tmp.dir(o, (...a: unknown[]) => resolve(a)));
      expect(err).toBeNull();
      remove = () => new Promise<void>((resolve, reject) => (cleanup as (next: (e?: Error | null) => void) => void)((e) => (e ? reject(e) : resolve())));
    } else {
      const d = tmp.dirSync(o);
      remove = async () => d.removeCallback();
    }
    swapAfterCreation(l);
    await remove();
    expect(ls(victim)).toEqual(unsafeCleanup ? ['precious'] : []);
    // Ours was moved by its owner and is left where it went.
    expect(ls(path.join(l.root, 'attacker', 'sub.moved'))).toEqual(['victim']);
  });

  it('not swapped: removed as before', () => {
    const l = layout('cleanup-kept');
    const d = tmp.dirSync({ tmpdir: l.root, dir: 'attacker/sub', name: 'mine', unsafeCleanup: true });
    fs.writeFileSync(path.join(d.name, 'f'), 'x');
    d.removeCallback();
    expect(ls(l.sub)).toEqual([]);
  });
});

describe.skipIf(!isLinux || !isRoot)('securetemp/tmp: the static checks still hold', () => {
  it('a dir that is a link out of tmpdir is refused before anything is opened; one inside is used', () => {
    const l = layout('static');
    fs.renameSync(l.swap, path.join(l.root, 'attacker', 'evil'));
    expect(() => tmp.fileSync({ tmpdir: l.root, dir: 'attacker/evil' })).toThrow(
      expect.objectContaining({ name: 'Error', message: `dir option must be relative to "${l.root}", found "../outside".`, code: 'ERR_INVALID_ARG_VALUE' }),
    );
    fs.symlinkSync('sub', path.join(l.root, 'attacker', 'near'));
    const d = tmp.dirSync({ tmpdir: l.root, dir: 'attacker/near', keep: true });
    expect(d.name).toBe(path.join(l.sub, path.basename(d.name))); // realpath'd, as tmp
    expect(ls(l.sub)).toEqual([path.basename(d.name)]);
    expect(ls(l.outside)).toEqual([]);
  });
});
