// No prebuild for this platform and nothing compiled (no compiler at install, or install scripts
// not run: npm --ignore-scripts, pnpm without approve-builds): loading the package says which
// platform lacked a prebuild and what to install to build one (issue 16, item 9), instead of
// node-gyp-build's "No native build was found for platform=linux arch=x64 runtime=node abi=…".
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, runNode, scratch } from './_helpers';

const s = scratch();
afterAll(() => s.remove());

/** The package as installed with nothing built: dist/ and package.json, no build/, no prebuilds/ (or other platforms' only). */
function installedWithoutBuild(name: string, prebuilds: string[] = []): string {
  const pkg = path.join(s.dir, name, 'node_modules', 'securetemp');
  fs.mkdirSync(pkg, { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  // its dependency node-gyp-build, from the checkout
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  for (const p of prebuilds) {
    fs.mkdirSync(path.join(pkg, 'prebuilds', p), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'prebuilds', p, 'securetemp.node'), 'not this platform');
  }
  return path.dirname(path.dirname(pkg));
}

/** Loads the package as an application would, nothing caught: what the user sees is on stderr. */
function load(project: string, how: 'require' | 'import') {
  const env = { ...process.env };
  delete env.SECURETEMP_ADDON; // npm run test:portable/test:asan point it at their build
  // The addon is loaded on first use (issue 14), so the error comes with the first creation.
  const r = runNode(how === 'require' ? `require('securetemp').TemporaryFileSync()` : `import t from 'securetemp'; t.TemporaryFileSync();`, {
    cwd: project,
    env,
    args: how === 'import' ? ['--input-type=module'] : [],
  });
  expect(r.status).toBe(1);
  const message = /^Error: (securetemp: .*)$/m.exec(r.stderr)?.[1] ?? r.stderr;
  return { stderr: r.stderr, message, code: /^ {2}code: '([A-Z_]+)'/m.exec(r.stderr)?.[1], cause: /\[cause\]: Error: (.*)$/m.exec(r.stderr)?.[1] };
}

const libc = process.platform === 'linux' ? (fs.existsSync('/etc/alpine-release') ? ' (musl)' : ' (glibc)') : '';
const tuple = `${process.platform}-${process.arch}${libc}`;

describe('no prebuild and no compiled build', () => {
  it.each(['require', 'import'] as const)('%s: the error names the platform and what to install', (how) => {
    const e = load(installedWithoutBuild(`none-${how}`), how);
    expect(e.code).toBe('ERR_SECURETEMP_NO_BUILD');
    expect(e.message).toContain(`no native addon for ${tuple}`);
    expect(e.message).toContain('ships prebuilds for no platform');
    expect(e.message).toContain('npm rebuild securetemp');
    if (process.platform === 'linux') expect(e.message).toMatch(/install a C\+\+ compiler, make and Python 3 \((Debian\/Ubuntu: apt-get install g\+\+ make python3|apk add g\+\+ make python3)/);
    expect(e.message).not.toContain('No native build was found');
    // node-gyp-build's own message, with the ABI and where it looked, stays as the cause
    expect(e.cause).toMatch(/^No native build was found for platform=/);
  });

  it('loading alone works (the addon is loaded on first use), and creates nothing', () => {
    const project = installedWithoutBuild('load-only');
    const env = { ...process.env };
    delete env.SECURETEMP_ADDON;
    const r = runNode(`const t = require('securetemp'); console.log(typeof t.TemporaryFileSync)`, { cwd: project, env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('function\n');
  });

  it('the platforms that do have a prebuild are listed', () => {
    const others = ['aix-ppc64', 'sunos-x64'];
    const e = load(installedWithoutBuild('others', others), 'require');
    expect(e.code).toBe('ERR_SECURETEMP_NO_BUILD');
    expect(e.message).toContain(`no native addon for ${tuple}: the package ships prebuilds for aix-ppc64, sunos-x64,`);
  });
});
