// Attack class: a hostile TMPDIR. The environment comes from whoever started the process; it
// can name a directory that is missing, a file, one we cannot write, one where others can
// rename or delete our files (world-writable without the sticky bit), or a symlink to one.
// gettempdir() probes each candidate by really creating and removing a file there, so
// missing, file and unwritable candidates are skipped (and the next one is used). A
// world-writable non-sticky directory passes that probe, is returned, and is then refused
// loudly by every creation that gives a name (ERR_INSECURE_TEMPDIR naming the directory)
// rather than silently replaced by another directory: the caller learns their setup is unsafe.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ROOT, isRoot, ls, runNode, scratch } from '../_helpers';
import { NOBODY, runAsNobody, startAsNobody } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
  fs.chmodSync(s.dir, 0o755);
});
afterAll(() => s.remove());

// In the child: where gettempdir() settles, then what each creator does with no dir given.
// What it makes it removes before it prints: where TMPDIR is skipped that is the real /tmp.
const PROBE = `
  const out = { tempdir: t.gettempdir(), made: {} }, made = [];
  const tries = {
    mkstemp: () => { const r = t.mkstempSync(); fs.closeSync(r.fd); return r.path; },
    mkdtemp: () => t.mkdtempSync(),
    NamedTemporaryFile: () => { const f = t.NamedTemporaryFileSync({ delete: false }); f.closeSync(); return f.path; },
    TemporaryDirectory: () => t.TemporaryDirectorySync({ delete: false }).path,
    TemporaryFile: () => { t.TemporaryFileSync().closeSync(); return null; },
    'TemporaryFile (create-then-unlink)': () => { internals.forceNoTmpfile = true; try { t.TemporaryFileSync().closeSync(); } finally { internals.forceNoTmpfile = false; } return null; },
  };
  for (const [k, f] of Object.entries(tries)) {
    try { const p = f(); if (p !== null) made.push(p); out.made[k] = p === null ? 'ok (unnamed)' : path.dirname(p) === out.tempdir ? 'in tempdir' : p; }
    catch (e) { out.made[k] = e.code + (e.message.includes(out.tempdir) ? ' (names it)' : ''); }
  }
  for (const p of made) fs.rmSync(p, { recursive: true });
  console.log(JSON.stringify(out));
`;

function probe(env: Record<string, string>, asNobody = false) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.TEMP;
  delete e.TMP;
  const r = asNobody
    ? runAsNobody(PROBE, { env: e })
    : runNode(`const t = require('securetemp'), fs = require('fs'), path = require('path');
               const { internals } = require('./dist/_internals.js');\n${PROBE}`, { env: e });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { tempdir: string; made: Record<string, string> };
}

const ALL_OK = {
  mkstemp: 'in tempdir',
  mkdtemp: 'in tempdir',
  NamedTemporaryFile: 'in tempdir',
  TemporaryDirectory: 'in tempdir',
  TemporaryFile: 'ok (unnamed)',
  'TemporaryFile (create-then-unlink)': 'ok (unnamed)',
};

describe('TMPDIR that cannot be used is skipped, nothing made in or for it', () => {
  it.each([
    ['missing', (d: string) => path.join(d, 'missing')],
    ['a regular file', (d: string) => { const f = path.join(d, 'a-file'); fs.writeFileSync(f, 'x'); return f; }],
    ['a dangling symlink', (d: string) => { const l = path.join(d, 'dangling'); fs.symlinkSync(path.join(d, 'nowhere'), l); return l; }],
    ['a symlink to a file', (d: string) => { const l = path.join(d, 'to-file'); fs.writeFileSync(path.join(d, 'target-file'), 'x'); fs.symlinkSync(path.join(d, 'target-file'), l); return l; }],
  ])('%s: the next candidate (/tmp) is used', (name, make) => {
    const d = path.join(s.dir, name.replace(/ /g, '-'));
    fs.mkdirSync(d);
    const tmpdir = make(d);
    const before = ls(d);
    const out = probe({ TMPDIR: tmpdir });
    expect(out.tempdir).toBe('/tmp');
    expect(out.made).toEqual(ALL_OK);
    expect(ls(d)).toEqual(before); // not created, not written
    for (const p of ['a-file', 'target-file']) if (before.includes(p)) expect(fs.readFileSync(path.join(d, p), 'utf8')).toBe('x');
  });

  it.runIf(isRoot)('not writable for us (nobody; a root directory 0755): skipped, /tmp used', () => {
    const d = path.join(s.dir, 'root-owned');
    fs.mkdirSync(d, { mode: 0o755 });
    const out = probe({ TMPDIR: d }, true);
    expect(out.tempdir).toBe('/tmp');
    expect(out.made).toEqual(ALL_OK);
    expect(ls(d)).toEqual([]);
  });
});

