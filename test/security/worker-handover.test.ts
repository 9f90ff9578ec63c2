// Outside review (2026-12-03), the high finding: a worker's exit removed every temp directory
// and named file it had made, while the rest of the process still used them (a worker pool
// hands paths back). The name was then free: another user made a 0777 directory there, and
// root's next write landed in it (or followed a link planted in it). A worker now hands its
// named objects over: they are removed when the process exits, by the addon (C atexit), and
// only while their path still leads to them; its descriptors are still closed at its exit.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from '../_helpers';

const FIXTURE = path.join(ROOT, 'test/security/fixtures/worker-handover.cjs');

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

function run(how: string, env: NodeJS.ProcessEnv = {}) {
  const dir = fs.mkdtempSync(path.join(s.dir, `${how}-`));
  const r = spawnSync(process.execPath, [FIXTURE, dir, how], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  return {
    dir,
    status: r.status,
    signal: r.signal,
    stderr: r.stderr,
    out: JSON.parse(r.stdout || '{}') as { paths: string[]; alive: boolean[] },
  };
}

describe("a worker's exit is not the process's", () => {
  it('directories (TemporaryDirectory sync and async, tmp dirSync with and without unsafeCleanup) and named files (NamedTemporaryFile sync and async, tmp fileSync) stay while the process runs, and are removed at its exit', () => {
    const r = run('plain');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.out.paths).toHaveLength(7);
    expect(r.out.alive).toEqual(Array(7).fill(true));
    expect(fs.readdirSync(r.dir)).toEqual([]); // all removed when the process exited
  });

  it('at process exit only what still is ours is removed: a named file or a directory whose name now leads to another is left', () => {
    const r = run('moved');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.out.alive).toEqual(Array(7).fill(true));
    const named = r.out.paths[2]!;
    const dir = r.out.paths[0]!;
    expect(fs.readdirSync(r.dir).sort()).toEqual(
      [path.basename(named), `${path.basename(named)}.moved`, path.basename(dir), `${path.basename(dir)}.moved`].sort(),
    );
    expect(fs.readFileSync(named, 'utf8')).toBe('not the temp file');
    expect(fs.readdirSync(dir)).toEqual(['precious']);
  });
});

describe('second outside review (2026-12-03): the exit paths of handed-over objects', () => {
  it.runIf(process.platform === 'linux')('a child forked without exec that calls exit() removes nothing of its parent\'s', () => {
    const forker = path.join(s.dir, 'forker.node');
    const cc = spawnSync('gcc', ['-shared', '-fPIC', '-O1', `-I${path.join(path.dirname(process.execPath), '..', 'include', 'node')}`, '-I/usr/include/node', '-o', forker, 'test/security/native/forker.c'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(cc.stderr).toBe('');
    const r = run('fork', { FORKER: forker });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.out.alive).toEqual(Array(7).fill(true)); // after the child's exit (checked in the fixture)
    expect(fs.readdirSync(r.dir)).toEqual([]); // and removed at this process's own exit
  });

  it.runIf(process.platform !== 'win32')('cleanupOnSignals(): a signal that ends the process removes what workers handed over too', () => {
    const r = run('signal');
    expect(r.stderr).toBe('');
    expect(r.signal).toBe('SIGTERM');
    expect(r.out.alive).toEqual(Array(7).fill(true));
    expect(fs.readdirSync(r.dir)).toEqual([]);
  });
});
