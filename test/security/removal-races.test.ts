// Attack class: redirecting a removal. TemporaryDirectory removes a whole tree, as the user
// who made it (often root, in a service), while the tree may be writable by others (a
// shared work directory) or by a compromised process of the same user. Whoever can write
// there can swap a subdirectory for a symbolic link to something precious between the
// moment removal looks and the moment it acts, plant hard links to files outside, or keep
// adding files. Removal works from open directory handles (openat O_NOFOLLOW, unlinkat,
// fchmod on a handle, never chmod through a path), so it never leaves the tree: links are
// unlinked, never followed; hard links lose a name, their file keeps its data and mode;
// permissions are only ever restored on directories it has opened itself; a directory that
// keeps being refilled is reported (not looped on forever).
// (test/tempdir.test.ts has the same-user symlink swap; here the attacker is another uid.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isRoot, ls, scratch } from '../_helpers';
import { NOBODY, portable, requireStrace } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
  fs.chmodSync(s.dir, 0o755);
});
afterAll(() => s.remove());

function ask(child: ChildProcess, m: object, key: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const on = (r: Record<string, unknown>) => {
      if (key in r) {
        child.off('message', on);
        child.off('exit', onExit);
        resolve(r);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`${key}: the child exited (${code})`));
    child.on('message', on);
    child.once('exit', onExit);
    child.send(m);
  });
}

const started = (child: ChildProcess) => new Promise((resolve) => child.once('message', resolve));

interface Race {
  cleaner: number; // uid removing the tree
  attacker: number; // uid attacking it
  mode: 'swap-symlink' | 'swap-readonly' | 'swap-locked-hardlink' | 'hardlinks' | 'add-files';
  target: string;
  shape: 'plain' | 'readonly' | 'locked';
  rounds: number;
  /** Runs the cleaner under strace, every openat() return delayed this many µs: widens a race window. */
  slowOpen?: number;
}

