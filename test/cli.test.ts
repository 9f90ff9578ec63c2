// The `securetemp` command (dist/cli.js), differentially against GNU coreutils /usr/bin/mktemp:
// each case runs both with the same arguments, environment, working directory and umask, and
// compares the exit status, whether stderr is empty, the shape of the output (everything but
// the random characters, which must be as many as the X's and alphanumeric), and what was
// created (type and permission bits; nothing for -u). Then the extras GNU lacks: --json,
// --cleanup-after (status, signals, removal that never follows a link), and what we do
// differently on purpose (world-writable directories without the sticky bit are refused).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, ROOT, scratch } from './_helpers';

const require = createRequire(import.meta.url);
const GNU = '/usr/bin/mktemp';
// SECURETEMP_CLI=/path/to/cli.js runs the suite against another build (a mutated copy, say).
const CLI = process.env.SECURETEMP_CLI ?? path.join(ROOT, 'dist', 'cli.js');
const posix = process.platform !== 'win32';
const hasGnu =
  posix && spawnSync(GNU, ['--version'], { encoding: 'utf8' }).stdout?.includes('GNU coreutils');

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  /** Environment on top of the test's (TMPDIR and POSIXLY_CORRECT removed); undefined unsets. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  umask?: string;
  /** A descriptor for stdout instead of a pipe (e.g. /dev/full). */
  stdout?: number;
}

function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env.TMPDIR;
  delete env.POSIXLY_CORRECT;
  delete env.SECURETEMP_PATH;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `cmd argv…` under `sh -c 'umask U; exec …'`, so both sides start alike. */
