// Attack class: a named object found again by path after its creation (issue 12). A named file
// used to be deleted with lstat + unlink of its path, persisted by checking its path and renaming
// it, reopened (off Linux) by opening its path, and a TemporaryDirectory removed by opening its
// parent anew: whoever redirected a component of that path between creation and use (renamed the
// directory away and put a directory, or a symlink to one, of the same name in its place, holding
// an entry of the same name) decided what was removed, and the original stayed or was refused.
// Now each object holds the handle of the directory it was made in (a process-wide table keyed
// by device and inode) and works through it: fstatat + device/inode + unlinkat for a file;
// contents through its own handle and unlinkat(parent, name, AT_REMOVEDIR) for a directory;
// linkat from the descriptor (Linux) or renameat relative to the handle for persist; openat +
// device/inode for reopen.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ls, scratch, tempfile } from '../_helpers';
import { openTargets, sw } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
afterEach(() => {
  sw.forceReopenByPath = false;
});

let n = 0;
/** A fresh `base/sub` to create in, and how to redirect `sub` once something is made there. */
function setup() {
  const base = path.join(s.dir, `r${n++}`);
  const sub = path.join(base, 'sub');
  fs.mkdirSync(sub, { recursive: true });
  const moved = path.join(base, 'moved');
  return {
    base,
    sub,
    moved,
    /** sub renamed to moved; in its place a directory (or a symlink to one) holding `name`, made by `plant`. */
    redirect(name: string, how: 'dir' | 'symlink', plant: (p: string) => void) {
      fs.renameSync(sub, moved);
      const decoy = how === 'dir' ? sub : path.join(base, 'decoy');
      fs.mkdirSync(decoy);
      if (how === 'symlink') fs.symlinkSync(decoy, sub);
      plant(path.join(decoy, name));
      return path.join(decoy, name);
    },
  };
}

const forms = [
  ['sync', 'dir'],
  ['sync', 'symlink'],
  ['async', 'dir'],
  ['async', 'symlink'],
] as const;

describe('redirect after creation: only the original is touched', () => {
  it.each(forms)('NamedTemporaryFile (%s close), its directory replaced by a %s holding the same name', async (form, how) => {
    const t = setup();
    const f = form === 'sync' ? tempfile.NamedTemporaryFileSync({ dir: t.sub }) : await tempfile.NamedTemporaryFile({ dir: t.sub });
    const name = path.basename(f.path!);
    const decoy = t.redirect(name, how, (p) => fs.writeFileSync(p, 'decoy'));
    if (form === 'sync') f.closeSync();
    else await f.close();
    expect(fs.readFileSync(decoy, 'utf8')).toBe('decoy'); // not ours: left alone
    expect(ls(t.moved)).toEqual([]); // ours: removed where it is now
  });

  it.each(forms)('NamedTemporaryFile at exit (%s creation), its directory replaced by a %s holding the same name', (form, how) => {
    const t = setup();
    const decoyDir = how === 'dir' ? t.sub : path.join(t.base, 'decoy');
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `const t = require('securetemp'), fs = require('fs'), path = require('path');
         (async () => {
           const f = ${form === 'sync' ? 't.NamedTemporaryFileSync' : 'await t.NamedTemporaryFile'}({ dir: ${JSON.stringify(t.sub)} });
           const name = path.basename(f.path);
           fs.renameSync(${JSON.stringify(t.sub)}, ${JSON.stringify(t.moved)});
           fs.mkdirSync(${JSON.stringify(decoyDir)});
           ${how === 'symlink' ? `fs.symlinkSync(${JSON.stringify(decoyDir)}, ${JSON.stringify(t.sub)});` : ''}
           fs.writeFileSync(path.join(${JSON.stringify(decoyDir)}, name), 'decoy');
           console.log(name);
         })();`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    const name = r.stdout.trim();
    expect(fs.readFileSync(path.join(decoyDir, name), 'utf8')).toBe('decoy');
    expect(ls(t.moved)).toEqual([]);
  });

  it.each(forms)('TemporaryDirectory (%s cleanup), its parent replaced by a %s holding a directory of the same name', async (form, how) => {
    const t = setup();
    const d = form === 'sync' ? tempfile.TemporaryDirectorySync({ dir: t.sub }) : await tempfile.TemporaryDirectory({ dir: t.sub });
    fs.mkdirSync(path.join(d.path, 'inner'));
    fs.writeFileSync(path.join(d.path, 'inner', 'ours'), 'ours');
    const name = path.basename(d.path);
    const decoy = t.redirect(name, how, (p) => {
      fs.mkdirSync(p);
      fs.writeFileSync(path.join(p, 'theirs'), 'decoy');
    });
    if (form === 'sync') d.cleanupSync();
    else await d.cleanup();
    expect(ls(decoy)).toEqual(['theirs']); // not ours: untouched
    expect(ls(t.moved)).toEqual([]); // ours: contents and itself removed where it is now
  });

  it.each(['sync', 'async'] as const)('TemporaryDirectory (%s cleanup) moved away whole, a directory of the same name in its place: the decoy stays, ours is emptied (its name is no longer ours to remove)', async (form) => {
    const t = setup();
    const d = form === 'sync' ? tempfile.TemporaryDirectorySync({ dir: t.sub }) : await tempfile.TemporaryDirectory({ dir: t.sub });
    fs.writeFileSync(path.join(d.path, 'ours'), 'ours');
    const away = path.join(t.base, 'away');
    fs.renameSync(d.path, away);
    fs.mkdirSync(d.path);
    fs.writeFileSync(path.join(d.path, 'theirs'), 'decoy');
    if (form === 'sync') d.cleanupSync();
    else await d.cleanup();
    expect(ls(d.path)).toEqual(['theirs']);
    expect(ls(away)).toEqual([]);
  });

  it.each(forms)('persist of a NamedTemporaryFile (%s), its directory replaced by a %s holding the same name: the target gets our file, the decoy stays', async (form, how) => {
    for (const overwrite of [true, false]) {
      const t = setup();
      const f = form === 'sync' ? tempfile.NamedTemporaryFileSync({ dir: t.sub }) : await tempfile.NamedTemporaryFile({ dir: t.sub });
      f.writeSync(Buffer.from('ours'));
      const name = path.basename(f.path!);
      const decoy = t.redirect(name, how, (p) => fs.writeFileSync(p, 'decoy'));
      const target = path.join(t.base, `target-${overwrite}`);
      if (overwrite) fs.writeFileSync(target, 'old');
      if (form === 'sync') f.persistSync(target, { overwrite });
      else await f.persist(target, { overwrite });
      expect(f.path).toBe(target);
      f.closeSync();
      expect(fs.readFileSync(target, 'utf8')).toBe('ours');
      expect(fs.readFileSync(decoy, 'utf8')).toBe('decoy');
      expect(ls(t.moved)).toEqual([]); // the old name went, through the held handle
    }
  });

  it.each(forms)('reopen by name (as off Linux) of a NamedTemporaryFile (%s), its directory replaced by a %s holding the same name: our file, not the decoy', async (form, how) => {
    sw.forceReopenByPath = true;
    const t = setup();
    const f = tempfile.NamedTemporaryFileSync({ dir: t.sub });
    f.writeSync(Buffer.from('ours'));
    const name = path.basename(f.path!);
    const decoy = t.redirect(name, how, (p) => fs.writeFileSync(p, 'decoy'));
    const g = form === 'sync' ? f.reopenSync() : await f.reopen();
    expect(g.readSync().toString()).toBe('ours');
    g.closeSync();
    f.closeSync();
    expect(fs.readFileSync(decoy, 'utf8')).toBe('decoy');
    expect(ls(t.moved)).toEqual([]);
  });
});

