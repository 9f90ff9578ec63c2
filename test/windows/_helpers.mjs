// Shared by the Windows suite (test/windows/*.test.mjs), run with node:test by a Windows
// node.exe: under Wine by scripts/test-windows.mjs (npm run test:windows, from a staged copy
// of the package whose prebuilds/win32-x64/ holds the cross-built addon), on a real Windows
// runner by .github/workflows/prebuild.yml (against the prebuild made there). Plain ESM, no
// build step: it loads the package's compiled dist/ (CommonJS) and the addon node-gyp-build
// finds there.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

if (process.platform !== 'win32') throw new Error('the Windows suite runs under a Windows node.exe (npm run test:windows)');

/** The package, as require('securetemp') gives it. */
export const t = require(path.join(ROOT, 'dist/index.js'));
/** Test switches (not public): setNameGenerator forces names. */
export const internals = require(path.join(ROOT, 'dist/_internals.js'));
/** The addon itself. */
export const { native } = require(path.join(ROOT, 'dist/_binding.js'));
/** Where node-gyp-build finds the addon for this package. */
export const addonPath = require(path.join(ROOT, 'node_modules/node-gyp-build')).path(ROOT);
/** The name samples the Linux suite checks the TypeScript rules with. */
export const names = require('./names.cjs');

/** Set by scripts/test-windows.mjs: what Wine cannot do is reported as skipped, with why. */
export const UNDER_WINE = process.env.ST_UNDER_WINE === '1';
/** Fixtures planted from the Linux side (scripts/test-windows.mjs), as Windows paths. */
export const FIXTURES = process.env.ST_WIN_FIXTURES || null;

/** libuv's UV_FS_O_EXLOCK (not in fs.constants): open with share mode 0, i.e. exclusively. */
export const UV_FS_O_EXLOCK = 0x10000000;

/** A fresh scratch directory under %TEMP%, removed by the returned function. */
export function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-win-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }) };
}

export const ls = (dir) => fs.readdirSync(dir).sort();

/** The error fn throws (fails the test when it does not throw). */
export function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

export const rejected = (p) => p.then(() => { throw new Error('did not reject'); }, (e) => e);

/** Forces the random part of names: the i-th name asked for is pick(i). Undo with unforce(). */
export function forceNames(pick) {
  let i = 0;
  internals.setNameGenerator(() => pick(i++));
}
export const unforce = () => internals.setNameGenerator(null);

/**
 * Runs `code` (CommonJS, with `t` the package and `dir` given) in a child node.exe, the
 * way this process was started (its environment inherited). stdio is ignored: the child
 * reports through files. Returns its exit status (and signal).
 */
export function childSync(code, dir) {
  const r = spawnSync(process.execPath, ['-e', prelude(dir) + code], { stdio: 'ignore', timeout: 60_000, windowsHide: true });
  return { status: r.status, signal: r.signal, error: r.error };
}

/** As childSync, but started and handed back running (to kill it). */
export function childStart(code, dir) {
  return spawn(process.execPath, ['-e', prelude(dir) + code], { stdio: 'ignore', windowsHide: true });
}

const prelude = (dir) =>
  `const t = require(${JSON.stringify(path.join(ROOT, 'dist/index.js'))});` +
  `const fs = require('fs'); const path = require('path'); const dir = ${JSON.stringify(dir)};`;

/** Polls until cond() is true (or throws after ms). */
export async function until(cond, ms = 30_000, what = 'condition') {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits for a child's exit: { code, signal }. */
export const exited = (child) =>
  new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
