// followSymlinks (securetemp/write-file-atomic follows links, as write-file-atomic does): another
// user's link planted in a shared directory is never followed (the kernel's protected_symlinks
// rule, EACCES), while the user's own links, and links in directories only their owner writes,
// are. write-file-atomic itself follows the planted link: root rewrites the planter's choice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, ls, scratch, tempfile } from '../_helpers';
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