describe('descriptor accounting: objects in one directory share one directory handle', () => {
  // 100,000 live named files need 100,000 descriptors of their own, plus one for the directory;
  // the child's limit is raised to that where the hard limit allows (root with CAP_SYS_RESOURCE),
  // else as many files as the hard limit allows (a container capped at 20,000: 19,000).
  const canRaise = spawnSync('/bin/sh', ['-c', 'ulimit -n 101000'], { stdio: 'ignore' }).status === 0;
  const hard = Number(spawnSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim()) || 1024;
  const COUNT = canRaise ? 100_000 : Math.max(Math.min(100_000, hard - 1000), 500);
  it(`${COUNT.toLocaleString('en')} live named files in one directory hold one directory handle; closing them all gives it back`, () => {
    const dir = path.join(s.dir, 'many');
    fs.mkdirSync(dir);
    const code = `
      const t = require('securetemp'), fs = require('fs');
      const { internals } = require('./dist/_internals.js');
      const dir = ${JSON.stringify(dir)};
      const files = [];
      for (let i = 0; i < ${COUNT}; i++) files.push(t.NamedTemporaryFileSync({ dir }));
      const targets = fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } });
      const out = { handles: internals.dirHandles(), dirOpen: targets.filter((p) => p === dir).length, files: targets.filter((p) => p.startsWith(dir + '/')).length };
      for (const f of files) f.closeSync();
      out.afterClose = fs.readdirSync(dir).length;
      internals.releaseIdleDirHandles();
      out.afterRelease = internals.dirHandles();
      console.log(JSON.stringify(out));`;
    const limit = Math.min(COUNT + 1000, canRaise ? 101000 : hard);
    const r = spawnSync('/bin/sh', ['-c', `ulimit -n ${limit} && exec "$0" -e "$1"`, process.execPath, code], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ handles: 1, dirOpen: 1, files: COUNT, afterClose: 0, afterRelease: 0 });
  }, 150_000);

  it('the idle cache is bounded: creations in many directories leave at most 8 handles nobody holds', () => {
    sw.releaseIdleDirHandles();
    const before = sw.dirHandles();
    const dirs: string[] = [];
    for (let i = 0; i < 20; i++) {
      const d = path.join(s.dir, `idle${i}`);
      fs.mkdirSync(d);
      dirs.push(d);
      const r = tempfile.mkstempSync({ dir: d });
      fs.closeSync(r.fd);
    }
    expect(sw.dirHandles() - before).toBe(8);
    expect(openTargets().filter((p) => dirs.includes(p))).toHaveLength(8);
    sw.releaseIdleDirHandles();
    expect(openTargets().filter((p) => dirs.includes(p))).toEqual([]);
  });

  it('a cached handle is reused only while the path still leads to its directory', () => {
    const base = path.join(s.dir, 'reuse');
    const a = path.join(base, 'a');
    fs.mkdirSync(a, { recursive: true });
    const f = tempfile.NamedTemporaryFileSync({ dir: a }); // holds a's handle
    fs.renameSync(a, path.join(base, 'a-old'));
    fs.mkdirSync(a);
    const g = tempfile.NamedTemporaryFileSync({ dir: a }); // a new directory at the same path
    expect(path.dirname(g.path!)).toBe(a);
    expect(ls(a)).toEqual([path.basename(g.path!)]);
    expect(ls(path.join(base, 'a-old'))).toEqual([path.basename(f.path!)]);
    f.closeSync();
    g.closeSync();
    expect(ls(a)).toEqual([]);
    expect(ls(path.join(base, 'a-old'))).toEqual([]);
  });
});
