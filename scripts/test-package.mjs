#!/usr/bin/env node
// Tests the package as users get it: packs it with `npm pack` (the prepack
// script builds dist/ and the prebuild), checks the tarball's contents,
// installs the tarball into an empty project with no compiler on PATH, and
// checks that it loads from its prebuild with require() and import, works,
// and type-checks for TypeScript consumers (TypeScript 5.9 and the current
// release, fetched from the registry); then runs @arethetypeswrong/cli and
// publint on the tarball, failing on any problem they report.
//
//   npm run test:package            (VERBOSE=1 streams the output of every command)
//
// Plain Node ESM, no dependencies. Temporary folders are removed at the end,
// also on failure or Ctrl-C. prebuilds/ in the repository is left in place
// (it is gitignored).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const verbose = /^(1|true|yes)$/i.test(process.env.VERBOSE ?? '') || process.argv.includes('--verbose');
const tuple = `${process.platform}-${process.arch}`;

// Tools that could build the addon from source; none may be reachable while
// the tarball is installed and loaded.
const BUILD_TOOLS = [
  'cc', 'gcc', 'c++', 'g++', 'clang', 'clang++', 'cpp',
  'make', 'gmake', 'ninja', 'cmake', 'python', 'python3', 'python2',
  `${os.arch() === 'x64' ? 'x86_64' : os.arch()}-linux-gnu-gcc`,
  `${os.arch() === 'x64' ? 'x86_64' : os.arch()}-linux-gnu-g++`,
];

// The oldest @types/node the peer range (package.json peerDependencies) allows; the consumer
// type-check runs against it and against the newest release.
const TYPES_NODE_MIN = '20.19.0';

// The package checkers (step 7), pinned: a new release is adopted here on purpose.
const ATTW_VERSION = '0.18.5';
const PUBLINT_VERSION = '0.3.25';

