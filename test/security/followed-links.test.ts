// followSymlinks (securetemp/write-file-atomic follows links, as write-file-atomic does): another
// user's link planted in a shared directory is never followed (the kernel's protected_symlinks
// rule, EACCES), while the user's own links, and links in directories only their owner writes,
// are. write-file-atomic itself follows the planted link: root rewrites the planter's choice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ROOT, isRoot, ls, scratch, tempfile } from '../_helpers';
import { NOBODY, isLinux, runAsNobody } from './_security';

const require = createRequire(import.meta.url);
const dropIn = require('securetemp/write-file-atomic') as ((p: string, d: string) => Promise<void>) & { sync(p: string, d: string): void };
const original = require('write-file-atomic') as typeof dropIn;

describe.skipIf(!isLinux || !isRoot)('a link planted by another user (65534) where root follows links', () => {
  let s: ReturnType<typeof scratch>;
  let shared: string;
  let victim: string;
  beforeAll(() => {
    s = scratch();
    fs.chmodSync(s.dir, 0o755);
    shared = path.join(s.dir, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777); // as /tmp
    victim = path.join(s.dir, 'victim');
    fs.writeFileSync(victim, 'root:x:0:0');
    fs.chmodSync(victim, 0o644);
  });
  afterAll(() => s.remove());

  /** nobody plants `name` in the shared directory, pointing at the victim. */
  function plant(name: string): string {
    const at = path.join(shared, name);
    const r = runAsNobody(`fs.symlinkSync(${JSON.stringify(victim)}, ${JSON.stringify(at)}); console.log(fs.lstatSync(${JSON.stringify(at)}).uid)`);
    expect(r.stdout.trim()).toBe(String(NOBODY));
    return at;
  }

  const ours: [string, (p: string) => Promise<void>][] = [
    ['securetemp/write-file-atomic', (p) => dropIn(p, 'owned')],
    ['securetemp/write-file-atomic sync', async (p) => dropIn.sync(p, 'owned')],
    ['writeFileAtomic followSymlinks', (p) => tempfile.writeFileAtomic(p, 'owned', { followSymlinks: true })],
    ['writeFileAtomicSync followSymlinks', async (p) => tempfile.writeFileAtomicSync(p, 'owned', { followSymlinks: true })],
  ];

  it.each(ours)('%s: EACCES, the victim untouched, nothing created', async (what, write) => {
    const at = plant(`cfg-${what.replace(/\W+/g, '-')}`);
    await expect(write(at)).rejects.toMatchObject({ code: 'EACCES', syscall: 'open', path: at });
    expect(fs.readFileSync(victim, 'utf8')).toBe('root:x:0:0');
    expect(fs.lstatSync(at).isSymbolicLink()).toBe(true);
    expect(ls(s.dir)).toEqual(['shared', 'victim']);
  });

  it("a link behind root's own link is checked too: root's link to the planted one is refused", async () => {
    const at = plant('second-hop');
    const mine = path.join(s.dir, 'mine');
    fs.symlinkSync(at, mine);
    try {
      await expect(dropIn(mine, 'owned')).rejects.toMatchObject({ code: 'EACCES', path: at });
      expect(fs.readFileSync(victim, 'utf8')).toBe('root:x:0:0');
    } finally {
      fs.unlinkSync(mine);
    }
  });

  it("nobody's link in nobody's own directory (its owner's) is followed, as the kernel would", async () => {
    const own = path.join(s.dir, 'nobodys');
    fs.mkdirSync(own);
    fs.chownSync(own, NOBODY, NOBODY);
    const target = path.join(own, 'file');
    const r = runAsNobody(`fs.writeFileSync(${JSON.stringify(target)}, 'old'); fs.symlinkSync('file', ${JSON.stringify(path.join(own, 'link'))})`);
    expect(r.stderr).toBe('');
    await dropIn(path.join(own, 'link'), 'new');
    expect([fs.readFileSync(target, 'utf8'), fs.lstatSync(path.join(own, 'link')).isSymbolicLink()]).toEqual(['new', true]);
    fs.rmSync(own, { recursive: true });
  });

  it('the threat is real: write-file-atomic 7 follows the planted link and rewrites the victim', async () => {
    const at = plant('cfg-original');
    await original(at, 'owned by nobody');
    expect(fs.readFileSync(victim, 'utf8')).toBe('owned by nobody');
    fs.writeFileSync(victim, 'root:x:0:0');
  });
});

describe('the end of a followed chain is never resolved again (third outside review, 2026-12-03)', () => {
  // The check looked at the chain's last name (not a link), then realpath() resolved the whole
  // path: another user who flipped that name into a link to root's secret in between (a file
  // in a sticky directory, a link the next moment) got root to write through it (5 of 60 tries
  // without help). Now only the last name's directory is resolved, and the rename replaces
  // whatever the name is then, never following it. Shown deterministically: the name becomes a
  // link right after the check, before anything else looks at it.
  let s: ReturnType<typeof scratch>;
  beforeAll(() => {
    s = scratch();
  });
  afterAll(() => s.remove());

  it.each(['sync', 'async'])('%s: a link put at the end after the check is replaced, not followed', async (how) => {
    const dir = fs.mkdtempSync(path.join(s.dir, `${how}-`));
    const secret = path.join(dir, 'secret');
    fs.writeFileSync(secret, 'precious');
    fs.writeFileSync(path.join(dir, 'out.log'), 'old');
    fs.symlinkSync('out.log', path.join(dir, 'log'));
    const code = `const fs = require('fs'); const path = require('path');
      const { writeFileAtomicSync, writeFileAtomic } = require('./dist/index.js');
      const dir = process.argv[1], end = path.join(dir, 'out.log');
      // After the chain's last lstat says "a file", the attacker's flip: the name becomes a link.
      const flip = () => { fs.unlinkSync(end); fs.symlinkSync(path.join(dir, 'secret'), end); };
      let armed = true;
      const lstatSync = fs.lstatSync, lstat = fs.promises.lstat;
      fs.lstatSync = function (p, o) { const r = lstatSync.call(fs, p, o); if (armed && p === end && r && !r.isSymbolicLink()) { armed = false; flip(); } return r; };
      fs.promises.lstat = async function (p, o) { const r = await lstat.call(fs.promises, p, o); if (armed && p === end && !r.isSymbolicLink()) { armed = false; flip(); } return r; };
      (async () => {
        ${how === 'sync' ? 'writeFileAtomicSync' : 'await writeFileAtomic'}(path.join(dir, 'log'), 'WRITTEN BY ROOT', { followSymlinks: true });
        console.log(JSON.stringify({ armed, secret: fs.readFileSync(path.join(dir, 'secret'), 'utf8'), end: fs.lstatSync(end).isFile() ? fs.readFileSync(end, 'utf8') : 'link' }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = spawnSync(process.execPath, ['-e', code, dir], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ armed: false, secret: 'precious', end: 'WRITTEN BY ROOT' });
  });
});
