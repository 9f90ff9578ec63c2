// Attack class: a tree too deep for the remover. Whoever can write in a temporary directory
// (the program itself, a tool it runs, another user of a shared work directory) can make it
// arbitrarily deep: mkdir and chdir on a relative name never meet PATH_MAX. Removal used to
// take one native stack frame per level: about 17,600 levels crashed the process with
// SIGSEGV (about 9,000 in a worker thread), which nothing can catch, and the tree stayed.
// Removal is now a loop with its own stack on the heap, holding descriptors for the last
// levels only: a tree of any depth is removed, or reported with an fs-style error.
// Going back up to a level whose descriptor was closed goes through "..", checked against
// the device and inode that level had: a directory moved out of the tree mid-walk is never
// followed out (the last test).
//
// Each removal runs in a child process (a crash there is a status, not a lost test run), on
// a tree built in about a second (fixtures/deep-tree.cjs). Trees live under a private
// scratch directory on /dev/shm (tmpfs) where there is one, removed with rm -rf.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isLinux, ls } from '../_helpers';
import { requireStrace } from './_security';

const DEPTH = 100_000;
// For the other entry points (the same removal underneath): still well past what the old
// recursion survived, in a third of the time.
const LESS_DEEP = 30_000;
const FIXTURE = 'test/security/fixtures/deep-tree.cjs';

let dir: string;
beforeAll(() => {
  let base = os.tmpdir();
  try {
    if (fs.statSync('/dev/shm').isDirectory()) {
      fs.accessSync('/dev/shm', fs.constants.W_OK);
      base = '/dev/shm';
    }
  } catch {
    // no /dev/shm: the usual temporary directory
  }
  dir = fs.mkdtempSync(path.join(base, 'securetemp-test-'));
});
// rm -rf, not fs.rmSync: a tree left by a failed run may be too deep for it.
afterAll(() => {
  if (dir) expect(spawnSync('rm', ['-rf', dir]).status).toBe(0);
});

interface Report {
  path?: string;
  result: 'ok' | { code: string; syscall: string; path: string; message: string };
  attacker?: { messages: unknown[]; exit: { code: number | null; signal: string | null } };
}

/** Removes what a failed run left in the scratch directory (rm -rf: it may be deep), test by test. */
function removeNew(before: string[]) {
  for (const n of ls(dir)) if (!before.includes(n)) spawnSync('rm', ['-rf', path.join(dir, n)]);
}

