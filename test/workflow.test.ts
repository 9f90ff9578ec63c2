// .github/workflows/prebuild.yml, read with a YAML parser: valid, and building, testing and
// collecting a prebuild for every supported platform. (GitHub runs it; CI here cannot, so
// this is what CI here can check of it.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ROOT } from './_helpers';

const FILE = path.join(ROOT, '.github/workflows/prebuild.yml');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  shell?: string;
  with?: Record<string, unknown>;
}
interface Job {
  'runs-on': string;
  needs?: string | string[];
  container?: unknown;
  strategy?: { 'fail-fast'?: boolean; matrix: { include: Entry[] } };
  steps: Step[];
}
interface Entry {
  platform: string;
  arch: string;
  libc?: string;
  runner: string;
  container?: { image: string; options?: string };
  prebuildify: string;
}

const doc = parseDocument(fs.readFileSync(FILE, 'utf8'), { prettyErrors: true, uniqueKeys: true });
const wf = doc.toJS() as { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> };

/**
 * The few GitHub expressions the workflow uses (matrix fields, ==, !=, &&, ||, null, string
 * literals, format()) have JavaScript's meaning for these values: evaluated as JavaScript.
 */
function evaluate(expr: string, matrix: Entry): unknown {
  if (!/^[\w\s.'=!&|(){},-]*$/.test(expr)) throw new Error(`unexpected expression: ${expr}`);
  const format = (s: string, ...a: unknown[]) => s.replace(/\{(\d+)\}/g, (_, i: string) => String(a[Number(i)]));
  return new Function('matrix', 'format', `return (${expr});`)(matrix, format);
}
const interpolate = (s: string, matrix: Entry) => s.replace(/\$\{\{(.*?)\}\}/g, (_, e: string) => String(evaluate(e.trim(), matrix)));
const applies = (step: Step, m: Entry) => step.if === undefined || Boolean(evaluate(step.if, m));

const WANTED = ['linux-x64-glibc', 'linux-x64-musl', 'linux-arm64-glibc', 'darwin-x64', 'darwin-arm64', 'win32-x64'];
const id = (m: Entry) => [m.platform, m.arch, m.libc].filter(Boolean).join('-');
/** Where prebuildify puts the addon for an entry (node-gyp-build's layout). */
const prebuildFile = (m: Entry) =>
  `${m.platform}-${m.arch}/securetemp${m.prebuildify.includes('--tag-libc') ? `.${m.libc}` : ''}.node`;

describe('prebuild.yml', () => {
  const build = wf.jobs.prebuild!;
  const pack = wf.jobs.package!;
  const matrix = build.strategy!.matrix.include;

  it('is valid YAML with one value per key, and a workflow: triggers, read-only token, two jobs', () => {
    expect(doc.errors).toEqual([]);
    expect(doc.warnings).toEqual([]);
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push', 'workflow_dispatch']);
    expect(wf.on.push).toEqual({ tags: ['v*'] });
    expect(wf.permissions).toEqual({ contents: 'read' });
    expect(Object.keys(wf.jobs).sort()).toEqual(['package', 'prebuild']);
  });

  it('the matrix covers linux-x64 (glibc, musl), linux-arm64, darwin-x64/arm64 and win32-x64, once each', () => {
    expect(matrix.map(id).sort()).toEqual([...WANTED].sort());
    expect(build.strategy!['fail-fast']).toBe(false); // one platform's failure does not hide another's
  });

  it('each entry runs on a runner of its own platform and architecture', () => {
    for (const m of matrix) {
      const r = m.runner;
      if (m.platform === 'linux') expect(r, id(m)).toMatch(m.arch === 'arm64' ? /^ubuntu-[\d.]+-arm$/ : /^ubuntu-[\d.]+$/);
      if (m.platform === 'darwin') expect(r, id(m)).toBe(m.arch === 'arm64' ? 'macos-14' : 'macos-13'); // 13: the last Intel image
      if (m.platform === 'win32') expect(r, id(m)).toMatch(/^windows-\d+$/);
      if (m.libc === 'musl') {
        expect(m.container?.image, id(m)).toMatch(/^node:20-alpine/);
        expect(m.container?.options, id(m)).toContain('--privileged'); // the tests mount a tmpfs
      } else {
        expect(m.container, id(m)).toBeUndefined();
      }
    }
    expect(build['runs-on']).toBe('${{ matrix.runner }}');
    expect(build.container).toBe('${{ matrix.container }}');
  });

  it('prebuildify --napi --strip everywhere, --tag-libc on Linux only (a libc tag elsewhere would be wrong)', () => {
    for (const m of matrix) {
      const flags = m.prebuildify.split(/\s+/);
      expect(flags, id(m)).toEqual(expect.arrayContaining(['--napi', '--strip']));
      expect(flags.includes('--tag-libc'), id(m)).toBe(m.platform === 'linux');
    }
    const steps = build.steps.filter((s) => s.run?.includes('prebuildify'));
    expect(steps).toHaveLength(1);
    expect(steps[0]!.run).toBe('npx prebuildify ${{ matrix.prebuildify }}');
    expect(steps[0]!.if).toBeUndefined();
  });

  it('every entry builds, drops build/ so only the prebuild loads, tests, and uploads, in that order', () => {
    for (const m of matrix) {
      const steps = build.steps.filter((s) => applies(s, m));
      const at = (pred: (s: Step) => boolean, what: string) => {
        const i = steps.findIndex(pred);
        expect(i, `${id(m)}: ${what}`).toBeGreaterThanOrEqual(0);
        return i;
      };
      const checkout = at((s) => s.uses?.startsWith('actions/checkout@') ?? false, 'checkout');
      const install = at((s) => /^npm ci\b/.test(s.run ?? ''), 'npm ci');
      const built = at((s) => s.run?.includes('prebuildify') ?? false, 'prebuildify');
      const dropped = at((s) => /^rm -rf build$/m.test(s.run ?? ''), 'rm -rf build');
      const tests = steps.filter((s) => /\bnpm test\b|node --test\b/.test(s.run ?? ''));
      expect(tests, `${id(m)}: exactly one test step`).toHaveLength(1);
      const tested = steps.indexOf(tests[0]!);
      const uploaded = at((s) => s.uses?.startsWith('actions/upload-artifact@') ?? false, 'upload');
      expect([checkout, install, built, dropped, tested, uploaded], id(m)).toEqual(
        [checkout, install, built, dropped, tested, uploaded].sort((a, b) => a - b),
      );
      // Windows runs the node:test suite (the vitest suite is POSIX's); the others vitest.
      if (m.platform === 'win32') expect(tests[0]!.run).toMatch(/node --test .*test\/windows\/\*\.test\.mjs/);
      else expect(tests[0]!.run).toMatch(/\bnpm test$/m);
      // A container has node; elsewhere setup-node gives Node 20.
      const setup = steps.filter((s) => s.uses?.startsWith('actions/setup-node@'));
      expect(setup.length, id(m)).toBe(m.container ? 0 : 1);
      if (setup[0]) expect(setup[0].with).toEqual({ 'node-version': 20 });
      if (m.libc === 'musl') expect(steps.some((s) => /^apk add .*\bg\+\+/.test(s.run ?? '')), id(m)).toBe(true);
    }
    // The Linux runners' tests run as root, like CI here (tmpfs mounts, switching to nobody).
    const sudo = build.steps.find((s) => s.run?.includes('sudo'));
    expect(sudo?.if).toBe("matrix.platform == 'linux' && matrix.container == null");
  });

  it('artifact names are distinct per entry and are what the package job downloads', () => {
    const upload = build.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.with?.path).toBe('prebuilds/');
    expect(upload.with?.['if-no-files-found']).toBe('error');
    const names = matrix.map((m) => interpolate(String(upload.with!.name), m));
    expect(new Set(names).size).toBe(matrix.length);
    for (const n of names) expect(n).toMatch(/^prebuild-[a-z0-9-]+$/);
    const download = pack.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(download.with).toEqual({ pattern: 'prebuild-*', path: 'prebuilds', 'merge-multiple': true });
  });

  it('the package job waits for every build, checks every prebuild is there, packs and tries the package', () => {
    expect(pack.needs).toBe('prebuild');
    const check = pack.steps.find((s) => s.name === "Every platform's prebuild is there")!;
    const listed = [...check.run!.matchAll(/^\s+([a-z0-9-]+\/securetemp(?:\.\w+)?\.node)$/gm)].map((x) => x[1]);
    expect(listed.sort()).toEqual(matrix.map(prebuildFile).sort());
    const packStep = pack.steps.find((s) => /\bnpm pack\b/.test(s.run ?? ''))!;
    expect(packStep.run).toContain('npm run build:ts');
    expect(packStep.run).toContain('npm pack --ignore-scripts'); // prepack would rebuild this runner's prebuild
    expect(pack.steps.indexOf(packStep)).toBeGreaterThan(pack.steps.indexOf(check));
    const tried = pack.steps.find((s) => s.name?.startsWith('The package installs'))!;
    expect(tried.run).toMatch(/npm install .*"\$tgz"/);
    expect(pack.steps.at(-1)!.uses).toMatch(/^actions\/upload-artifact@/);
  });

  it('actions are pinned to a major version', () => {
    const uses = Object.values(wf.jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u).toMatch(/^actions\/(checkout|setup-node|upload-artifact|download-artifact)@v\d+$/);
  });

  it('the files it runs exist: the Windows suite and the package scripts', () => {
    expect(fs.readdirSync(path.join(ROOT, 'test/windows')).filter((f) => f.endsWith('.test.mjs')).length).toBeGreaterThan(0);
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toBeDefined();
    expect(scripts['build:ts']).toBeDefined();
  });
});