function run(cmd: readonly string[], argv: readonly string[], o: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'umask "$0" && exec "$@"', o.umask ?? '022', ...cmd, ...argv], {
      cwd: o.cwd ?? ROOT,
      env: baseEnv(o.env),
      stdio: ['ignore', o.stdout ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

const gnu = (argv: readonly string[], o?: RunOptions) => run([GNU], argv, o);
const ours = (argv: readonly string[], o?: RunOptions) => run([process.execPath, CLI], argv, o);

// ---------------------------------------------------------------- the scratch layout

// Made while the tests are collected, so that the cases (and their names) can hold real paths.
const s = scratch();
const BASE = fs.realpathSync(s.dir);
const TMP = path.join(BASE, 'tmp'); // $TMPDIR
const P = path.join(BASE, 'p'); // the -p directory
const P2 = path.join(BASE, 'p2'); // another one
const CWD = path.join(BASE, 'cwd'); // the working directory of relative templates
const ABS = path.join(BASE, 'abs'); // for absolute templates
const NOSUCH = path.join(BASE, 'nosuch');
for (const d of [TMP, P, P2, CWD, ABS]) fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
afterAll(() => s.remove());

// ---------------------------------------------------------------- one differential case

interface Case {
  argv: readonly string[];
  /** For the shape of the output: the template (default tmp.XXXXXXXXXX) and --suffix. */
  tmpl?: string | undefined;
  suffix?: string | undefined;
  env?: Record<string, string | undefined>;
  umask?: string;
  /** --help/--version: the texts differ; only status, stderr and a non-empty stdout compare. */
  info?: boolean;
}

/** The output's random part: X's counted back from where the suffix starts, as GNU documents. */
function shapeOf(tmpl: string | undefined, suffix: string | undefined): { x: number; after: string } {
  const t = tmpl ?? 'tmp.XXXXXXXXXX';
  let after: string;
  let end: number;
  if (suffix !== undefined) {
    after = suffix;
    end = t.length;
  } else {
    end = t.lastIndexOf('X') + 1;
    after = t.slice(end);
  }
  let x = 0;
  while (x < end && t[end - 1 - x] === 'X') x++;
  return { x, after };
}

const show = (r: Run) => `status ${r.status}${r.signal ? ` (${r.signal})` : ''}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`;

/** Type and permission bits of what an output names; null when nothing is there. */
function whatIs(cwd: string, out: string): string | null {
  const st = fs.lstatSync(path.resolve(cwd, out), { throwIfNoEntry: false });
  if (st === undefined) return null;
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
  return `${type} ${(st.mode & 0o7777).toString(8).padStart(4, '0')}${st.isFile() ? ` size ${st.size}` : ''}`;
}

async function compare(c: Case): Promise<void> {
  const o: RunOptions = { env: { TMPDIR: TMP, ...c.env }, cwd: CWD, umask: c.umask ?? '022' };
  const [g, u] = await Promise.all([gnu(c.argv, o), ours(c.argv, o)]);
  const created: string[] = [];
  try {
    const where = `\n  argv ${JSON.stringify(c.argv)} env ${JSON.stringify(c.env ?? {})} umask ${o.umask}\n  gnu:  ${show(g)}\n  ours: ${show(u)}`;
    expect(u.signal, `killed${where}`).toBe(null);
    expect(u.status, `exit status${where}`).toBe(g.status);
    expect(u.stderr === '', `stderr empty${where}`).toBe(g.stderr === '');
    if (u.stderr !== '') expect(u.stderr, `our messages are ours${where}`).toMatch(/^securetemp: /);
    if (c.info) {
      expect(u.stdout.length > 0, `stdout not empty${where}`).toBe(g.stdout.length > 0);
      return;
    }
    if (g.status !== 0) {
      expect(u.stdout, `nothing printed on failure${where}`).toBe('');
      return;
    }
    const gOut = g.stdout.replace(/\n$/, '');
    const uOut = u.stdout.replace(/\n$/, '');
    created.push(gOut, uOut);
    expect(u.stdout.endsWith('\n') && !uOut.includes('\n'), `one line${where}`).toBe(true);
    const { x, after } = shapeOf(c.tmpl, c.suffix);
    const start = gOut.length - after.length - x;
    expect(gOut.endsWith(after) && start >= 0, `the test's idea of GNU's shape (${x} X's, then ${JSON.stringify(after)})${where}`).toBe(true);
    expect(gOut.slice(start, start + x), `GNU replaced the X's${where}`).toMatch(new RegExp(`^[A-Za-z0-9]{${x}}$`));
    expect(uOut.length, `same length${where}`).toBe(gOut.length);
    expect(uOut.slice(0, start), `same directory and prefix${where}`).toBe(gOut.slice(0, start));
    expect(uOut.slice(start + x), `same suffix${where}`).toBe(after);
    expect(uOut.slice(start, start + x), `${x} random alphanumeric characters${where}`).toMatch(new RegExp(`^[A-Za-z0-9]{${x}}$`));
    expect(whatIs(CWD, uOut), `what was created (or nothing, -u)${where}`).toBe(whatIs(CWD, gOut));
  } finally {
    for (const p of created) fs.rmSync(path.resolve(CWD, p), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the cases

function casesFor(opts: readonly string[], tmpl: string | undefined, suffix: string | undefined, extra: Partial<Case> = {}): Case {
  const argv = [...opts, ...(suffix !== undefined ? [`--suffix=${suffix}`] : []), ...(tmpl !== undefined ? [tmpl] : [])];
  return { argv, tmpl, suffix, ...extra };
}

const label = (c: Case) =>
  `${JSON.stringify(c.argv)}${c.env ? ` ${JSON.stringify(c.env)}` : ''}${c.umask && c.umask !== '022' ? ` umask ${c.umask}` : ''}`;

const KINDS: ReadonlyArray<readonly string[]> = [[], ['-d'], ['-u']];

/** Templates (relative to the working directory, which has sub/): good and bad. */
const TEMPLATES: readonly string[] = [
  'fooXXX', // the minimum
  'foo.XXXXXXXXXX.txt', // suffix implied: the template does not end in X
  'X'.repeat(92),
  'fooXXXbarXXXX', // only the last run is random
  'XX', // too few
  'aXbXXc', // too few: not consecutive
  '', // empty
  'fooXXXbar/baz', // X's not in the last component
  'XXX/', // a suffix that is a separator
  'fooXXX.d/', // a suffix ending in a slash: a directory can be made, a file cannot
  'sub/fooXXXXXX', // a directory part
  'sub//fooXXXXXX', // doubled slash kept
  'nosuch/fooXXX', // a directory that does not exist
  '..XXX', // a prefix the library refuses as prefix, a fine name here
  '-XXX', // looks like an option
  `${ABS}/sub/barXXXX`, // absolute
];

function templateCases(): Case[] {
  const out: Case[] = [];
  // refused before anything is tried: one kind is enough
  const refused = new Set(['XX', 'aXbXXc', '', 'fooXXXbar/baz', 'XXX/', '-XXX']);
  for (const t of TEMPLATES) for (const k of refused.has(t) ? [['-d']] : KINDS) out.push(casesFor(k, t, undefined));
  out.push(casesFor(['-d', '-u'], 'sub/fooXXX', undefined));
  // --suffix: plain, with a slash, empty, ending in a slash, starting with one, an X; and
  // templates that do not end in X (refused), with a directory part, with too few X's
  for (const suffix of ['.txt', 'a/b', '', 'd/', '/x', 'X'])
    for (const t of ['fooXXX', 'XXXa', 'sub/fooXXXXX'])
      for (const k of [[], ['-d']]) out.push(casesFor(k, t, suffix));
  out.push(casesFor([], 'XX', '.txt'));
  return out;
}

/** Where the directory comes from: -p, --tmpdir, -t, $TMPDIR (set, empty, unset, relative). */
function dirCases(): Case[] {
  const out: Case[] = [];
  const dirOpts: ReadonlyArray<readonly string[]> = [
    [],
    ['-p', P],
    ['-p', ''],
    ['--tmpdir'],
    [`--tmpdir=${P}`],
    ['--tmpdir='],
    ['-t'],
    ['-t', '-p', P],
    ['-p', P, '--tmpdir'], // a bare --tmpdir forgets the -p DIR
    ['-p', P, '-p', P2], // the last one counts
    ['-p', NOSUCH],
    ['-p', `${P}//`], // trailing slashes dropped when joined
    ['-p', 'sub'], // relative to the working directory
  ];
  let i = 0;
  for (const d of dirOpts)
    // $TMPDIR matters only where no DIR was given, or with -t
    for (const env of d.length === 0 || d.some((a) => a === '' || a.startsWith('-t') || a === '--tmpdir=') || d.at(-1) === '--tmpdir'
      ? [{ TMPDIR: TMP }, { TMPDIR: '' }, { TMPDIR: undefined }]
      : [{ TMPDIR: TMP }])
      for (const t of [undefined, 'sub/fooXXXX']) {
        // files and directories by turns: both kinds meet every directory option
        const kind = i++ % 2 === 0 ? [] : ['-d'];
        out.push(casesFor([...kind, ...d], t, undefined, { env }));
      }
  for (const d of [[], ['-t'], ['--tmpdir']]) out.push(casesFor(d, undefined, undefined, { env: { TMPDIR: 'sub' } }));
  // absolute templates and templates with a slash, with each way of naming a directory
  for (const d of [['-p', P], ['--tmpdir'], ['-t'], ['-t', '-p', P]])
    for (const t of [`${ABS}/barXXXX`, 'sub/fooXXX', '/XXX']) out.push(casesFor(d, t, undefined));
  out.push(casesFor(['-t', '-d'], 'fooXXX', 'a/')); // -t accepts a trailing slash from --suffix
  out.push(casesFor(['-t'], 'fooXXX', 'a/'));
  out.push(casesFor(['-d'], undefined, '.x')); // the default template with --suffix
  out.push(casesFor(['-u', '-p', '/'], 'XXX', undefined)); // a root: no slash added
  out.push(casesFor(['-u', '-p', '//'], 'XXX', undefined));
  out.push(casesFor(['-u', '-p', `${NOSUCH}/deeper`], 'XXX', undefined)); // -u does not need the directory
  return out;
}

/** Permissions under other umasks (022 everywhere else). */
function umaskCases(): Case[] {
  const out: Case[] = [];
  for (const umask of ['077', '000', '277', '027'])
    for (const k of [[], ['-d']]) out.push(casesFor([...k, '-p', P], umask === '077' ? 'sub/fooXXXX' : undefined, undefined, { umask }));
  return out;
}

/** getopt_long: clusters, attached arguments, abbreviations, permutation, --, errors. */
function parseCases(): Case[] {
  const c = (argv: string[], tmpl?: string, suffix?: string, extra: Partial<Case> = {}): Case => ({ argv, tmpl, suffix, ...extra });
  return [
    c(['-dq', 'fooXXX'], 'fooXXX'),
    c(['-dqu', 'fooXXX'], 'fooXXX'),
    c(['-dqp', P, 'fooXXX'], 'fooXXX'),
    c([`-dp${P}`, 'fooXXX'], 'fooXXX'),
    c(['-pd', 'fooXXX'], 'fooXXX'), // -p takes "d": a relative directory that does not exist
    c(['-tp', P, 'fooXXX'], 'fooXXX', undefined, { env: { TMPDIR: undefined } }),
    c(['fooXXX', '-d'], 'fooXXX'), // permutation
    c(['fooXXX', '-p', P, '-d'], 'fooXXX'),
    c(['fooXXX', '--suffix', '.x'], 'fooXXX', '.x'),
    c(['--', '-dXXX'], '-dXXX'),
    c(['-d', '--', 'fooXXX'], 'fooXXX'),
    c(['--', 'fooXXX', '-d']), // too many templates
    c(['-', 'fooXXX']),
    c(['-']),
    c(['--dir', 'fooXXX'], 'fooXXX'),
    c(['--dr', 'fooXXX'], 'fooXXX'),
    c(['--q', 'XX']),
    c(['--d', 'fooXXX']), // ambiguous
    c([`--tm=${P}`, 'fooXXX'], 'fooXXX'),
    c(['--tmpdir', P, 'fooXXX']), // --tmpdir takes no separate argument: two templates
    c(['--suf', '.x', 'fooXXX'], 'fooXXX', '.x'),
    c(['--suffix']),
    c(['--directory=1', 'fooXXX']),
    c(['--foo', 'fooXXX']),
    c(['--=x']),
    c(['-x']),
    c(['-dx']),
    c(['-p']),
    c(['a', 'b']),
    c(['fooXXX'], 'fooXXX', undefined, { env: { POSIXLY_CORRECT: '1' } }),
    c(['fooXXX', '-d'], undefined, undefined, { env: { POSIXLY_CORRECT: '1' } }), // no permutation: too many templates
    c(['-q', 'XX']), // -q does not hide template errors
    c(['-q', '-p', NOSUCH]), // it hides creation errors
    c(['-q', '-d', 'nosuch/fooXXX']),
    c(['-q', '--suffix=a/b', 'fooXXX']),
    c(['--help'], undefined, undefined, { info: true }),
    c(['--he'], undefined, undefined, { info: true }),
    c(['--version'], undefined, undefined, { info: true }),
    c(['--v'], undefined, undefined, { info: true }),
    c(['-V'], undefined, undefined, { info: true }),
    c(['a', 'b', '--help'], undefined, undefined, { info: true }),
    c(['--help', '--foo'], undefined, undefined, { info: true }),
    c(['--foo', '--help']),
    c(['-x', '--version']),
  ];
}

// ---------------------------------------------------------------- differential

describe.skipIf(!hasGnu)('differential against GNU mktemp', () => {
  const groups: ReadonlyArray<readonly [string, Case[]]> = [
    ['templates and --suffix', templateCases()],
    ['-p, --tmpdir, -t and TMPDIR', dirCases()],
    ['umask', umaskCases()],
    ['option parsing', parseCases()],
  ];
  for (const [name, cases] of groups) {
    describe.concurrent(name, () => {
      for (const c of cases) it(label(c).replaceAll(BASE, '$SCRATCH'), () => compare(c));
    });
  }

  it('a failed write of the name (/dev/full) removes what was created, as GNU does', async () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      for (const [side, dir] of [
        [gnu, P2],
        [ours, path.join(P2, 'sub')],
      ] as const) {
        for (const k of [[], ['-d']]) {
          const before = fs.readdirSync(dir).length;
          const r = await side([...k, '-p', dir], { stdout: full });
          expect(r.status).toBe(1);
          expect(r.stderr).not.toBe('');
          expect(fs.readdirSync(dir).length).toBe(before);
        }
      }
    } finally {
      fs.closeSync(full);
    }
  });
});

// ---------------------------------------------------------------- on its own

describe.skipIf(!posix)('securetemp', () => {
  it('--help (which calls -u unsafe) and --version exit 0', async () => {
    const h = await ours(['--help']);
    expect(h.status).toBe(0);
    expect(h.stderr).toBe('');
    expect(h.stdout).toMatch(/^Usage: securetemp /);
    expect(h.stdout).toMatch(/--dry-run[\s\S]*UNSAFE/);
    for (const o of ['--directory', '--quiet', '--suffix=SUFF', '--tmpdir[=DIR]', '-t', '--json', '--cleanup-after']) {
      expect(h.stdout).toContain(o);
    }
    const v = await ours(['--version']);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(v).toMatchObject({ status: 0, stderr: '', stdout: `securetemp ${pkg.version}\n` });
  });

  it('creates 0600 files and 0700 directories by default, in $TMPDIR', async () => {
    const f = await ours([], { env: { TMPDIR: P } });
    const d = await ours(['-d'], { env: { TMPDIR: P } });
    expect(f.stdout).toMatch(new RegExp(`^${P}/tmp\\.[A-Za-z0-9]{10}\\n$`));
    expect(whatIs(P, f.stdout.trim())).toBe('file 0600 size 0');
    expect(whatIs(P, d.stdout.trim())).toBe('directory 0700');
  });

  it('--json prints {"path": ...}, for -u too', async () => {
    for (const k of [[], ['-d'], ['-u']]) {
      const r = await ours([...k, '--json', '-p', P, 'j.XXXXXX.txt']);
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout) as { path: string };
      expect(Object.keys(j)).toEqual(['path']);
      expect(j.path).toMatch(new RegExp(`^${P}/j\\.[A-Za-z0-9]{6}\\.txt$`));
      expect(fs.existsSync(j.path)).toBe(k[0] !== '-u');
    }
  });

  it('refuses a world-writable directory without the sticky bit (GNU uses it); -q hides the message', async () => {
    const open = path.join(BASE, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    try {
      for (const k of [[], ['-d']]) {
        const r = await ours([...k, '-p', open]);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^securetemp: refusing to create .* in '.*\/open': it is world-writable without the sticky bit/);
        const q = await ours([...k, '-q', '-p', open]);
        expect(q).toMatchObject({ status: 1, stdout: '', stderr: '' });
      }
      expect(fs.readdirSync(open)).toEqual([]);
      const u = await ours(['-u', '-p', open]); // creates nothing: nothing to refuse
      expect(u.status).toBe(0);
      fs.chmodSync(open, 0o1777);
      const sticky = await ours(['-p', open]);
      expect(sticky.status).toBe(0);
    } finally {
      fs.rmSync(open, { recursive: true, force: true });
    }
  });

  it('-u never touches the directory beyond lstat; a name too long fails as in GNU', async () => {
    const r = await ours(['-u', '-p', P, 'X'.repeat(300)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^securetemp: failed to create file via template '.*': Name too long\n$/);
  });
});

describe('random characters', () => {
  const { randomAlnum } = require(path.join(path.dirname(CLI), '_template.js')) as { randomAlnum(n: number): string };

  it('are uniform over the 62 of [A-Za-z0-9] (chi-square), from names of any length', () => {
    const counts = new Map<string, number>();
    let total = 0;
    for (const n of [1, 3, 10, 97, 1000]) {
      for (let i = 0; i < 620_000 / n / 5; i++) {
        const s = randomAlnum(n);
        expect(s.length).toBe(n);
        for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
        total += n;
      }
    }
    expect([...counts.keys()].sort().join('')).toBe('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
    const expected = total / 62;
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
    // 61 degrees of freedom: P(chi2 > 120) < 1e-5; a modulo bias of 256 % 62 would give thousands
    expect(chi2).toBeLessThan(120);
  });
});

describe.skipIf(!posix)('securetemp --cleanup-after', () => {
  /** The command's own output names the path; returns it with the run. */
  async function cleanup(argv: string[], script: string, o: RunOptions = {}) {
    const r = await ours([...argv, '--cleanup-after', '/bin/sh', '-c', `printf '%s\\n' "$SECURETEMP_PATH"; ${script}`], o);
    const p = r.stdout.split('\n')[0]!;
    return { ...r, path: p };
  }

  it("runs the command with the path in $SECURETEMP_PATH, returns its status, removes the path, prints nothing itself", async () => {
    for (const code of [0, 1, 7, 255]) {
      const r = await cleanup(['-p', P], `test -f "$SECURETEMP_PATH" && test ! -s "$SECURETEMP_PATH" && exit ${code}; exit 99`);
      expect(r.status).toBe(code);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${r.path}\n`);
      expect(r.path).toMatch(new RegExp(`^${P}/tmp\\.[A-Za-z0-9]{10}$`));
      expect(fs.existsSync(r.path)).toBe(false);
    }
  });

  it('gives the command an absolute path for a relative template, and a 0600 file / 0700 directory', async () => {
    // find prints the path when its permission bits are exactly these
    const f = await cleanup(['sub/relXXXX'], 'test -f "$SECURETEMP_PATH" && find "$SECURETEMP_PATH" -prune -perm 600', { cwd: CWD });
    expect(f.path).toMatch(new RegExp(`^${CWD}/sub/rel[A-Za-z0-9]{4}$`));
    expect(f.stdout).toBe(`${f.path}\n${f.path}\n`);
    const d = await cleanup(['-d', 'sub/relXXXX'], 'test -d "$SECURETEMP_PATH" && find "$SECURETEMP_PATH" -prune -perm 700', { cwd: CWD });
    expect(d.stdout).toBe(`${d.path}\n${d.path}\n`);
    expect(fs.readdirSync(path.join(CWD, 'sub'))).toEqual([]);
  });

  it('removes a directory with contents (read-only subdirectories too) whatever the status', async () => {
    for (const code of [0, 3]) {
      const r = await cleanup(
        ['-d', '-p', P],
        `cd "$SECURETEMP_PATH" && mkdir -p a/b/c && echo x > a/b/c/f && echo y > g && mkdir ro && touch ro/f && chmod 500 ro && exit ${code}`,
      );
      expect(r.status).toBe(code);
      expect(r.stderr).toBe('');
      expect(fs.existsSync(r.path)).toBe(false);
    }
  });

  it('never follows a symlink planted inside, or one that replaced the directory itself', async () => {
    const outside = path.join(BASE, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'precious'), 'keep');
    fs.mkdirSync(path.join(outside, 'dir'));
    fs.writeFileSync(path.join(outside, 'dir', 'precious'), 'keep');
    try {
      const r = await cleanup(
        ['-d', '-p', P],
        `cd "$SECURETEMP_PATH" && ln -s '${outside}' out && ln -s '${outside}/precious' file && mkdir d && ln -s '${outside}/dir' d/deeper && exit 0`,
      );
      expect(r.status).toBe(0);
      expect(fs.existsSync(r.path)).toBe(false);
      // the directory swapped for a link to the outside, and a file swapped for one
      const swapped = await cleanup(['-d', '-p', P], `rmdir "$SECURETEMP_PATH" && ln -s '${outside}' "$SECURETEMP_PATH"`);
      expect(swapped.status).toBe(0);
      expect(fs.existsSync(swapped.path)).toBe(false);
      const file = await cleanup(['-p', P], `rm "$SECURETEMP_PATH" && ln -s '${outside}/dir' "$SECURETEMP_PATH"`);
      expect(file.status).toBe(0);
      expect(fs.lstatSync(file.path, { throwIfNoEntry: false })).toBeUndefined();
      expect(fs.readFileSync(path.join(outside, 'precious'), 'utf8')).toBe('keep');
      expect(fs.readFileSync(path.join(outside, 'dir', 'precious'), 'utf8')).toBe('keep');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a path the command removed or replaced itself is fine', async () => {
    const gone = await cleanup(['-d', '-p', P], 'rmdir "$SECURETEMP_PATH"');
    expect(gone).toMatchObject({ status: 0, stderr: '' });
    // replaced by rename (what sed -i and atomic writers do): the new file is removed too
    const renamed = await cleanup(['-p', P], 'echo new > "$SECURETEMP_PATH.new" && mv "$SECURETEMP_PATH.new" "$SECURETEMP_PATH"');
    expect(renamed).toMatchObject({ status: 0, stderr: '' });
    expect(fs.existsSync(renamed.path)).toBe(false);
  });

  it('a command that dies of a signal: securetemp dies of it too (128+N for a core-dumping one), after removing', async () => {
    const term = await cleanup(['-p', P], 'kill -TERM $$');
    expect(term.signal).toBe('SIGTERM');
    expect(fs.existsSync(term.path)).toBe(false);
    const int = await cleanup(['-d', '-p', P], 'kill -INT $$');
    expect(int.signal).toBe('SIGINT');
    expect(fs.existsSync(int.path)).toBe(false);
    const segv = await cleanup(['-p', P], 'ulimit -c 0; kill -SEGV $$');
    expect(segv.signal).toBe(null);
    expect(segv.status).toBe(128 + 11);
    expect(fs.existsSync(segv.path)).toBe(false);
  });

  /** securetemp with a command that prints the path first; resolves the path once printed. */
  function started(argv: string[], script: string, detached = false) {
    const child = spawn(process.execPath, [CLI, ...argv, '--cleanup-after', '/bin/sh', '-c', `echo "$SECURETEMP_PATH"; ${script}`], {
      env: baseEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached, // its own process group, as a terminal's foreground job is
    });
    let out = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const printed = new Promise<string>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      }),
    );
    const ended = new Promise<{ code: number | null; sig: NodeJS.Signals | null; stderr: string }>((resolve) =>
      child.on('close', (code, sig) => resolve({ code, sig, stderr })),
    );
    return { child, printed, ended };
  }

  it('SIGTERM to securetemp is passed on to the command, then the path is removed', async () => {
    const { child, printed, ended } = started(['-d', '-p', P], 'exec sleep 30');
    const p = await printed;
    expect(fs.statSync(p).isDirectory()).toBe(true);
    child.kill('SIGTERM');
    expect(await ended).toEqual({ code: null, sig: 'SIGTERM', stderr: '' });
    expect(fs.existsSync(p)).toBe(false);
  });

  it('SIGTERM that the command survives: securetemp waits for it, the path stays until it exits, its status is returned', async () => {
    // The command catches SIGTERM (a graceful drain), then goes on until the test says "go".
    const { child, printed, ended } = started(
      ['-d', '-p', P],
      `trap 'touch "$SECURETEMP_PATH/term"' TERM; touch "$SECURETEMP_PATH/ready"; ` +
        `while [ ! -e "$SECURETEMP_PATH/go" ]; do sleep 0.05; done; exit 4`,
    );
    const p = await printed;
    const waitFor = async (f: string) => {
      for (let i = 0; i < 500 && !fs.existsSync(f); i++) await new Promise((r) => setTimeout(r, 20));
      expect(fs.existsSync(f)).toBe(true);
    };
    await waitFor(path.join(p, 'ready'));
    let over = false;
    void ended.then(() => (over = true));
    child.kill('SIGTERM');
    await waitFor(path.join(p, 'term')); // passed on, and the command lives on
    await new Promise((r) => setTimeout(r, 200));
    expect(over).toBe(false);
    expect(fs.statSync(p).isDirectory()).toBe(true);
    fs.writeFileSync(path.join(p, 'go'), '');
    expect(await ended).toEqual({ code: 4, sig: null, stderr: '' });
    expect(fs.existsSync(p)).toBe(false);
  });

  it("Ctrl-C (SIGINT to the process group) ends the command, then securetemp removes the path and dies of SIGINT", async () => {
    const { child, printed, ended } = started(['-p', P], 'exec sleep 30', true);
    const p = await printed;
    process.kill(-child.pid!, 'SIGINT');
    expect(await ended).toEqual({ code: null, sig: 'SIGINT', stderr: '' });
    expect(fs.existsSync(p)).toBe(false);
  });

  it('SIGINT to securetemp alone is outlived (as system(3) does): the command goes on, its status is returned', async () => {
    const { child, printed, ended } = started(['-p', P], 'sleep 1; exit 5');
    const p = await printed;
    child.kill('SIGINT');
    expect(await ended).toEqual({ code: 5, sig: null, stderr: '' });
    expect(fs.existsSync(p)).toBe(false);
  });

  it('a command that cannot be found (127) or run (126) still removes the path', async () => {
    const before = fs.readdirSync(P2).length;
    const missing = await ours(['-p', P2, '--cleanup-after', 'securetemp-no-such-command']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/^securetemp: failed to run 'securetemp-no-such-command'/);
    const notExec = path.join(BASE, 'not-executable');
    fs.writeFileSync(notExec, 'echo hi\n', { mode: 0o644 });
    if (!isRoot) {
      const r = await ours(['-p', P2, '--cleanup-after', notExec]);
      expect(r.status).toBe(126);
    }
    const dir = await ours(['-p', P2, '--cleanup-after', BASE]); // a directory: EACCES even for root
    expect(dir.status).toBe(126);
    expect(fs.readdirSync(P2).length).toBe(before);
  });

  it('usage errors: no command, with -u, with --json', async () => {
    for (const argv of [['--cleanup-after'], ['-u', '--cleanup-after', 'true'], ['--json', '--cleanup-after', 'true']]) {
      const r = await ours(['-p', P2, ...argv]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^securetemp: .*\nTry 'securetemp --help' for more information\.\n$/);
    }
  });

  it('--cleanup-after=CMD takes the rest as its arguments, options included', async () => {
    const r = await ours(['-p', P2, '--cleanup-after=/bin/echo', '-d', '--json']);
    expect(r).toMatchObject({ status: 0, stdout: '-d --json\n', stderr: '' });
  });
});