function run(args: string[], opts: { wrap?: string[] } = {}) {
  const argv = [...(opts.wrap ?? []), process.execPath, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe.runIf(process.platform !== 'win32')(`a tree ${DEPTH.toLocaleString('en')} levels deep is removed, never a crash`, () => {
  const modes: [string, number, string][] = [
    ['cleanupSync', DEPTH, 'TemporaryDirectory cleanupSync()'],
    ['cleanup', DEPTH, 'TemporaryDirectory cleanup() (async, in the thread pool)'],
    ['worker', DEPTH, 'TemporaryDirectory cleanupSync() in a worker_threads Worker (a smaller stack)'],
    ['exit', LESS_DEEP, `TemporaryDirectory removed at normal exit (${LESS_DEEP.toLocaleString('en')} levels)`],
    ['tmp', LESS_DEEP, `tmp's dirSync({ unsafeCleanup: true }).removeCallback() (${LESS_DEEP.toLocaleString('en')} levels)`],
  ];
  for (const [mode, depth, title] of modes) {
    it(title, () => {
      const before = ls(dir);
      try {
        const r = run([FIXTURE, mode, dir, String(depth)]);
        expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
        const report = JSON.parse(r.stdout) as Report;
        expect(report.result).toBe('ok');
        expect(path.dirname(report.path!)).toBe(dir);
        expect(fs.existsSync(report.path!)).toBe(false);
        expect(ls(dir)).toEqual(before);
      } finally {
        removeNew(before);
      }
    }, 90_000);
  }

  it(`the command line's --cleanup-after (${LESS_DEEP.toLocaleString('en')} levels)`, () => {
    const before = ls(dir);
    try {
      const r = run(['dist/cli.js', '-d', '-p', dir, '--cleanup-after', process.execPath, FIXTURE, 'build', '-', String(LESS_DEEP)]);
      expect({ status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, signal: null, stdout: '', stderr: '' });
      expect(ls(dir)).toEqual(before);
    } finally {
      removeNew(before);
    }
  }, 90_000);
});

// ENOMEM from unlinkat, openat or getdents is passing on a VM whose host reclaims memory (it
// failed a CI run here once in about 50 removals of 30,000 levels) and under a memory cgroup at
// its limit: the walk tries the same call again a few times, then reports ENOMEM as itself.
describe.runIf(isLinux)('ENOMEM during removal', () => {
  const inject = (when: string) => ['-f', '-qq', '--seccomp-bpf', '-o', '/dev/null', '-e', 'trace=unlinkat', '-e', `inject=unlinkat:error=ENOMEM:when=${when}`];
  it('three in a row are waited out: the tree is removed', () => {
    const before = ls(dir);
    try {
      const r = run([FIXTURE, 'cleanupSync', dir, '200'], { wrap: [requireStrace(), ...inject('5..7')] });
      expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
      expect((JSON.parse(r.stdout) as Report).result).toBe('ok');
      expect(ls(dir)).toEqual(before);
    } finally {
      removeNew(before);
    }
  }, 90_000);
  it('one that lasts is reported as itself, with the call and the path', () => {
    const before = ls(dir);
    try {
      const r = run([FIXTURE, 'cleanupSync', dir, '200'], { wrap: [requireStrace(), ...inject('5+')] });
      expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
      const report = JSON.parse(r.stdout) as Report;
      expect(report.result).toMatchObject({ code: 'ENOMEM', syscall: 'rmdir' });
      expect((report.result as Exclude<Report['result'], 'ok'>).path.startsWith(`${report.path}/d/d/`)).toBe(true);
    } finally {
      removeNew(before);
    }
  }, 90_000);
});

describe.runIf(isLinux)('a directory moved out of the tree while removal is below it', () => {
  // 30,000 levels (more than the old recursion survived); the attacker waits at level 29,699
  // until the removal, on its way back up, has removed level 29,990, then moves level 29,700
  // to out/moved. Removal holds descriptors for its last levels only, so it must come back up
  // through ".." of the moved directory, which is out/. Followed, it would go on in out/ as if
  // it were level 29,699: remove out/d (the name level 29,700 had), then go up again from
  // there. strace delays every unlinkat() by 2 ms (one per level on the way up) so the move
  // happens while removal is still far below level 29,700.
  it('nothing outside is removed; the walk stops there and reports EAGAIN', () => {
    const attack = path.join(dir, 'attack');
    const out = path.join(attack, 'out');
    fs.mkdirSync(path.join(out, 'd'), { recursive: true });
    fs.writeFileSync(path.join(out, 'victim'), 'precious');
    const strace = ['-f', '-qq', '--seccomp-bpf', '-o', '/dev/null', '-e', 'trace=unlinkat', '-e', 'inject=unlinkat:delay_exit=2000'];
    const r = run([FIXTURE, 'moved', attack, '30000', '29700'], { wrap: [requireStrace(), ...strace] });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const report = JSON.parse(r.stdout) as Report;
    // The attack landed: the rename worked while removal was below.
    expect(report.attacker).toEqual({ messages: ['ready', { renamed: true }], exit: { code: 0, signal: null } });
    // Nothing outside the tree was removed: out/d and out/victim are there, and so is the moved
    // directory (emptied: its contents were the tree's).
    expect(ls(out)).toEqual(['d', 'moved', 'victim']);
    expect(fs.statSync(path.join(out, 'd')).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(out, 'victim'), 'utf8')).toBe('precious');
    expect(ls(path.join(out, 'moved'))).toEqual([]);
    // Reported, as an fs error: the level it could not go back to, its path shortened.
    expect(report.result).toMatchObject({ code: 'EAGAIN', syscall: 'open' });
    const e = report.result as Exclude<Report['result'], 'ok'>;
    expect(e.path.startsWith(`${report.path}/\u2026/d/d/`)).toBe(true);
    expect(Buffer.byteLength(e.path)).toBeLessThanOrEqual(4096);
    expect(e.message).toMatch(/^EAGAIN: resource temporarily unavailable, open '\//);
    // The rest of the tree (levels 0 to 29,699) is still there, for a later removal.
    expect(fs.existsSync(path.join(report.path!, 'd', 'd'))).toBe(true);
    spawnSync('rm', ['-rf', attack]);
  }, 90_000);
});
