// Attack class: predictable names. Exclusive creation makes a guessed name harmless for
// creating, but a name someone can predict is one they can plant at before we get there
// (denial of service: every attempt collides), watch for, or open later in a shared
// directory. Names are 12 characters of [a-z0-9] (62 bits) from the kernel's CSPRNG
// (getrandom(2), flags 0: it blocks until the pool is seeded, never GRND_INSECURE), rejection-
// sampled (bytes >= 252 dropped, so each character is exactly uniform: no modulo bias), and a
// forked child never reuses its parent's pooled bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isLinux, runNode, scratch, tempfile } from '../_helpers';
import { parseStrace, portable, requireStrace } from './_security';

const require = createRequire(import.meta.url);
const native: { randomChars(n: number): string; RANDOM_CHARS: number } = require('../../dist/_binding.js').native;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

/** strace's -xx form of a buffer ("\x23\x5c…") as bytes. */
function unhex(quoted: string): Buffer {
  return Buffer.from(quoted.replace(/\\x/g, ''), 'hex');
}

describe.runIf(isLinux)('the source is the kernel CSPRNG', () => {
  it('every name is made of getrandom() output, byte for byte, with bytes >= 252 dropped', () => {
    if (portable) {
      // The macOS/BSD path draws from arc4random_buf (scripts/test-portable.mjs checks the
      // addon imports no getrandom); its bytes cannot be seen with strace. Names still differ.
      const names = new Set(Array.from({ length: 1000 }, () => native.randomChars(12)));
      expect(names.size).toBe(1000);
      return;
    }
    const strace = requireStrace();
    const log = path.join(s.dir, 'getrandom.strace');
    const work = path.join(s.dir, 'names');
    fs.mkdirSync(work);
    // dir is given, so gettempdir() draws no name before the marker; one thread (sync calls).
    const code = `const t = require('securetemp'), fs = require('fs');
      const dir = ${JSON.stringify(work)}, names = [];
      fs.existsSync('/securetemp-audit-begin');
      for (let i = 0; i < 300; i++) { const r = t.mkstempSync({ dir, prefix: 'n' }); fs.closeSync(r.fd); names.push(r.path.slice(dir.length + 2)); }
      fs.existsSync('/securetemp-audit-end');
      console.log(names.join(' '));`;
    const r = spawnSync(strace, ['-f', '-qq', '-s', '512', '-xx', '-o', log, '-e', 'trace=getrandom,access', process.execPath, '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const names = r.stdout.trim().split(' ');
    expect(names).toHaveLength(300);
    const calls = parseStrace(fs.readFileSync(log, 'utf8'));
    const marker = (what: string) => calls.findIndex((c) => c.name === 'access' && unhex(c.args.split('"')[1]!).toString() === `/securetemp-audit-${what}`);
    const begin = marker('begin');
    const end = marker('end');
    expect(begin).toBeGreaterThanOrEqual(0);
    const main = calls[begin]!.pid;
    const draws = calls.slice(begin + 1, end).filter((c) => c.name === 'getrandom');
    // Blocking getrandom (flags 0) from the creating thread, in blocks of 256 bytes.
    for (const d of draws) expect({ pid: d.pid, rest: d.args.replace(/^"[^"]*", /, ''), ret: d.ret }).toEqual({ pid: main, rest: '256, 0', ret: '256' });
    const bytes = Buffer.concat(draws.map((d) => unhex(d.args.split('"')[1]!)));
    const chars = [...bytes].filter((b) => b < 252).map((b) => ALPHABET[b % 36]).join('');
    // About 300 * 12 * 256 / 252 bytes: every byte used once, no block drawn for nothing.
    expect(chars.length).toBeGreaterThanOrEqual(3600);
    expect([...bytes.subarray(0, bytes.length - 256)].filter((b) => b < 252).length).toBeLessThan(3600);
    expect(chars.length - 3600).toBeLessThan(256);
    const expected = Array.from({ length: 300 }, (_, i) => chars.slice(i * 12, i * 12 + 12));
    expect(names).toEqual(expected);
    // The dropped bytes really occur (the sample would otherwise not show rejection at work).
    expect([...bytes].some((b) => b >= 252)).toBe(true);
  });
});

describe('uniform over the alphabet, no modulo bias', () => {
  // 2.4 million characters. With bias from `byte % 36` (no rejection), 'a'–'d' would each be
  // 8/256 instead of 7/252: 12.5% too frequent, a chi-square in the thousands.
  const N = 2_400_000;
  let sample: string;
  beforeAll(() => {
    sample = native.randomChars(N);
  });

  const chiSquare = (counts: number[], expected: number) => counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);

  it('each character equally often (chi-square, 35 degrees of freedom, p > 1e-6)', () => {
    expect(/^[a-z0-9]+$/.test(sample)).toBe(true);
    const counts = new Array<number>(36).fill(0);
    for (let i = 0; i < N; i++) counts[ALPHABET.indexOf(sample[i]!)]!++;
    // 35 df: P(chi2 > 86.7) = 1e-6. A correct generator fails this once in a million runs.
    expect(chiSquare(counts, N / 36)).toBeLessThan(86.7);
    // Modulo bias would show first in a–d against the rest.
    const low = (counts[0]! + counts[1]! + counts[2]! + counts[3]!) / 4;
    const rest = counts.slice(4).reduce((a, c) => a + c, 0) / 32;
    expect(Math.abs(low / rest - 1)).toBeLessThan(0.01);
  });

  it('each position of a name, and pairs of neighbours, uniform too (no structure across a name)', () => {
    const names = N / 12;
    const perPosition = Array.from({ length: 12 }, () => new Array<number>(36).fill(0));
    const pairs = new Array<number>(36 * 36).fill(0);
    for (let n = 0; n < names; n++) {
      for (let p = 0; p < 12; p++) {
        const c = ALPHABET.indexOf(sample[n * 12 + p]!);
        perPosition[p]![c]!++;
        if (p % 2 === 1) pairs[ALPHABET.indexOf(sample[n * 12 + p - 1]!) * 36 + c]!++;
      }
    }
    // 12 tests at 35 df: each p > 1e-7 (threshold 92.6), so a good generator passes all.
    for (const counts of perPosition) expect(chiSquare(counts, names / 36)).toBeLessThan(92.6);
    // 1295 df: mean 1295, sd 50.9; 1295 + 6 sd.
    expect(chiSquare(pairs, (names * 6) / 1296)).toBeLessThan(1600);
  });

  it('names from the creators are 12 characters of [a-z0-9] after the prefix, all different', () => {
    const dir = path.join(s.dir, 'many');
    fs.mkdirSync(dir);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const p = tempfile.mkdtempSync({ dir, prefix: 'q' });
      expect(path.basename(p)).toMatch(/^q[a-z0-9]{12}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(2000);
    expect(native.RANDOM_CHARS).toBeGreaterThanOrEqual(12); // 36^12 > 2^62
  });
});

describe('different in every process', () => {
  it('8 children started at once with the same environment: their first names all differ', async () => {
    const dir = path.join(s.dir, 'children');
    fs.mkdirSync(dir);
    const code = `const t = require('securetemp'); const out = [];
      for (let i = 0; i < 4; i++) out.push(require('path').basename(t.mkdtempSync({ dir: ${JSON.stringify(dir)} })));
      out.push(t.mktemp({ dir: ${JSON.stringify(dir)} }).slice(-12));
      console.log(out.join(' '));`;
    const outs = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string[]>((resolve, reject) => {
            const c = spawn(process.execPath, ['-e', code], { cwd: ROOT, env: { ...process.env, SOURCE_DATE_EPOCH: '0' } });
            let out = '';
            let err = '';
            c.stdout.on('data', (d) => (out += d));
            c.stderr.on('data', (d) => (err += d));
            c.on('error', reject);
            c.on('close', (status) => (status === 0 && err === '' ? resolve(out.trim().split(' ')) : reject(new Error(`child: ${status} ${err}`))));
          }),
      ),
    );
    const all = outs.flat();
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
    expect(new Set(outs.map((o) => o[0])).size).toBe(8);
  });

  it.runIf(isLinux)('a real fork() without exec (native embedders): the child does not reuse the parent’s pooled bytes', () => {
    // Node cannot fork without exec; a C++ program on the same core (retry.cc, posix.cc) can.
    const bin = path.join(s.dir, 'fork-names');
    const flags = portable ? ['-DST_POSIX_PORTABLE'] : [];
    const cc = spawnSync(
      'g++',
      ['-std=c++17', '-O1', ...flags, '-Inative', 'native/retry.cc', 'native/posix.cc', 'test/security/native/fork-names.cc', '-o', bin, '-pthread'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(cc.stderr).toBe('');
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(bin, { encoding: 'utf8' });
      expect(r.status).toBe(0);
      const [first, parent, child] = r.stdout.trim().split(' ');
      for (const n of [first, parent, child]) expect(n).toMatch(/^[a-z0-9]{12}$/);
      expect(child).not.toBe(parent); // a reused pool gives the child exactly the parent's next name
      expect(child).not.toBe(first);
    }
  });
});

describe('template names (securetemp/tmp template, the command line): no pool kept in JavaScript', () => {
  // Outside review (2026-12-03): the X's of a template came from a 1024-byte pool in the
  // JavaScript heap, which a fork() without exec (native embedders) copies: parent and child
  // then drew the same names. Each call now draws its own bytes from OpenSSL's generator,
  // which reseeds after a fork.
  it('every template name draws fresh bytes from node:crypto', () => {
    const r = runNode(
      `const crypto = require('crypto');
       const real = crypto.randomFillSync;
       let calls = 0;
       crypto.randomFillSync = (b) => { calls++; return real(b); };
       const { randomAlnum } = require('./dist/_template.js');
       const names = Array.from({ length: 20 }, () => randomAlnum(10));
       console.log(JSON.stringify({ calls, distinct: new Set(names).size, ok: names.every((n) => /^[A-Za-z0-9]{10}$/.test(n)) }));`,
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ calls: 20, distinct: 20, ok: true });
  });
});

describe('no weak fallback', () => {
  it('Math.random is never consulted for a name', () => {
    const r = runNode(
      `Math.random = () => { throw new Error('Math.random was called'); };
       const crypto = require('crypto');
       crypto.randomBytes = crypto.randomFillSync = crypto.randomInt = () => { throw new Error('node:crypto was called'); };
       const t = require('securetemp'), fs = require('fs');
       const d = t.TemporaryDirectorySync({ dir: ${JSON.stringify(s.dir)} });
       fs.closeSync(t.mkstempSync({ dir: d.path }).fd);
       t.mktemp({ dir: d.path });
       t.writeFileAtomicSync(d.path + '/x', 'x');
       d.cleanupSync();
       console.log('ok');`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
  });
});
