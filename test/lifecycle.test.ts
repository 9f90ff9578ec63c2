// What is left on disk after each way a process can end.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ls, runNode, scratch } from './_helpers';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  made: { dir: string; kept: string; named: string | null; pid: number };
  stderr: string;
  left: string[];
}

/** Runs the fixture in its own directory; `signal` is sent once it has printed what it made. */
function run(how: string, signal?: NodeJS.Signals): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(s.dir, `${how}-`));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'test/fixtures/lifecycle.cjs'), dir, how], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (signal && out.includes('\n')) child.kill(signal);
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      try {
        const made = JSON.parse(out.split('\n')[0]!);
        resolve({ code, signal: sig, made, stderr: err, left: ls(dir).map((n) => path.join(dir, n)) });
      } catch (e) {
        reject(new Error(`fixture failed: ${err || out} (${String(e)})`));
      }
    });
  });
}

describe('at process end', () => {
  it('normal exit: directories removed, delete:false kept, unnamed file gone', async () => {
    const r = await run('normal');
    expect(r.code).toBe(0);
    expect(r.left).toEqual([r.made.kept]);
  });

  it('uncaught exception: removed, exit status 1 as usual', async () => {
    const r = await run('uncaught');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('boom');
    expect(r.left).toEqual([r.made.kept]);
  });

  it('process.exit(): removed, exit status kept', async () => {
    const r = await run('process-exit');
    expect(r.code).toBe(3);
    expect(r.left).toEqual([r.made.kept]);
  });

  it('SIGTERM without cleanupOnSignals: dies of the signal and leaves the directory (documented)', async () => {
    const r = await run('sigterm', 'SIGTERM');
    expect(r.signal).toBe('SIGTERM');
    expect(r.left.sort()).toEqual([r.made.dir, r.made.kept, ...(r.made.named ? [r.made.named] : [])].sort());
  });

  it.each([
    ['sigterm-cleanup', 'SIGTERM'],
    ['sigint-cleanup', 'SIGINT'],
    ['sighup-cleanup', 'SIGHUP'],
  ] as const)('%s: cleans up, then dies of %s as it would have', async (how, sig) => {
    const r = await run(how, sig);
    expect(r.signal).toBe(sig);
    expect(r.code).toBeNull();
    expect(r.left).toEqual([r.made.kept]);
  });

  it('the function cleanupOnSignals() returns removes its handlers: SIGTERM then kills without cleanup, as without it', async () => {
    const r = await run('sigterm-disposed', 'SIGTERM');
    expect(r.signal).toBe('SIGTERM');
    expect(r.left.sort()).toEqual([r.made.dir, r.made.kept, ...(r.made.named ? [r.made.named] : [])].sort());
  });

  it('SIGKILL: the unnamed file leaves nothing; named things stay (documented)', async () => {
    const r = await run('sigkill', 'SIGKILL');
    expect(r.signal).toBe('SIGKILL');
    // Only what has a name is left: the directories (and a named file); never the unnamed file.
    expect(r.left.sort()).toEqual([r.made.dir, r.made.kept, ...(r.made.named ? [r.made.named] : [])].sort());
  });
});

describe('a cleanup at exit that fails', () => {
  // Needs another uid (root is never denied): CI runs as root and drops to nobody.
  it.runIf(process.getuid?.() === 0)('is reported on stderr, not lost', () => {
    const r = runNode(
      `const fs = require('fs');
       const t = require('securetemp');
       process.setgid(65534); process.setuid(65534);
       const parent = fs.mkdtempSync(require('path').join(require('os').tmpdir(), 'securetemp-exit-'));
       const d = t.TemporaryDirectorySync({ dir: parent });
       fs.chmodSync(parent, 0o500); // the directory can no longer be removed from it
       process.on('exit', () => { fs.chmodSync(parent, 0o700); });
       console.log(JSON.stringify({ parent, dir: d.path }));`,
    );
    const { parent, dir } = JSON.parse(r.stdout);
    try {
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/CleanupWarning: securetemp: cleanup at exit failed: EACCES/);
      expect(r.stderr).toContain(dir);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('cleanupOnSignals: bad input', () => {
  it('a hostile or wrong entry is a TypeError with ERR_INVALID_ARG_VALUE, and no handler is installed', async () => {
    const { cleanupOnSignals } = await import('securetemp');
    const before = process.listenerCount('SIGTERM');
    const hostile = [
      Object.create(null),
      { [Symbol.toPrimitive]() { throw new Error('boom'); } },
      { toString() { throw new Error('boom'); } },
      Symbol('SIGTERM'),
      42,
      'SIGKILL',
      'SIGNOPE',
    ];
    for (const h of hostile) {
      expect(() => cleanupOnSignals(['SIGTERM', h] as never)).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
      );
    }
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
