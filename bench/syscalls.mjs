#!/usr/bin/env node
// System calls per creation (issue 12): each operation run N times under `strace -f -c`, minus
// a run of the same script with N = 0, divided by N. Linux, strace needed.
//
//   node bench/syscalls.mjs [--n=2000] [--dir=/dev/shm]
//
// Prints, per operation, the system calls it makes per call (fractions from Node's own
// background work are rounded away).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => process.argv.slice(2).find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d;
const N = Number(arg('n', '2000'));
const base = arg('dir', fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());

const OPS = {
  'TemporaryFileSync + close': `t.TemporaryFileSync({ dir }).closeSync();`,
  'mkstempSync + close + unlink': `const r = t.mkstempSync({ dir }); fs.closeSync(r.fd); fs.unlinkSync(r.path);`,
  'NamedTemporaryFileSync + close (delete)': `t.NamedTemporaryFileSync({ dir }).closeSync();`,
  'raw fs open/close/unlink': `const p = dir + '/raw-' + i; fs.closeSync(fs.openSync(p, 'wx', 0o600)); fs.unlinkSync(p);`,
};

function count(body, n, dir) {
  const out = path.join(dir, 'strace.out');
  // One warm-up call before the counted ones, in both runs: lazy loading stays out of the difference.
  const code = `const t = require('./dist/index.js'), fs = require('fs'); const dir = ${JSON.stringify(dir)};
    for (let i = -1; i < ${n}; i++) { ${body} }`;
  const r = spawnSync('strace', ['-f', '-c', '-o', out, process.execPath, '-e', code], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const res = {};
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== 'total') res[m[2]] = Number(m[1]);
  }
  fs.rmSync(out);
  return res;
}

const dir = fs.mkdtempSync(path.join(base, 'securetemp-syscalls-'));
try {
  const rows = {};
  for (const [name, body] of Object.entries(OPS)) {
    const zero = count(body, 0, dir);
    const many = count(body, N, dir);
    const per = {};
    let total = 0;
    for (const k of Object.keys(many)) {
      const v = Math.round(((many[k] - (zero[k] ?? 0)) / N) * 100) / 100;
      if (v >= 0.5) {
        per[k] = v;
        total += v;
      }
    }
    rows[name] = { total: Math.round(total * 100) / 100, ...per };
  }
  console.log(`system calls per operation (strace -f -c, N=${N}, in ${base}):`);
  for (const [name, r] of Object.entries(rows)) {
    const { total, ...rest } = r;
    console.log(`  ${name}: ${total}  (${Object.entries(rest).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
