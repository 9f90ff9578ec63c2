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
import { NOBODY, isLinux, runAsNobody, startAsNobody } from './_security';

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

describe.skipIf(!isLinux || !isRoot)("another user's link in a directory component (tenth outside review)", () => {
  // Only the chain of links at the last name was checked; the directory part was resolved with
  // realpath() unchecked, and the real path then opened: nobody's link planted in a sticky
  // directory as a directory component led root's write into a root-only directory, and the
  // kernel's protected_symlinks never saw the link. Every link on the way is now checked.
  let s: ReturnType<typeof scratch>;
  let shared: string;
  let etc: string;
  let passwd: string;
  let dirlink: string;
  beforeAll(() => {
    s = scratch();
    fs.chmodSync(s.dir, 0o755);
    shared = path.join(s.dir, 'tmp');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    etc = path.join(s.dir, 'etc');
    fs.mkdirSync(etc, { mode: 0o755 });
    passwd = path.join(etc, 'passwd');
    fs.writeFileSync(passwd, 'root:x:0:0');
    dirlink = path.join(shared, 'dirlink');
    const r = runAsNobody(`fs.symlinkSync(${JSON.stringify(etc)}, ${JSON.stringify(dirlink)}); console.log(fs.lstatSync(${JSON.stringify(dirlink)}).uid)`);
    expect(r.stdout.trim()).toBe(String(NOBODY));
  });
  afterAll(() => s.remove());

  const ways: [string, (p: string) => Promise<void>][] = [
    ['securetemp/write-file-atomic', (p) => dropIn(p, 'owned')],
    ['securetemp/write-file-atomic sync', async (p) => dropIn.sync(p, 'owned')],
    ['writeFileAtomic followSymlinks', (p) => tempfile.writeFileAtomic(p, 'owned', { followSymlinks: true })],
    ['writeFileAtomicSync followSymlinks', async (p) => tempfile.writeFileAtomicSync(p, 'owned', { followSymlinks: true })],
  ];

  it.each(ways)('%s: the planted directory link is refused (EACCES), the file behind it untouched', async (_, write) => {
    await expect(write(path.join(dirlink, 'passwd'))).rejects.toMatchObject({ code: 'EACCES', syscall: 'open', path: dirlink });
    expect(fs.readFileSync(passwd, 'utf8')).toBe('root:x:0:0');
    expect(ls(etc)).toEqual(['passwd']);
  });

  it.each(ways)("%s: root's own link through the planted directory link is refused too", async (_, write) => {
    const mine = path.join(s.dir, 'rootlink');
    fs.symlinkSync(path.join(dirlink, 'passwd'), mine);
    try {
      await expect(write(mine)).rejects.toMatchObject({ code: 'EACCES', path: dirlink });
      expect(fs.readFileSync(passwd, 'utf8')).toBe('root:x:0:0');
      expect(fs.lstatSync(mine).isSymbolicLink()).toBe(true);
    } finally {
      fs.unlinkSync(mine);
    }
  });

  it.each(ways)("%s: root's own directory link in the shared directory is followed, as the kernel would", async (_, write) => {
    const mine = path.join(shared, 'rootdir');
    fs.symlinkSync(etc, mine);
    try {
      await write(path.join(mine, 'passwd'));
      expect([fs.readFileSync(passwd, 'utf8'), fs.lstatSync(mine).isSymbolicLink(), ls(etc)]).toEqual(['owned', true, ['passwd']]);
    } finally {
      fs.unlinkSync(mine);
      fs.writeFileSync(passwd, 'root:x:0:0');
    }
  });

  it.each(ways)('%s: a loop of directory links is ELOOP', async (_, write) => {
    const a = path.join(s.dir, 'loop-a');
    const b = path.join(s.dir, 'loop-b');
    fs.symlinkSync(path.join(b, 'x'), a);
    fs.symlinkSync(path.join(a, 'x'), b);
    try {
      await expect(write(path.join(a, 'f'))).rejects.toMatchObject({ code: 'ELOOP' });
    } finally {
      fs.unlinkSync(a);
      fs.unlinkSync(b);
    }
  });
});

