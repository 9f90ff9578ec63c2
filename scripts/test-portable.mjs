#!/usr/bin/env node
// Runs the whole vitest suite against the st_posix_portable build (the POSIX path
// of macOS and the BSDs, on Linux): npm run test:portable builds it first
// (scripts/build-portable.sh) and dist/ (build:ts). Extra arguments go to vitest.
//
// The build is loaded through SECURETEMP_ADDON (src/_binding.ts; internal, for
// tests), which child processes the tests start inherit. Before running anything
// this checks that what loads really is the portable build: a define that does
// not reach the compiler would otherwise run the Linux suite twice and prove nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addon = path.join(root, 'build-portable/build/Release/securetemp.node');
const die = (m) => {
  console.error(`test-portable: ${m}`);
  process.exit(1);
};
if (!fs.existsSync(addon)) die(`${path.relative(root, addon)} missing: run npm run build:portable`);

const env = { ...process.env, SECURETEMP_ADDON: addon };
const probe = spawnSync(
  process.execPath,
  ['-e', `const { internals } = require('./dist/_internals.js');
          console.log(JSON.stringify({ portable: internals.portableBuild, noTmpfile: internals.tmpfileKnownUnsupported() }));`],
  { cwd: root, env, encoding: 'utf8' },
);
if (probe.status !== 0) die(`loading the portable build failed:\n${probe.stderr}`);
const got = JSON.parse(probe.stdout);
if (got.portable !== true || got.noTmpfile !== true) die(`the loaded addon is not the portable build: ${probe.stdout.trim()}`);
// The Linux extras must be absent from the binary itself, not only reported absent.
const nm = spawnSync('nm', ['-D', '--undefined-only', addon], { encoding: 'utf8' });
if (nm.status === 0 && /\b(getrandom|syscall)\b/.test(nm.stdout)) die('the portable build still imports getrandom or syscall (renameat2)');
console.error(`test-portable: ${path.relative(root, addon)} (PORTABLE, no O_TMPFILE)`);

const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