// Must ship / must not ship (paths inside the package).
const REQUIRED = ['package.json', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts'];
const FORBIDDEN = [
  ['build*/', /^build[^/]*\//],
  ['node_modules/', /^node_modules\//],
  ['test/', /^test\//],
  ['src/', /^src\//],
  ['.ci/', /^\.ci\//],
  ['scripts/', /^scripts\//],
  ['bench/', /^bench\//],
  ['.git/', /^\.git\//],
  ['.vitest-*/', /^\.vitest-/],
];

// ---------------------------------------------------------------- output

const t0 = Date.now();
let stepNo = 0;
let stepStart = t0;
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

function step(title) {
  if (stepNo > 0) console.log(`    (${secs(Date.now() - stepStart)})`);
  stepNo += 1;
  stepStart = Date.now();
  console.log(`\n[${stepNo}] ${title}`);
}
const ok = (msg) => console.log(`    ok    ${msg}`);
const info = (msg) => console.log(`          ${msg}`);

class CheckFailed extends Error {
  constructor(message, details) {
    super(message);
    this.details = details;
  }
}
function fail(message, details) {
  throw new CheckFailed(message, details);
}
function check(cond, message, details) {
  if (!cond) fail(message, details);
  ok(message);
}

// ---------------------------------------------------------------- processes

const children = new Set();

function killTree(child) {
  try {
    if (process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs a command; resolves with its combined output, rejects (with the output) on failure. */
function run(cmd, args, { cwd, env = process.env, timeoutMs = 10 * 60_000, label, allowFail = false } = {}) {
  const shown = label ?? [path.basename(cmd), ...args].join(' ');
  return new Promise((resolve, reject) => {
    let out = '';
    let timedOut = false;
    // its own process group, so that a timeout or Ctrl-C stops the whole tree (npm -> node-gyp -> make ...)
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    children.add(child);
    const onData = (chunk) => {
      const s = chunk.toString();
      out += s;
      if (verbose) process.stdout.write(s.replace(/^/gm, '      | '));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new CheckFailed(`could not start \`${shown}\` (cwd ${cwd ?? process.cwd()}): ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if ((code === 0 && !timedOut) || allowFail) return resolve({ code, out });
      const why = timedOut ? `timed out after ${secs(timeoutMs)}` : signal ? `killed by ${signal}` : `exit code ${code}`;
      reject(new CheckFailed(`\`${shown}\` failed (${why}, cwd ${cwd ?? process.cwd()})`, out));
    });
  });
}

// ---------------------------------------------------------------- helpers

/** Every entry of a .tgz: [{ path, type, size, mode, data }], paths as stored (npm prefixes them with package/). */
function listTarball(file) {
  const buf = gunzipSync(fs.readFileSync(file));
  const entries = [];
  let longName = null;
  let pax = {};
  for (let off = 0; off + 512 <= buf.length; ) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const str = (start, len) => {
      const s = header.subarray(start, start + len);
      const end = s.indexOf(0);
      return s.subarray(0, end === -1 ? len : end).toString('utf8');
    };
    const num = (start, len) => parseInt(str(start, len).trim() || '0', 8);
    const size = num(124, 12);
    const type = String.fromCharCode(header[156] || 48);
    const body = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      // pax extended header: "<len> key=value\n" records for the next entry
      for (const rec of body.toString('utf8').split('\n')) {
        const m = /^\d+ ([^=]+)=(.*)$/s.exec(rec);
        if (m) pax[m[1]] = m[2];
      }
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    let name = str(0, 100);
    if (str(257, 5) === 'ustar' && str(345, 155)) name = `${str(345, 155)}/${name}`;
    if (longName) name = longName;
    if (pax.path) name = pax.path;
    entries.push({ path: name, type, size: pax.size ? Number(pax.size) : size, mode: num(100, 8), data: body });
    longName = null;
    pax = {};
  }
  return entries;
}

/** Where `name` resolves in the given PATH directories (like `which -a`). */
function whichAll(name, dirs) {
  const found = [];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) found.push(p);
    } catch {
      // not there
    }
  }
  return found;
}

/** The real npm-cli.js / npx-cli.js of the npm in use. */
function findNpmCli(name) {
  const candidates = [];
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv)) candidates.push(path.join(path.dirname(fromEnv), `${name}-cli.js`));
  for (const p of whichAll(name, (process.env.PATH ?? '').split(path.delimiter))) {
    const real = fs.realpathSync(p);
    candidates.push(/-cli\.js$/.test(real) ? real : path.join(path.dirname(real), `${name}-cli.js`));
    // a `bin/npm` shell shim next to lib/node_modules/npm
    candidates.push(path.join(path.dirname(real), '..', 'lib', 'node_modules', 'npm', 'bin', `${name}-cli.js`));
  }
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

/**
 * A copy of the environment without what `npm run` injects for this repo; with `sandbox`, also
 * without compiler settings and the variables that steer node-gyp-build, so nothing points at a
 * compiler or at another build of the addon.
 */
function cleanEnv(extra, { sandbox = false } = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_(package_|lifecycle_|command$|execpath$|node_execpath$|config_local_prefix$)|INIT_CWD$)/i.test(k)) continue;
    if (sandbox && /^(CC|CXX|CPP|LINK|AR|MAKE|MAKEFLAGS|PYTHON|NODE_GYP_FORCE_PYTHON|npm_config_python|npm_config_make|npm_config_build_from_source|PREBUILDS_ONLY|SECURETEMP|SECURETEMP_PREBUILD|NODE_OPTIONS|NODE_PATH)$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 });
}

// ---------------------------------------------------------------- the test

let tmpRoot = null;

function cleanup() {
  for (const child of children) killTree(child);
  if (tmpRoot) {
    try {
      rmrf(tmpRoot);
    } catch (err) {
      console.error(`warning: could not remove ${tmpRoot}: ${err.message}`);
    }
    tmpRoot = null;
  }
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\ntest:package: interrupted (${sig}), cleaning up`);
    cleanup();
    process.exit(128 + (os.constants.signals[sig] ?? 1));
  });
}

async function main() {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const hasReadme = fs.existsSync(path.join(repo, 'README.md'));

  // ------------------------------------------------------------ 1
  step('Preconditions');
  info(`node ${process.version} (${process.execPath}), ${tuple}, repo ${repo}`);
  if (pkg.name !== 'securetemp') fail(`package.json name is ${JSON.stringify(pkg.name)}, expected "securetemp"`);
  const npmCli = findNpmCli('npm');
  const npxCli = findNpmCli('npx');
  if (!npmCli) fail('cannot find npm (npm-cli.js) from PATH or npm_execpath');
  ok(`npm: ${npmCli}`);
  const sh = whichAll('sh', ['/bin', '/usr/bin'])[0];
  const envBin = whichAll('env', ['/usr/bin', '/bin'])[0];
  if (!sh) fail('no /bin/sh');
  tmpRoot = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'securetemp-pkgtest-'));
  ok(`temp folder: ${tmpRoot}`);

  // ------------------------------------------------------------ 2
  step('npm pack (prepack builds dist/ and the prebuild)');
  const packDir = path.join(tmpRoot, 'pack');
  fs.mkdirSync(packDir);
  const packEnv = cleanEnv({});
  const pack = await run(process.execPath, [npmCli, 'pack', '--pack-destination', packDir, '--foreground-scripts'], {
    cwd: repo,
    env: packEnv,
    label: `npm pack --pack-destination ${packDir}`,
  });
  const tarballs = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) fail(`expected one .tgz in ${packDir}, found ${JSON.stringify(tarballs)}`, pack.out);
  const tarball = path.join(packDir, tarballs[0]);
  ok(`${tarballs[0]} (${(fs.statSync(tarball).size / 1024).toFixed(1)} KiB)`);
  const localPrebuilds = path.join(repo, 'prebuilds', tuple);
  const localNode = fs.existsSync(localPrebuilds) ? fs.readdirSync(localPrebuilds).filter((f) => f.endsWith('.node')) : [];
  check(localNode.length > 0, `prebuildify produced prebuilds/${tuple}/${localNode.join(', ') || '*.node'}`, pack.out);

  // ------------------------------------------------------------ 3
  step('Tarball contents');
  const entries = listTarball(tarball);
  const outside = entries.filter((e) => !e.path.startsWith('package/'));
  if (outside.length) fail(`tarball entries outside package/: ${outside.map((e) => e.path).join(', ')}`);
  const files = entries.filter((e) => e.type === '0').map((e) => e.path.slice('package/'.length));
  const fileSet = new Set(files);
  info(`${files.length} files: ${[...new Set(files.map((f) => (f.includes('/') ? f.slice(0, f.indexOf('/') + 1) : f)))].join(' ')}`);
  if (verbose) for (const f of files) info(`  ${f}`);
  for (const f of REQUIRED) check(fileSet.has(f), `contains ${f}`, files.join('\n'));
  if (hasReadme) check(fileSet.has('README.md'), 'contains README.md', files.join('\n'));
  else info('README.md does not exist in the repo yet: not checked');
  const shippedNode = files.filter((f) => f.startsWith(`prebuilds/${tuple}/`) && f.endsWith('.node'));
  check(shippedNode.length > 0, `contains the prebuild ${shippedNode.join(', ') || `prebuilds/${tuple}/*.node`}`, files.join('\n'));
  for (const f of shippedNode) {
    const e = entries.find((x) => x.path === `package/${f}`);
    check(e.size > 10_000, `${f}: ${e.size} bytes`);
  }
  for (const [what, re] of FORBIDDEN) {
    const bad = files.filter((f) => re.test(f));
    check(bad.length === 0, `does not contain ${what}`, bad.join('\n'));
  }
  const badExt = files.filter((f) => /\.(tgz|ts\.map|js\.map|tsbuildinfo|o|obj|log)$/.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) || (/\.mts$/.test(f) && !/\.d\.mts$/.test(f)));
  check(badExt.length === 0, 'no TypeScript sources, maps, objects, logs or tarballs', badExt.join('\n'));

  // every path package.json points at is shipped
  const targets = [];
  const walk = (v) => {
    if (typeof v === 'string') targets.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  for (const k of ['main', 'types', 'typings', 'module']) if (pkg[k]) targets.push(pkg[k]);
  for (const t of [...new Set(targets)]) {
    const rel = path.posix.normalize(t).replace(/^\.\//, '');
    check(fileSet.has(rel), `package.json target ${t} is shipped`);
  }

  // no stale dist/ output: each compiled file has its source in src/
  const stale = files
    .filter((f) => f.startsWith('dist/'))
    .filter((f) => {
      const m = /^dist\/(.+?)(\.d\.mts|\.d\.ts|\.mjs|\.js)$/.exec(f);
      if (!m) return true;
      const src = path.join(repo, 'src', m[1] + (m[2] === '.mjs' || m[2] === '.d.mts' ? '.mts' : '.ts'));
      return !fs.existsSync(src);
    });
  check(stale.length === 0, 'every dist/ file has a source in src/ (no stale build output)', stale.join('\n'));

  // the shipped package.json
  const shippedPkg = JSON.parse(entries.find((e) => e.path === 'package/package.json').data.toString('utf8'));
  check(shippedPkg.name === pkg.name && shippedPkg.version === pkg.version, `shipped package.json is ${shippedPkg.name}@${shippedPkg.version}`);
  check(shippedPkg.scripts?.install === 'node-gyp-build', 'install script is `node-gyp-build` (falls back to compiling when no prebuild loads)');

  // ------------------------------------------------------------ 4
  step('Install the tarball into an empty project, with no compiler on PATH');
  const binDir = path.join(tmpRoot, 'bin');
  fs.mkdirSync(binDir);
  fs.symlinkSync(process.execPath, path.join(binDir, 'node'));
  fs.symlinkSync(npmCli, path.join(binDir, 'npm'));
  if (npxCli) fs.symlinkSync(npxCli, path.join(binDir, 'npx'));
  fs.symlinkSync(sh, path.join(binDir, 'sh'));
  if (envBin) fs.symlinkSync(envBin, path.join(binDir, 'env'));
  info(`PATH=${binDir} (${fs.readdirSync(binDir).sort().join(', ')})`);
  const found = BUILD_TOOLS.flatMap((t) => whichAll(t, [binDir]));
  check(found.length === 0, `none of ${BUILD_TOOLS.slice(0, 12).join(', ')}… is reachable in that PATH`, found.join('\n'));
  const sandboxEnv = cleanEnv({ PATH: binDir }, { sandbox: true });

  const consumer = path.join(tmpRoot, 'consumer');
  fs.mkdirSync(consumer);
  fs.writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify(
      {
        name: 'securetemp-package-test',
        version: '0.0.0',
        private: true,
        type: 'module',
        // `npm run` builds PATH as for install scripts: node_modules/.bin up the tree, npm's node-gyp-bin, PATH
        scripts: { 'probe-path': 'node probe-path.cjs' },
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(
    path.join(consumer, 'probe-path.cjs'),
    `// Records the PATH npm gives install scripts and any build tool reachable in it.
const fs = require('fs'), path = require('path');
const tools = ${JSON.stringify(BUILD_TOOLS)};
const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
const found = [];
for (const t of tools) for (const d of dirs) {
  const p = path.join(d, t);
  try { fs.accessSync(p, fs.constants.X_OK); if (fs.statSync(p).isFile()) found.push(p); } catch {}
}
fs.writeFileSync(path.join(__dirname, 'probe-path.json'), JSON.stringify({ PATH: process.env.PATH, found }));
`,
  );
  const install = await run(
    path.join(binDir, 'npm'),
    ['install', '--no-audit', '--no-fund', '--foreground-scripts', '--ignore-scripts=false', '--loglevel=notice', tarball],
    { cwd: consumer, env: sandboxEnv, label: `npm install ${path.basename(tarball)} (PATH=${binDir})` },
  );
  ok('npm install succeeded');
  for (const line of install.out.split('\n')) if (/^> /.test(line)) info(line);
  await run(path.join(binDir, 'npm'), ['run', '--silent', 'probe-path'], { cwd: consumer, env: sandboxEnv, label: 'npm run probe-path' });
  const probe = JSON.parse(fs.readFileSync(path.join(consumer, 'probe-path.json'), 'utf8'));
  check(probe.found.length === 0, 'no build tool reachable in the PATH npm gives scripts either', `${probe.found.join('\n')}\nPATH=${probe.PATH}`);
  if (verbose) info(`npm script PATH=${probe.PATH}`);
  const installed = path.join(consumer, 'node_modules', 'securetemp');
  const installedPkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
  check(installedPkg.version === pkg.version, `node_modules/securetemp is version ${installedPkg.version}`);
  check(!fs.existsSync(path.join(installed, 'build')), 'node_modules/securetemp/build does not exist (nothing was compiled)');
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    check(fs.existsSync(path.join(consumer, 'node_modules', dep, 'package.json')), `dependency ${dep} installed`);
  }

  // The install script, once more, by hand: node-gyp-build exits 0 only when a
  // build it can load exists (here: the prebuild) or it compiled one (impossible here).
  await run(sh, ['-c', installedPkg.scripts.install], {
    cwd: installed,
    env: cleanEnv({ PATH: [path.join(consumer, 'node_modules', '.bin'), binDir].join(path.delimiter) }, { sandbox: true }),
    label: `sh -c "${installedPkg.scripts.install}" in node_modules/securetemp`,
  });
  check(!fs.existsSync(path.join(installed, 'build')), `install script \`${installedPkg.scripts.install}\` accepts the prebuild without compiling`);

  // ------------------------------------------------------------ 5
  step('Load and use it: require(), import, same object, addon from prebuilds/');
  const prebuildDir = fs.realpathSync(path.join(installed, 'prebuilds', tuple));
  const addonFromMaps = `
function loadedAddons() {
  // the .node files mapped into this process (Linux); null elsewhere
  try {
    return [...new Set(require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')
      .map((l) => l.slice(l.indexOf('/')).trim()).filter((p) => p.endsWith('.node')))];
  } catch { return null; }
}
`;
  const commonChecks = `
const assert = require('assert');
const path = require('path');
const fs = require('fs');
const prebuildDir = ${JSON.stringify(prebuildDir)};
function roundTrip(TemporaryFileSync, label) {
  const f = TemporaryFileSync();
  assert.strictEqual(f.writeSync(Buffer.from('x')), 1, label + ': writeSync returns 1');
  assert.strictEqual(f.seekSync(0), 0, label + ': seekSync(0) returns 0');
  const data = f.readSync();
  assert.ok(Buffer.isBuffer(data), label + ': readSync returns a Buffer');
  assert.strictEqual(data.toString(), 'x', label + ': read back what was written');
  f.closeSync();
  assert.strictEqual(f.closed, true, label + ': closed after closeSync');
  console.log('ok    ' + label + ': TemporaryFileSync write/seek/read/close round trip');
}
function mkstempCheck(mkstempSync, label) {
  const { fd, path: p } = mkstempSync({ prefix: 'pkgtest-' });
  try {
    assert.ok(path.isAbsolute(p) && path.basename(p).startsWith('pkgtest-'), label + ': mkstempSync path ' + p);
    assert.strictEqual(fs.fstatSync(fd).mode & 0o777, 0o600 & ~process.umask(), label + ': mode 0600 & ~umask');
  } finally { fs.closeSync(fd); fs.unlinkSync(p); }
  console.log('ok    ' + label + ': mkstempSync creates a 0600 file');
}
function addonCheck(label) {
  const maps = loadedAddons();
  if (maps === null) { console.log('      ' + label + ': /proc/self/maps not available, addon path not checked'); return; }
  const ours = maps.filter((p) => /securetemp/.test(p));
  assert.ok(ours.length === 1, label + ': exactly one securetemp addon mapped, got ' + JSON.stringify(maps));
  assert.ok(ours[0].startsWith(prebuildDir + path.sep), label + ': addon mapped from ' + ours[0] + ', expected under ' + prebuildDir);
  console.log('ok    ' + label + ': addon loaded from ' + ours[0]);
}
`;
  fs.writeFileSync(
    path.join(consumer, 'check.cjs'),
    `'use strict';
${commonChecks}
${addonFromMaps}
const tempfile = require('securetemp');
assert.ok(tempfile && typeof tempfile === 'object', 'require() returns an object');
for (const k of ['gettempdir', 'gettempprefix', 'mktemp', 'mkstemp', 'mkstempSync', 'mkdtemp', 'mkdtempSync', 'TemporaryFile', 'TemporaryFileSync', 'TempFile'])
  assert.strictEqual(typeof tempfile[k], 'function', 'require: ' + k + ' is a function');
assert.strictEqual(typeof tempfile.TMP_MAX, 'number', 'require: TMP_MAX is a number');
console.log('ok    require: securetemp resolves to ' + path.relative(__dirname, require.resolve('securetemp')));
assert.ok(require.resolve('securetemp').endsWith(path.join('dist', 'index.js')), 'require resolves dist/index.js');
roundTrip(tempfile.TemporaryFileSync, 'require');
mkstempCheck(tempfile.mkstempSync, 'require');
addonCheck('require');
const ngb = require(require.resolve('node-gyp-build', { paths: [path.dirname(require.resolve('securetemp/package.json'))] }));
const resolved = ngb.path(path.dirname(require.resolve('securetemp/package.json')));
assert.ok(fs.realpathSync(resolved).startsWith(prebuildDir + path.sep), 'node-gyp-build picks ' + resolved);
console.log('ok    require: node-gyp-build resolves ' + path.relative(__dirname, resolved));
assert.strictEqual(require('securetemp/package.json').name, 'securetemp', 'securetemp/package.json is exported');
assert.throws(() => require('securetemp/dist/_binding.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
console.log('ok    require: internals are not exported (ERR_PACKAGE_PATH_NOT_EXPORTED)');
const tmpObj = require('securetemp/tmp').fileSync({ prefix: 'pkgtest-' });
assert.ok(fs.existsSync(tmpObj.name), 'securetemp/tmp fileSync creates ' + tmpObj.name);
tmpObj.removeCallback();
assert.strictEqual(typeof require('securetemp/tmp-promise').withFile, 'function', 'securetemp/tmp-promise has withFile');
assert.strictEqual(typeof require('securetemp/write-file-atomic').sync, 'function', 'securetemp/write-file-atomic is a function with .sync');
console.log('ok    require: securetemp/tmp, securetemp/tmp-promise, securetemp/write-file-atomic load and work');
const written = require('securetemp/tempy').temporaryWriteSync('tempy');
assert.strictEqual(fs.readFileSync(written, 'utf8'), 'tempy', 'securetemp/tempy temporaryWriteSync writes ' + written);
fs.rmSync(written);
const opened = require('securetemp/temp').openSync('pkgtest-');
fs.closeSync(opened.fd);
assert.ok(fs.existsSync(opened.path), 'securetemp/temp openSync creates ' + opened.path);
fs.rmSync(opened.path);
console.log('ok    require: securetemp/tempy, securetemp/temp load and work');
`,
  );
  fs.writeFileSync(
    path.join(consumer, 'check.mjs'),
    `import tempfile, { mkstempSync, TemporaryFileSync } from 'securetemp';
import * as ns from 'securetemp';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
const require = createRequire(import.meta.url);
${commonChecks}
${addonFromMaps}
const resolvedUrl = import.meta.resolve('securetemp');
assert.ok(fileURLToPath(resolvedUrl).endsWith(path.join('dist', 'index.mjs')), 'import resolves dist/index.mjs, got ' + resolvedUrl);
console.log('ok    import: securetemp resolves to ' + path.relative(path.dirname(fileURLToPath(import.meta.url)), fileURLToPath(resolvedUrl)));
const required = require('securetemp');
assert.strictEqual(tempfile, required, 'the default import is the object require() returns');
console.log('ok    import: default export === require("securetemp")');
assert.strictEqual(mkstempSync, required.mkstempSync, 'named mkstempSync is the CommonJS one');
assert.strictEqual(TemporaryFileSync, required.TemporaryFileSync, 'named TemporaryFileSync is the CommonJS one');
for (const k of Object.keys(ns)) if (k !== 'default') assert.strictEqual(ns[k], required[k], 'named export ' + k + ' is the CommonJS one');
const missing = Object.keys(required).filter((k) => !(k in ns) && !['tempdir', 'template'].includes(k));
assert.deepStrictEqual(missing, [], 'every function of the CommonJS object is a named export');
console.log('ok    import: named exports (' + Object.keys(ns).filter((k) => k !== 'default').length + ') are the CommonJS functions');
const before = required.tempdir;
tempfile.tempdir = '/nonexistent-shared-state-check';
assert.strictEqual(required.tempdir, '/nonexistent-shared-state-check', 'settings are shared');
tempfile.tempdir = before;
console.log('ok    import: settings shared with require()');
roundTrip(TemporaryFileSync, 'import');
mkstempCheck(mkstempSync, 'import');
addonCheck('import');
const compat = await Promise.all(['tmp', 'tmp-promise', 'write-file-atomic'].map((sub) => import('securetemp/' + sub)));
assert.strictEqual(compat[0].fileSync, require('securetemp/tmp').fileSync, 'securetemp/tmp: named fileSync is the CommonJS one');
assert.ok(await compat[1].withFile(async ({ path: p }) => fs.existsSync(p)), 'securetemp/tmp-promise: withFile gives an existing file');
assert.strictEqual(compat[2].default, require('securetemp/write-file-atomic'), 'securetemp/write-file-atomic: the default export is the function');
assert.strictEqual(compat[2].sync, compat[2].default.sync, 'securetemp/write-file-atomic: sync is a named export');
console.log('ok    import: securetemp/tmp, securetemp/tmp-promise, securetemp/write-file-atomic load and work');
const [tempyEsm, tempEsm] = await Promise.all(['tempy', 'temp'].map((sub) => import('securetemp/' + sub)));
assert.strictEqual(tempyEsm.temporaryFile, require('securetemp/tempy').temporaryFile, 'securetemp/tempy: named temporaryFile is the CommonJS one');
assert.strictEqual(tempEsm.default, require('securetemp/temp'), 'securetemp/temp: the default export is the CommonJS object');
assert.ok(await tempyEsm.temporaryDirectoryTask(async (d) => fs.statSync(d).isDirectory()), 'securetemp/tempy: temporaryDirectoryTask gives a directory');
console.log('ok    import: securetemp/tempy, securetemp/temp load and work');
`,
  );
  for (const script of ['check.cjs', 'check.mjs']) {
    const r = await run(path.join(binDir, 'node'), [script], { cwd: consumer, env: sandboxEnv, label: `node ${script}` });
    for (const line of r.out.trim().split('\n')) console.log(`    ${line}`);
  }
  check(!fs.existsSync(path.join(installed, 'build')), 'still no node_modules/securetemp/build');
  // the `securetemp` command (package.json "bin"), as `npx securetemp` finds it
  const bin = path.join(consumer, 'node_modules', '.bin', 'securetemp');
  const help = await run(bin, ['--help'], { cwd: consumer, env: sandboxEnv, label: 'node_modules/.bin/securetemp --help' });
  const made = (await run(bin, ['-d', '-p', tmpRoot], { cwd: consumer, env: sandboxEnv, label: 'securetemp -d' })).out.trim();
  check(help.out.startsWith('Usage: securetemp ') && (fs.statSync(made).mode & 0o777) === (0o700 & ~process.umask()), `node_modules/.bin/securetemp --help works; securetemp -d made a 0700 directory ${made}`);

  // ------------------------------------------------------------ 6
  step('Type-check TypeScript consumers against the shipped .d.ts/.d.mts');
  fs.writeFileSync(
    path.join(consumer, 'consumer.ts'),
    `// ES module consumer (package "type": "module"): resolved through the "import" condition, dist/index.d.mts
import tempfile, { mkstempSync, TemporaryFileSync, TemporaryFile, mkdtemp, type TempFile, type MkstempResult, type TemporaryFileOptions } from 'securetemp';

const r: MkstempResult = mkstempSync({ prefix: 'p-', suffix: '.txt' });
const fd: number = r.fd;
const p: string = r.path;
const f: TempFile = TemporaryFileSync();
const n: number = f.writeSync(Buffer.from('x'));
const pos: number = f.seekSync(0);
const data: Buffer | string = f.readSync();
f.closeSync();
const opts: TemporaryFileOptions = { mode: 'w+', encoding: 'utf8' };
export async function later(): Promise<string> {
  const g: TempFile = await TemporaryFile(opts);
  const written: number = await g.write('text');
  await g.close();
  return written > 0 ? mkdtemp() : '';
}
const dir: string | null = tempfile.tempdir;
tempfile.tempdir = null;
const same: boolean = tempfile.mkstempSync === mkstempSync;
const T: typeof tempfile.TempFile = tempfile.TempFile;
// @ts-expect-error prefix must be a string
mkstempSync({ prefix: 1 });
// @ts-expect-error no such function
tempfile.notAFunction();
export { fd, p, n, pos, data, dir, same, T };
`,
  );
  fs.writeFileSync(
    path.join(consumer, 'consumer.cts'),
    `// CommonJS consumer: resolved through the "require" condition, dist/index.d.ts (export =)
import tempfile = require('securetemp');

const f: tempfile.TempFile = tempfile.TemporaryFileSync('w+b', 0);
f.writeSync(Buffer.from('x'));
f.closeSync();
const r: tempfile.MkstempResult = tempfile.mkstempSync();
const o: tempfile.MkdtempOptions = { permissions: 0o700 };
const d: string = tempfile.mkdtempSync(o);
const s: string = tempfile.gettempdir();
const t: tempfile.TempFile | undefined = f instanceof tempfile.TempFile ? f : undefined;
// @ts-expect-error TempFile is not constructible without its init object
new tempfile.TempFile();
export = { r, d, s, t };
`,
  );
  fs.writeFileSync(
    path.join(consumer, 'compat.ts'),
    `// The compat entry points alone (each .d.ts must bring what it uses, not rely on index.d.ts)
import tmp from 'securetemp/tmp';
import { withFile } from 'securetemp/tmp-promise';
import writeFileAtomic, { sync } from 'securetemp/write-file-atomic';

const o = tmp.fileSync({ prefix: 'p-' });
const name: string = o.name;
o.removeCallback();
export const later = (): Promise<number> => withFile(async ({ path: p, fd }) => (p.length > 0 ? fd : -1));
writeFileAtomic('x', 'data', (err?: Error | null) => void err);
sync('x', new Uint8Array(1), { mode: 0o600 });
export { name };
`,
  );
  // TypeScript and @types/node as a consumer gets them, from the registry, into the consumer's
  // own node_modules (not the repository's): TypeScript 5.9 and the current release side by
  // side (npm aliases), @types/node at the newest release and at the oldest the peer range allows.
  const peer = pkg.peerDependencies?.['@types/node'];
  check(typeof peer === 'string' && pkg.peerDependenciesMeta?.['@types/node']?.optional === true, `@types/node is an optional peer dependency (${peer})`);
  const typesMin = TYPES_NODE_MIN;
  check(new RegExp(`^>=\\s*${typesMin.replace(/\./g, '\\.')}$`).test(peer), `the peer range ${peer} starts at the oldest @types/node tested here, ${typesMin}`);
  const typesMinDir = path.join(tmpRoot, 'types-min');
  fs.mkdirSync(typesMinDir);
  fs.writeFileSync(path.join(typesMinDir, 'package.json'), JSON.stringify({ name: 'types-min', version: '0.0.0', private: true }));
  await Promise.all([
    run(path.join(binDir, 'npm'), ['install', '--no-audit', '--no-fund', '--no-save', 'ts-old@npm:typescript@5.9', 'ts-current@npm:typescript@latest', '@types/node@latest'], {
      cwd: consumer,
      env: sandboxEnv,
      label: 'npm install typescript@5.9 typescript@latest @types/node@latest',
    }),
    run(path.join(binDir, 'npm'), ['install', '--no-audit', '--no-fund', '--no-save', `@types/node@${typesMin}`], {
      cwd: typesMinDir,
      env: sandboxEnv,
      label: `npm install @types/node@${typesMin}`,
    }),
  ]);
  const version = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  const compilers = ['ts-old', 'ts-current'].map((alias) => {
    const dir = path.join(consumer, 'node_modules', alias);
    return { tsc: path.join(dir, 'bin', 'tsc'), version: version(dir) };
  });
  const typesNode = [
    { dir: path.join(consumer, 'node_modules', '@types'), version: version(path.join(consumer, 'node_modules', '@types', 'node')) },
    { dir: path.join(typesMinDir, 'node_modules', '@types'), version: version(path.join(typesMinDir, 'node_modules', '@types', 'node')) },
  ];
  info(`typescript ${compilers.map((c) => c.version).join(' and ')}; @types/node ${typesNode.map((t) => t.version).join(' and ')}`);
  check(/^5\.9\./.test(compilers[0].version) && Number(compilers[1].version.split('.')[0]) >= 5, 'TypeScript 5.9 and the current release installed');
  // Every consumer: "types": [] (nothing global unless a file references it; TypeScript 7 no
  // longer includes every @types package by default), skipLibCheck off (securetemp's .d.ts are
  // checked), strict. @types/node is found through typeRoots (one of the two versions).
  const resolutions = [
    { name: 'node16', options: { module: 'node16', moduleResolution: 'node16' }, files: ['consumer.ts', 'consumer.cts', 'compat.ts'] },
    { name: 'nodenext', options: { module: 'nodenext', moduleResolution: 'nodenext' }, files: ['consumer.ts', 'consumer.cts', 'compat.ts'] },
    { name: 'bundler', options: { module: 'esnext', moduleResolution: 'bundler' }, files: ['consumer.ts', 'compat.ts'] },
  ];
  const tscRuns = [];
  for (const compiler of compilers)
    for (const [ti, types] of typesNode.entries())
      // the oldest @types/node under node16 only: what differs between @types/node releases
      // does not depend on the resolution mode, and each run of 5.9 costs seconds
      for (const res of ti === 0 ? resolutions : resolutions.slice(0, 1))
        // the entry points one program each: a .d.ts that leans on another's reference fails alone
        for (const files of [res.files.filter((f) => f !== 'compat.ts'), ['compat.ts']]) {
          const config = `tsconfig.${compiler.version}.${ti}.${res.name}.${files[0].replace(/\W/g, '_')}.json`;
          fs.writeFileSync(
            path.join(consumer, config),
            JSON.stringify({
              compilerOptions: { ...res.options, target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: [], typeRoots: [types.dir] },
              files,
            }),
          );
          tscRuns.push({ what: `typescript ${compiler.version}, @types/node ${types.version}, ${res.name}: ${files.join(' + ')}`, tsc: compiler.tsc, config });
        }
  const typeErrors = [];
  // two at a time (two cores): with skipLibCheck off, each 5.9 run checks all of @types/node
  const results = [];
  for (let i = 0; i < tscRuns.length; i += 2) {
    results.push(
      ...(await Promise.all(
        tscRuns.slice(i, i + 2).map(({ tsc, config }) => run(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: consumer, env: sandboxEnv, label: `tsc -p ${config}`, allowFail: true })),
      )),
    );
  }
  for (const [i, { what }] of tscRuns.entries()) {
    const r = results[i];
    if (r.code === 0) ok(`tsc, types [], skipLibCheck off: ${what}`);
    else {
      console.log(`    FAIL  tsc, types [], skipLibCheck off: ${what}:`);
      for (const line of r.out.trim().split('\n')) console.log(`          ${line.replaceAll(consumer + path.sep, '')}`);
      typeErrors.push(what);
    }
  }
  if (typeErrors.length) fail(`type errors for TypeScript consumers (${typeErrors.length} configuration(s), see above)`);

  // ------------------------------------------------------------ 7
  // The checkers the ecosystem runs on a package, on this very tarball (what `attw --pack` and
  // `publint` would pack). Fetched from the registry into the temporary folder at pinned
  // versions, like the compilers above: not devDependencies, so that `npm ci` for working on the
  // code does not carry them (attw brings its own TypeScript) and a new release of a checker
  // cannot turn CI red before it is adopted here on purpose.
  step(`Package checkers: @arethetypeswrong/cli ${ATTW_VERSION}, publint ${PUBLINT_VERSION}`);
  const checkers = path.join(tmpRoot, 'checkers');
  fs.mkdirSync(checkers);
  fs.writeFileSync(path.join(checkers, 'package.json'), JSON.stringify({ name: 'checkers', version: '0.0.0', private: true }));
  await run(path.join(binDir, 'npm'), ['install', '--no-audit', '--no-fund', '--no-save', `@arethetypeswrong/cli@${ATTW_VERSION}`, `publint@${PUBLINT_VERSION}`], {
    cwd: checkers,
    env: sandboxEnv,
    label: `npm install @arethetypeswrong/cli@${ATTW_VERSION} publint@${PUBLINT_VERSION}`,
  });
  // attw: every profile (node10, node16 from CJS and from ESM, bundler), no problem of any kind
  const attwBin = path.join(checkers, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
  const attw = await run(process.execPath, [attwBin, tarball, '--format', 'json'], { cwd: checkers, env: sandboxEnv, label: `attw ${path.basename(tarball)}`, allowFail: true });
  let report;
  try {
    report = JSON.parse(attw.out);
  } catch {
    fail(`attw did not print JSON (exit ${attw.code})`, attw.out);
  }
  const problems = Object.values(report.problems ?? {}).flat();
  const entryNames = Object.keys(report.analysis?.entrypoints ?? {});
  const expectedEntries = Object.keys(pkg.exports);
  check(
    expectedEntries.every((e) => entryNames.includes(e)),
    `attw analysed every entry point (${entryNames.join(', ')})`,
    JSON.stringify(entryNames),
  );
  const unresolved = [];
  for (const [name, ep] of Object.entries(report.analysis.entrypoints))
    for (const kind of ['node10', 'node16-cjs', 'node16-esm', 'bundler'])
      if (!ep.resolutions?.[kind]?.resolution?.fileName) unresolved.push(`${name} under ${kind}`);
  check(unresolved.length === 0, 'attw: every entry point resolves to its types under node10, node16 (CJS and ESM) and bundler', unresolved.join('\n'));
  check(problems.length === 0 && attw.code === 0, `attw: no problems (exit ${attw.code})`, JSON.stringify(report.problems, null, 2));
  // publint: the tarball, at its strictest; a suggestion counts as a problem too
  const publintMessages = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import * as fs from 'node:fs';
const buf = fs.readFileSync(process.argv[1]);
const { messages, pkg } = await publint({ pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }, level: 'suggestion', strict: true });
console.log(JSON.stringify(messages.map((m) => ({ type: m.type, code: m.code, text: formatMessage(m, pkg) }))));`,
      tarball,
    ],
    { cwd: checkers, env: sandboxEnv, label: `publint ${path.basename(tarball)}` },
  );
  const messages = JSON.parse(publintMessages.out.trim().split('\n').pop());
  check(messages.length === 0, 'publint: no error, warning or suggestion', messages.map((m) => `${m.type} ${m.code}: ${m.text}`).join('\n'));
  console.log(`    (${secs(Date.now() - stepStart)})`);
}

let exitCode = 0;
try {
  await main();
  console.log(`\ntest:package: all checks passed in ${secs(Date.now() - t0)}`);
} catch (err) {
  exitCode = 1;
  if (err instanceof CheckFailed) {
    if (err.details) {
      console.error('\n---- output ----');
      console.error(String(err.details).trimEnd());
      console.error('----------------');
    }
    console.error(`\ntest:package: FAILED at step ${stepNo}: ${err.message}`);
  } else {
    console.error(`\ntest:package: FAILED at step ${stepNo} with an unexpected error:`);
    console.error(err);
  }
} finally {
  cleanup();
}
process.exitCode = exitCode;