describe('TMPDIR where others could rename or delete our files', () => {
  function insecure(name: string) {
    const d = path.join(s.dir, name);
    fs.mkdirSync(d);
    fs.chmodSync(d, 0o777); // world-writable, no sticky bit
    return d;
  }
  const REFUSED = {
    mkstemp: 'ERR_INSECURE_TEMPDIR (names it)',
    mkdtemp: 'ERR_INSECURE_TEMPDIR (names it)',
    NamedTemporaryFile: 'ERR_INSECURE_TEMPDIR (names it)',
    TemporaryDirectory: 'ERR_INSECURE_TEMPDIR (names it)',
    // One policy for every creator on every platform (issue 12): O_TMPFILE too.
    TemporaryFile: 'ERR_INSECURE_TEMPDIR (names it)',
    'TemporaryFile (create-then-unlink)': 'ERR_INSECURE_TEMPDIR (names it)',
  };

  it('world-writable without the sticky bit: returned by gettempdir(), then every named creation refuses it loudly', () => {
    const d = insecure('world-writable');
    const out = probe({ TMPDIR: d });
    expect(out.tempdir).toBe(d);
    expect(out.made).toEqual(REFUSED);
    expect(ls(d)).toEqual([]); // the probe's file was removed, nothing else made
  });

  it('a symlink to such a directory: refused the same (the check is on the directory opened)', () => {
    const d = insecure('world-writable-target');
    const link = path.join(s.dir, 'link-to-world-writable');
    fs.symlinkSync(d, link);
    const out = probe({ TMPDIR: link });
    expect(out.tempdir).toBe(d); // kept resolved: see "TMPDIR through a symbolic link" below
    expect(out.made).toEqual(REFUSED);
    expect(ls(d)).toEqual([]);
  });

  it.runIf(isRoot)('as nobody too (the attacker would be another user of that directory)', () => {
    const d = insecure('world-writable-nobody');
    const out = probe({ TMPDIR: d }, true);
    expect(out.tempdir).toBe(d);
    expect(out.made).toEqual(REFUSED);
    expect(ls(d)).toEqual([]);
  });

  it('world-writable with the sticky bit (/tmp-like): used', () => {
    const d = path.join(s.dir, 'sticky');
    fs.mkdirSync(d);
    fs.chmodSync(d, 0o1777);
    const out = probe({ TMPDIR: d });
    expect(out.tempdir).toBe(d);
    expect(out.made).toEqual(ALL_OK);
  });

  it.runIf(isRoot)('a sticky directory owned by another user (its owner may rename our files): refused by every creator (issue 12)', () => {
    const d = path.join(s.dir, 'owned-by-attacker');
    fs.mkdirSync(d);
    fs.chownSync(d, NOBODY, NOBODY);
    fs.chmodSync(d, 0o1777);
    const out = probe({ TMPDIR: d });
    expect(out.tempdir).toBe(d);
    expect(out.made).toEqual(REFUSED);
    expect(ls(d)).toEqual([]);
  });
});