/** Runs the rounds; returns the attacks that landed and every cleanup's error code (null: none). */
async function race(r: Race): Promise<{ hits: number; errors: (string | null)[]; slowest: number }> {
  const base = fs.mkdtempSync(path.join(s.dir, 'base-'));
  fs.chmodSync(base, 0o755);
  fs.chownSync(base, r.cleaner, r.cleaner);
  const fixture = path.join(ROOT, 'test/security/fixtures/race-cleaner.cjs');
  const cleaner = r.slowOpen
    ? spawn(requireStrace(), ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=openat', '-e', `inject=openat:delay_exit=${r.slowOpen}`, process.execPath, fixture, String(r.cleaner)], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      })
    : fork(fixture, [String(r.cleaner)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const attacker = fork(path.join(ROOT, 'test/security/fixtures/race-attacker.cjs'), [String(r.attacker), r.mode, r.target], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await started(cleaner);
  let hits = 0;
  let slowest = 0;
  const errors: (string | null)[] = [];
  try {
    for (let round = 0; round < r.rounds; round++) {
      const { path: d } = (await ask(cleaner, { make: r.shape, base }, 'path')) as { path: string };
      await ask(attacker, { dir: d }, 'started');
      await new Promise((res) => setTimeout(res, 1));
      const t0 = Date.now();
      errors.push((await ask(cleaner, { cleanup: true, async: round % 2 === 1 }, 'error')).error as string | null);
      slowest = Math.max(slowest, Date.now() - t0);
      hits += (await ask(attacker, { stop: true }, 'stopped')).hits as number;
      fs.rmSync(d, { recursive: true, force: true }); // what the race left (a link, a moved dir) is inside base
    }
  } finally {
    attacker.send({ exit: true });
    cleaner.send({ exit: true });
  }
  return { hits, errors, slowest };
}

/** A directory of precious files, and a way to see they are untouched. */
function victimDir(name: string, owner: number, mode: number) {
  const d = path.join(s.dir, name);
  fs.mkdirSync(path.join(d, 'deep'), { recursive: true });
  for (const f of ['a', 'deep/b']) fs.writeFileSync(path.join(d, f), f, { mode: 0o644 });
  for (const p of [d, path.join(d, 'deep'), path.join(d, 'a'), path.join(d, 'deep/b')]) fs.chownSync(p, owner, owner);
  fs.chmodSync(d, mode);
  return {
    path: d,
    intact() {
      expect(fs.statSync(d).mode & 0o7777).toBe(mode);
      fs.chmodSync(d, 0o755);
      expect(ls(d)).toEqual(['a', 'deep']);
      expect(fs.readFileSync(path.join(d, 'a'), 'utf8')).toBe('a');
      expect(fs.readFileSync(path.join(d, 'deep/b'), 'utf8')).toBe('deep/b');
      fs.chmodSync(d, mode);
    },
  };
}

// Every scenario needs two uids (CI runs as root, so it runs there).
describe.runIf(isRoot)('another process attacks the tree while cleanup() runs', () => {
  it('a subdirectory swapped for a symlink to root-owned files, by another uid (nobody): nothing outside removed', async () => {
    const v = victimDir('victim-of-swap', 0, 0o755);
    const r = await race({ cleaner: 0, attacker: NOBODY, mode: 'swap-symlink', target: v.path, shape: 'plain', rounds: 60 });
    expect(r.hits).toBeGreaterThan(0); // the attack really ran
    v.intact();
    // The race may leave the moved directory or the link for the next rmSync, but never an error other than these.
    for (const e of r.errors) expect([null, 'ENOENT', 'ENOTEMPTY', 'EAGAIN']).toContain(e);
  });

  it('a read-only subdirectory (removal must chmod it) swapped for a symlink to a 0500 directory, cleaner not root: no chmod through the link', async () => {
    // Root is never denied, so permissions are only restored (fchmod on a handle) for other
    // users: cleaner and attacker are both nobody here (a compromised process of the same user).
    const v = victimDir('victim-of-chmod', NOBODY, 0o500);
    const r = await race({ cleaner: NOBODY, attacker: NOBODY, mode: 'swap-readonly', target: v.path, shape: 'readonly', rounds: 60 });
    expect(r.hits).toBeGreaterThan(0);
    v.intact(); // still 0500, still full: CPython's rmtree once chmod-ed through such a link
    for (const e of r.errors) expect([null, 'ENOENT', 'ENOTEMPTY', 'EAGAIN', 'EACCES']).toContain(e);
  });

  it('a 0000 subdirectory (removal must chmod it) swapped for a hard link to a file, cleaner not root, window widened: the file keeps its mode', async () => {
    // Between failing to open the 0000 directory and giving it owner rwx there are only two
    // system calls, too short to hit by chance; strace delays the return of every openat() in
    // the cleaner by 3 ms so the attacker gets in (the fchmodat-by-name it replaced turned the
    // victim 0700 here; now the directory is opened O_PATH|O_NOFOLLOW and changed through it).
    const victim = path.join(s.dir, 'victim-of-locked-swap');
    fs.writeFileSync(victim, 'precious');
    fs.chownSync(victim, NOBODY, NOBODY);
    fs.chmodSync(victim, 0o600);
    const r = await race({ cleaner: NOBODY, attacker: NOBODY, mode: 'swap-locked-hardlink', target: victim, shape: 'locked', rounds: 6, slowOpen: 3000 });
    expect(r.hits).toBeGreaterThan(0);
    // chmod 0700 through the swapped-in link would show here. Without O_PATH (macOS, the BSDs,
    // the portable build) the directory is changed by name: there the race is lost (documented).
    if (!portable) expect(fs.statSync(victim).mode & 0o7777).toBe(0o600);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    for (const e of r.errors) expect([null, 'ENOENT', 'ENOTEMPTY', 'EAGAIN', 'EACCES']).toContain(e);
  });

  it('hard links to a read-only file outside keep appearing (same uid, cleaner not root): only the links go; the file keeps its data and mode', async () => {
    const victim = path.join(s.dir, 'victim-of-hardlinks');
    fs.writeFileSync(victim, 'precious');
    fs.chownSync(victim, NOBODY, NOBODY);
    fs.chmodSync(victim, 0o400);
    const r = await race({ cleaner: NOBODY, attacker: NOBODY, mode: 'hardlinks', target: victim, shape: 'readonly', rounds: 40 });
    expect(r.hits).toBeGreaterThan(0);
    const st = fs.statSync(victim);
    expect(st.mode & 0o7777).toBe(0o400);
    expect(st.nlink).toBe(1); // every planted name removed (by cleanup or by the test's rmSync)
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    for (const e of r.errors) expect([null, 'ENOENT', 'ENOTEMPTY', 'EAGAIN']).toContain(e);
  });

  it('files keep being added by another uid: cleanup() ends every time, removing everything or reporting ENOTEMPTY/EAGAIN', async () => {
    const r = await race({ cleaner: 0, attacker: NOBODY, mode: 'add-files', target: '', shape: 'plain', rounds: 40 });
    expect(r.hits).toBeGreaterThan(0);
    for (const e of r.errors) expect([null, 'ENOTEMPTY', 'EAGAIN', 'ENOENT']).toContain(e);
    expect(r.slowest).toBeLessThan(5_000); // a refilled directory is re-read a bounded number of times
  });
});
