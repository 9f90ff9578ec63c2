// Attack class: colliding creators. Many processes (or threads) create in one shared
// directory at once: a creator that checked for a name and then created it, or that treated
// an existing name as its own, would hand two callers the same file. Every creation is
// exclusive in the kernel (O_EXCL, mkdirat, linkat), so a name goes to exactly one caller;
// a collision is retried with another name, never reported as an error and never shared.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ls, scratch } from '../_helpers';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

function creators(dir: string, procs: number, count: number, how: 'random' | 'forced') {
  return Promise.all(
    Array.from(
      { length: procs },
      () =>
        new Promise<{ names: string[]; errors: string[] }>((resolve, reject) => {
          const c = spawn(process.execPath, [path.join(ROOT, 'test/security/fixtures/create-many.cjs'), dir, String(count), how], { cwd: ROOT });
          let out = '';
          let err = '';
          c.stdout.on('data', (d) => (out += d));
          c.stderr.on('data', (d) => (err += d));
          c.on('error', reject);
          c.on('close', (code) => (code === 0 && err === '' ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`))));
        }),
    ),
  );
}

describe('many processes creating in one directory', () => {
  it('8 processes × 2,000 creations (files and directories, sync and async): 16,000 distinct objects, no error', async () => {
    const dir = path.join(s.dir, 'random');
    fs.mkdirSync(dir);
    const results = await creators(dir, 8, 2000, 'random');
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const all = results.flatMap((r) => r.names);
    expect(all).toHaveLength(16_000);
    expect(new Set(all).size).toBe(16_000);
    expect(ls(dir)).toEqual([...all].sort());
  });

  it('8 processes × 40 creations all trying the same names in the same order: each name won by exactly one', async () => {
    const dir = path.join(s.dir, 'forced');
    fs.mkdirSync(dir);
    const results = await creators(dir, 8, 40, 'forced');
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const all = results.flatMap((r) => r.names);
    expect(new Set(all).size).toBe(320);
    // Nobody skipped a name that was free: together they took exactly the first 320, tmpc0…tmpc319.
    expect(all.map((n) => Number(n.slice('tmpc'.length))).sort((a, b) => a - b)).toEqual(Array.from({ length: 320 }, (_, i) => i));
    // Every process made all it asked for: a name taken by another is a collision, retried.
    for (const r of results) expect(r.names.length).toBe(40);
  });
});