// Tenth outside review: TMPDIR through another user's symbolic link. gettempdir() kept the path
// as given; the policy was checked on whatever the link led to at each creation, and every name
// was handed out through the link. Its owner let it point at a directory of root's while root
// checked, then at one of its own: root's later by-name uses of f.name (what NamedTemporaryFile is
// for) went into the attacker's directory, where the attacker had put a link of its choosing at
// the name. Now the candidate is kept resolved: names lead to the directory checked, never
// through the link, whatever its owner does with it afterwards.
describe('TMPDIR through a symbolic link', () => {
  it('gettempdir() keeps the directory the link led to; names never go through the link', () => {
    const home = path.join(s.dir, 'their-home');
    fs.mkdirSync(home, { mode: 0o755 });
    const mine = path.join(s.dir, 'my-private-tmp');
    fs.mkdirSync(mine, { mode: 0o700 });
    const link = path.join(home, 'tmp');
    fs.symlinkSync(mine, link);
    if (isRoot) {
      fs.chownSync(home, NOBODY, NOBODY);
      fs.lchownSync(link, NOBODY, NOBODY);
    }
    const out = probe({ TMPDIR: link });
    expect(out.tempdir).toBe(mine);
    expect(out.made).toEqual(ALL_OK); // every name made in `mine`, as `mine/NAME`
    expect(ls(mine)).toEqual([]);
  });

  it('the command line prints names through the directory the link led to, and TMPDIR without links as given', () => {
    const mine = path.join(s.dir, 'cli-private-tmp');
    fs.mkdirSync(mine, { mode: 0o700 });
    const link = path.join(s.dir, 'cli-link');
    fs.symlinkSync(mine, link);
    const cli = (env: string, args: string[]) => {
      const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: ROOT, env: { ...process.env, TMPDIR: env }, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return r.stdout.trim();
    };
    const viaLink = cli(link, []);
    expect(path.dirname(viaLink)).toBe(mine);
    const viaP = cli(mine, ['-d', '-p', link]);
    expect(path.dirname(viaP)).toBe(mine);
    // no link on the way: printed exactly as GNU mktemp prints it, trailing slash and all
    const plain = cli(`${mine}/`, []);
    expect(plain.startsWith(`${mine}/tmp.`)).toBe(true);
    fs.rmSync(viaLink);
    fs.rmSync(viaP, { recursive: true });
    fs.rmSync(plain);
    expect(ls(mine)).toEqual([]);
  });
});

// Eleventh outside review: the tenth's fix resolved -p DIR and TMPDIR only, and kept them as given
// when they did not resolve: a link in the template's own directory part, and a link dangling
// when looked at and repointed at root's directory before the creation, still printed names
// through the link. Now the template's whole directory is resolved once, and a directory that
// does not resolve is not created in.
describe('the command line: a link anywhere in the directory part of the template', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), ...args], { cwd: s.dir, env, encoding: 'utf8' });

  it('in the template (absolute, or relative to -p DIR): the name printed is through the directory it led to', () => {
    const real = path.join(s.dir, 'tpl-real');
    fs.mkdirSync(real, { mode: 0o700 });
    const base = path.join(s.dir, 'tpl-base');
    fs.mkdirSync(base, { mode: 0o755 });
    fs.symlinkSync(real, path.join(base, 'app'));
    const made: string[] = [];
    for (const args of [['-p', base, 'app/x.XXXXXX'], [path.join(base, 'app', 'y.XXXXXX')], ['-d', `${path.join(base, 'app')}//z.XXXXXX`]]) {
      const r = cli(args);
      expect(r.stderr, args.join(' ')).toBe('');
      const p = r.stdout.trim();
      expect(path.dirname(p), args.join(' ')).toBe(real);
      made.push(p);
    }
    for (const p of made) fs.rmSync(p, { recursive: true });
    expect(ls(real)).toEqual([]);
  });

  it.runIf(isRoot)('nobody flips its link between dangling and root\'s directory: no name is ever printed through it', async () => {
    const home = path.join(s.dir, 'flip-home');
    fs.mkdirSync(home, { mode: 0o755 });
    fs.chownSync(home, NOBODY, NOBODY);
    const rootDir = path.join(s.dir, 'flip-root');
    fs.mkdirSync(rootDir, { mode: 0o700 });
    const link = path.join(home, 'link');
    // each state held about a millisecond: dangling, then root's directory
    const FLIP = `const fs = require('fs'); const [l, t, n] = process.argv.slice(1);
      const nap = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      for (;;) { try { fs.unlinkSync(l); } catch {} try { fs.symlinkSync(n, l); } catch {} nap();
                 try { fs.unlinkSync(l); } catch {} try { fs.symlinkSync(t, l); } catch {} nap(); }`;
    const flipper = startAsNobody([process.execPath, '-e', FLIP, link, rootDir, path.join(home, 'nowhere')]);
    const printed: string[] = [];
    try {
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 40; i++) {
        const r = cli(['-q', '-p', link]);
        if (r.status === 0) printed.push(r.stdout.trim());
      }
      expect(flipper.running, 'the flipper ran all along').toBe(true);
    } finally {
      await flipper.stop();
    }
    expect(printed.length, 'some creations happened while the link led to root\'s directory').toBeGreaterThan(0);
    for (const p of printed) expect(path.dirname(p)).toBe(rootDir);
    for (const p of printed) fs.rmSync(p);
    expect(ls(rootDir)).toEqual([]);
  }, 60_000);
});