describe.runIf(isLinux)('the directory written in is the one checked (tenth outside review)', () => {
  // After the path is resolved and every link on it checked, the temp file is created and
  // renamed through a handle of the directory; that handle must be of the directory checked. A
  // directory swapped for a link after the check (deterministically here: right after the last
  // name was looked at) is refused rather than written through.
  let s: ReturnType<typeof scratch>;
  beforeAll(() => {
    s = scratch();
  });
  afterAll(() => s.remove());

  it.each(['sync', 'async'])('%s: a directory swapped for a link after the check is not written in', async (how) => {
    const dir = fs.mkdtempSync(path.join(s.dir, `${how}-`));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.mkdirSync(path.join(dir, 'victim'));
    fs.writeFileSync(path.join(dir, 'sub', 'file'), 'old');
    fs.writeFileSync(path.join(dir, 'victim', 'file'), 'precious');
    fs.symlinkSync('sub', path.join(dir, 'link'));
    const code = `const fs = require('fs'); const path = require('path');
      const { writeFileAtomicSync, writeFileAtomic } = require('./dist/index.js');
      const dir = process.argv[1], end = path.join(dir, 'sub', 'file');
      const swap = () => { fs.renameSync(path.join(dir, 'sub'), path.join(dir, 'away')); fs.symlinkSync('victim', path.join(dir, 'sub')); };
      let armed = true;
      const lstatSync = fs.lstatSync, lstat = fs.promises.lstat;
      fs.lstatSync = function (p, o) { const r = lstatSync.call(fs, p, o); if (armed && p === end) { armed = false; swap(); } return r; };
      fs.promises.lstat = async function (p, o) { const r = await lstat.call(fs.promises, p, o); if (armed && p === end) { armed = false; swap(); } return r; };
      (async () => {
        let err = null;
        try { ${how === 'sync' ? 'writeFileAtomicSync' : 'await writeFileAtomic'}(path.join(dir, 'link', 'file'), 'WRITTEN', { followSymlinks: true }); } catch (e) { err = e.code; }
        console.log(JSON.stringify({ armed, err, victim: fs.readdirSync(path.join(dir, 'victim')).map((n) => n + ':' + fs.readFileSync(path.join(dir, 'victim', n), 'utf8')) }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = spawnSync(process.execPath, ['-e', code, dir], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ armed: false, err: 'EAGAIN', victim: ['file:precious'] });
  });
});

describe.runIf(isLinux)('links resolved one name at a time (tenth outside review)', () => {
  let s: ReturnType<typeof scratch>;
  beforeAll(() => {
    s = scratch();
  });
  afterAll(() => s.remove());

  it.each(['sync', 'async'])('%s: a backslash in a link target is part of a name on POSIX, not a separator', async (how) => {
    const dir = fs.mkdtempSync(path.join(s.dir, `${how}-`));
    fs.writeFileSync(path.join(dir, 'a\\b'), 'old');
    fs.symlinkSync('a\\b', path.join(dir, 'link'));
    const at = path.join(dir, 'link');
    if (how === 'sync') tempfile.writeFileAtomicSync(at, 'new', { followSymlinks: true });
    else await tempfile.writeFileAtomic(at, 'new', { followSymlinks: true });
    expect([fs.readFileSync(path.join(dir, 'a\\b'), 'utf8'), fs.lstatSync(at).isSymbolicLink(), ls(dir)]).toEqual(['new', true, ['a\\b', 'link']]);
  });

  it.each(['sync', 'async'])("%s: '..' in a link target is taken from the link's real directory, as the kernel does", async (how) => {
    const dir = fs.mkdtempSync(path.join(s.dir, `${how}-`));
    fs.mkdirSync(path.join(dir, 'real', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'real', 'f'), 'old');
    fs.symlinkSync(path.join('real', 'deep'), path.join(dir, 'd'));
    fs.symlinkSync(path.join('..', 'f'), path.join(dir, 'real', 'deep', 'up'));
    const at = path.join(dir, 'd', 'up');
    if (how === 'sync') tempfile.writeFileAtomicSync(at, 'new', { followSymlinks: true });
    else await tempfile.writeFileAtomic(at, 'new', { followSymlinks: true });
    expect([fs.readFileSync(path.join(dir, 'real', 'f'), 'utf8'), ls(path.join(dir, 'real')), ls(dir)]).toEqual(['new', ['deep', 'f'], ['d', 'real']]);
  });
});

// Eleventh outside review: the walk of the tenth's fix wrote "as given" when it met no link, and
// the addon then opened the directory by path: another user who put its link on the way after
// the walk (a directory component absent at the walk, a link at the write) got root's write
// wherever it pointed, in 4-32 calls (sync, async, the core's followSymlinks). Now the walk
// always answers with the directory it checked, and the write compares the handle it opens
// with it (EAGAIN), link or not; a name missing on the way is ENOENT at the walk.
describe.skipIf(!isLinux || !isRoot)('a directory component that becomes another user\'s link after the walk', () => {
  let s: ReturnType<typeof scratch>;
  beforeAll(() => {
    s = scratch();
    fs.chmodSync(s.dir, 0o755);
  });
  afterAll(() => s.remove());

  // nobody flips `link` between absent and a link to `target`, as fast as it can
  const FLIPPER = `const fs = require('fs'); const [l, t] = process.argv.slice(1);
    for (;;) { try { fs.symlinkSync(t, l); } catch {} try { fs.unlinkSync(l); } catch {} }`;
  it.each([
    ['securetemp/write-file-atomic, sync', 'sync'],
    ['securetemp/write-file-atomic, async', 'async'],
    ['writeFileAtomicSync({followSymlinks: true})', 'core'],
  ])('%s: 1,500 writes while nobody flips the link: the directory it points at is never written', async (_name, how) => {
    const base = fs.mkdtempSync(path.join(s.dir, 'race-'));
    fs.chmodSync(base, 0o755);
    const shared = path.join(base, 'tmp');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    const etc = path.join(base, 'etc');
    fs.mkdirSync(etc, { mode: 0o755 });
    const victim = path.join(etc, 'passwd');
    fs.writeFileSync(victim, 'ORIGINAL\n');
    const link = path.join(shared, 'app');
    const flipper = startAsNobody([process.execPath, '-e', FLIPPER, link, etc]);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const target = path.join(link, 'passwd');
      const codes: Record<string, number> = {};
      for (let i = 0; i < 1500; i++) {
        try {
          if (how === 'sync') dropIn.sync(target, 'PWNED\n');
          else if (how === 'async') await dropIn(target, 'PWNED\n');
          else tempfile.writeFileAtomicSync(target, 'PWNED\n', { followSymlinks: true });
          codes.ok = (codes.ok ?? 0) + 1;
        } catch (e) {
          const c = (e as NodeJS.ErrnoException).code ?? String(e);
          codes[c] = (codes[c] ?? 0) + 1;
        }
        expect(fs.readFileSync(victim, 'utf8'), `call ${i}: ${JSON.stringify(codes)}`).toBe('ORIGINAL\n');
      }
      expect(ls(etc)).toEqual(['passwd']);
      // every call met the link (refused) or nothing (ENOENT): none was written anywhere
      expect(Object.keys(codes).sort()).toEqual(expect.arrayContaining(['EACCES', 'ENOENT']));
      expect(codes.ok ?? 0).toBe(0);
      expect(flipper.running, 'the flipper ran all along').toBe(true);
    } finally {
      await flipper.stop();
    }
  }, 60_000);
});