// Tenth outside review: Node decodes the command line and the environment as UTF-8, and bytes
// that are not (a directory named "a\xff") become U+FFFD, whose UTF-8 bytes name another
// directory, one another user can make beside the one meant in a shared directory: root's files
// went into nobody's "a\xef\xbf\xbd". GNU mktemp works on the raw bytes; we refuse.
describe('a TMPDIR or template that is not valid UTF-8', () => {
  const sh = (line: string) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.TEMP; // only the TMPDIR set on the line is a candidate before /tmp
    delete env.TMP;
    return spawnSync('/bin/sh', ['-c', line], { cwd: ROOT, env, encoding: 'buffer' });
  };
  it('the command line refuses it (template, -p, TMPDIR) and creates nothing', () => {
    const base = path.join(s.dir, 'utf');
    fs.mkdirSync(base);
    const own = Buffer.concat([Buffer.from(`${base}/a`), Buffer.from([0xff])]);
    const decoy = Buffer.concat([Buffer.from(`${base}/a`), Buffer.from([0xef, 0xbf, 0xbd])]);
    fs.mkdirSync(own, { mode: 0o700 });
    fs.mkdirSync(decoy, { mode: 0o755 });
    const node = JSON.stringify(process.execPath);
    for (const line of [
      `${node} dist/cli.js "$(printf '${base}/a\\377/secret.XXXXXX')"`,
      `${node} dist/cli.js -p "$(printf '${base}/a\\377')"`,
      `TMPDIR="$(printf '${base}/a\\377')" ${node} dist/cli.js`,
    ]) {
      const r = sh(line);
      expect(r.status, line).toBe(1);
      expect(r.stderr.toString()).toMatch(/not valid UTF-8/);
      expect(r.stdout.length).toBe(0);
    }
    expect(fs.readdirSync(own)).toEqual([]);
    expect(fs.readdirSync(decoy)).toEqual([]);
  });

  it('gettempdir() skips such a TMPDIR (the next candidate is used)', () => {
    const base = path.join(s.dir, 'utf-lib');
    fs.mkdirSync(base);
    const decoy = Buffer.concat([Buffer.from(`${base}/a`), Buffer.from([0xef, 0xbf, 0xbd])]);
    fs.mkdirSync(decoy, { mode: 0o755 });
    const node = JSON.stringify(process.execPath);
    const r = sh(`TMPDIR="$(printf '${base}/a\\377')" ${node} -e "console.log(require('./dist/index.js').gettempdir())"`);
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString().trim()).toBe('/tmp');
    expect(fs.readdirSync(decoy)).toEqual([]);
  });
});
