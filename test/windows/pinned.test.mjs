// Named objects pinned to the directory they were made in, on Windows (issue 12). Each object
// holds a reference to a directory HANDLE in the addon's process-wide table (keyed by volume
// serial number and file index) and works through it: the name is opened relative to that
// handle (NtCreateFile with RootDirectory, never through a reparse point), compared with the
// object's own handle (volume and file index), and deleted, renamed or reopened through it.
// Before, a named file was deleted, persisted and reopened by its path, and a
// TemporaryDirectory removed by its path: whoever renamed the directory away and put another
// of the same name in its place, holding an entry of the same name, had that entry removed,
// moved or opened instead.
//
// Real Windows refuses to rename a directory while a handle below it is open (our file's, our
// directory's): there the redirect cannot even be set up, and the tests say so (skipped with
// the reason). Wine renames it (a rename(2) of the Unix directory), so under Wine the redirect
// happens. What Wine then shows: opens relative to the held handle reach our file where it is
// now (reopen gives ours), and the identity checks keep the decoy safe; but Wine deletes and
// renames by the Unix path each handle had when it was opened, so our original is left behind
// in the moved directory (a leftover, never a wrong deletion), and persist refuses
// (ERR_TEMPFILE_REPLACED: its extra check of the path) where Windows would rename ours.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UNDER_WINE, childSync, internals, ls, scratch, t } from './_helpers.mjs';

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());

let n = 0;
/** A fresh `base\sub` to create in, and how to redirect `sub` once something is made there. */
function setup() {
  const base = path.join(s.dir, `r${n++}`);
  const sub = path.join(base, 'sub');
  fs.mkdirSync(sub, { recursive: true });
  const moved = path.join(base, 'moved');
  return {
    base,
    sub,
    moved,
    /**
     * sub renamed to moved, and in its place a directory holding `name`, made by `plant`; the
     * decoy's path, or null where Windows refuses the rename (a handle below is open).
     */
    redirect(name, plant) {
      try {
        fs.renameSync(sub, moved);
      } catch (e) {
        if (e.code === 'EPERM' || e.code === 'EBUSY' || e.code === 'EACCES') return null;
        throw e;
      }
      fs.mkdirSync(sub);
      plant(path.join(sub, name));
      return path.join(sub, name);
    },
  };
}

/** Ours, removed where it is now; under Wine left there (see the top of this file). */
function originalGone(dir) {
  if (!UNDER_WINE) assert.deepEqual(ls(dir), []);
}

const NO_REDIRECT = 'this Windows refuses to rename a directory with an open handle below it: the redirect cannot be set up';
const forms = ['sync', 'async'];

describe('the directory handle table', () => {
  it('named files in one directory share one handle; it is closed with the last of them (no idle handles on Windows)', () => {
    const before = internals.internals.dirHandles();
    const dir = setup().sub;
    const files = Array.from({ length: 50 }, () => t.NamedTemporaryFileSync({ dir }));
    assert.equal(internals.internals.dirHandles(), before + 1);
    for (const f of files) f.closeSync();
    assert.deepEqual(ls(dir), []);
    assert.equal(internals.internals.dirHandles(), before);
  });

  it('a TemporaryDirectory holds its parent and itself; cleanup gives both back; TemporaryFile and mkstemp hold none', async () => {
    const before = internals.internals.dirHandles();
    const dir = setup().sub;
    const d = await t.TemporaryDirectory({ dir });
    assert.equal(internals.internals.dirHandles(), before + 2);
    const f = t.TemporaryFileSync({ dir });
    const { fd } = t.mkstempSync({ dir });
    fs.closeSync(fd);
    assert.equal(internals.internals.dirHandles(), before + 2);
    f.closeSync();
    await d.cleanup();
    assert.equal(internals.internals.dirHandles(), before);
    assert.equal(fs.existsSync(d.path), false);
  });

  it('the held handle does not keep the directory from being renamed or removed once it is empty', () => {
    const t0 = setup();
    const f = t.NamedTemporaryFileSync({ dir: t0.sub, delete: false });
    const p = f.path;
    f.closeSync();
    fs.unlinkSync(p);
    fs.renameSync(t0.sub, t0.moved);
    fs.rmdirSync(t0.moved);
    assert.deepEqual(ls(t0.base), []);
  });
});

describe('redirect after creation: only the original is touched', () => {
  for (const form of forms) {
    it(`NamedTemporaryFile (${form} close), its directory replaced by one holding the same name`, async (ctx) => {
      const r = setup();
      const f = form === 'sync' ? t.NamedTemporaryFileSync({ dir: r.sub }) : await t.NamedTemporaryFile({ dir: r.sub });
      const name = path.basename(f.path);
      const decoy = r.redirect(name, (p) => fs.writeFileSync(p, 'decoy'));
      if (decoy === null) {
        f.closeSync();
        return ctx.skip(NO_REDIRECT);
      }
      if (form === 'sync') f.closeSync();
      else await f.close();
      assert.equal(fs.readFileSync(decoy, 'utf8'), 'decoy'); // not ours: left alone
      originalGone(r.moved); // ours: removed where it is now
    });

    it(`TemporaryDirectory (${form} cleanup), its parent replaced by one holding a directory of the same name`, async (ctx) => {
      const r = setup();
      const d = form === 'sync' ? t.TemporaryDirectorySync({ dir: r.sub }) : await t.TemporaryDirectory({ dir: r.sub });
      fs.mkdirSync(path.join(d.path, 'inner'));
      fs.writeFileSync(path.join(d.path, 'inner', 'ours'), 'ours');
      const name = path.basename(d.path);
      const decoy = r.redirect(name, (p) => {
        fs.mkdirSync(p);
        fs.writeFileSync(path.join(p, 'theirs'), 'decoy');
      });
      if (decoy === null) {
        d.cleanupSync();
        return ctx.skip(NO_REDIRECT);
      }
      try {
        if (form === 'sync') d.cleanupSync();
        else await d.cleanup();
      } catch (e) {
        if (!UNDER_WINE) throw e; // Wine: ENOTEMPTY, our contents could not be deleted by their old paths
      }
      assert.deepEqual(ls(decoy), ['theirs']); // not ours: untouched
      originalGone(r.moved); // ours: contents and itself removed where it is now
    });

    it(`TemporaryDirectory (${form} cleanup) moved away whole, another in its place: the decoy stays, ours is emptied`, async (ctx) => {
      const r = setup();
      const d = form === 'sync' ? t.TemporaryDirectorySync({ dir: r.sub }) : await t.TemporaryDirectory({ dir: r.sub });
      fs.writeFileSync(path.join(d.path, 'ours'), 'ours');
      const away = path.join(r.base, 'away');
      try {
        fs.renameSync(d.path, away);
      } catch (e) {
        if (!['EPERM', 'EBUSY', 'EACCES'].includes(e.code)) throw e;
        d.cleanupSync();
        return ctx.skip(NO_REDIRECT);
      }
      fs.mkdirSync(d.path);
      fs.writeFileSync(path.join(d.path, 'theirs'), 'decoy');
      try {
        if (form === 'sync') d.cleanupSync();
        else await d.cleanup();
      } catch (e) {
        if (!UNDER_WINE) throw e;
      }
      assert.deepEqual(ls(d.path), ['theirs']);
      originalGone(away);
    });

    it(`persist of a NamedTemporaryFile (${form}), its directory replaced by one holding the same name: the target gets our file, the decoy stays`, async (ctx) => {
      for (const overwrite of [true, false]) {
        const r = setup();
        const f = form === 'sync' ? t.NamedTemporaryFileSync({ dir: r.sub }) : await t.NamedTemporaryFile({ dir: r.sub });
        f.writeSync(Buffer.from('ours'));
        const name = path.basename(f.path);
        const decoy = r.redirect(name, (p) => fs.writeFileSync(p, 'decoy'));
        if (decoy === null) {
          f.closeSync();
          return ctx.skip(NO_REDIRECT);
        }
        const target = path.join(r.base, `target-${overwrite}`);
        if (overwrite) fs.writeFileSync(target, 'old');
        const persist = () => (form === 'sync' ? Promise.resolve().then(() => f.persistSync(target, { overwrite })) : f.persist(target, { overwrite }));
        if (UNDER_WINE) {
          // Wine would rename by the old path, i.e. the decoy: refused, nothing moved.
          await assert.rejects(persist(), { code: 'ERR_TEMPFILE_REPLACED' });
          f.closeSync();
          assert.equal(fs.readFileSync(decoy, 'utf8'), 'decoy');
          if (overwrite) assert.equal(fs.readFileSync(target, 'utf8'), 'old');
          else assert.equal(fs.existsSync(target), false);
          continue;
        }
        await persist();
        assert.equal(f.path, target);
        f.closeSync();
        assert.equal(fs.readFileSync(target, 'utf8'), 'ours');
        assert.equal(fs.readFileSync(decoy, 'utf8'), 'decoy');
        assert.deepEqual(ls(r.moved), []); // renamed from where it is now, through the held handle
      }
    });

    it(`reopen of a NamedTemporaryFile (${form}), its directory replaced by one holding the same name: our file, not the decoy`, async (ctx) => {
      const r = setup();
      const f = t.NamedTemporaryFileSync({ dir: r.sub });
      f.writeSync(Buffer.from('ours'));
      const name = path.basename(f.path);
      const decoy = r.redirect(name, (p) => fs.writeFileSync(p, 'decoy'));
      if (decoy === null) {
        f.closeSync();
        return ctx.skip(NO_REDIRECT);
      }
      const g = form === 'sync' ? f.reopenSync() : await f.reopen();
      assert.equal(g.readSync().toString(), 'ours');
      g.closeSync();
      f.closeSync();
      assert.equal(fs.readFileSync(decoy, 'utf8'), 'decoy');
      originalGone(r.moved);
    });
  }

  it('the name replaced in place (ours renamed away in the same directory, another file made there): close leaves theirs, reopen and persist refuse', async () => {
    const r = setup();
    for (const op of ['close', 'reopen', 'persist']) {
      const f = t.NamedTemporaryFileSync({ dir: r.sub });
      const aside = `${f.path}.aside`;
      fs.renameSync(f.path, aside);
      fs.writeFileSync(f.path, 'theirs');
      if (op === 'reopen') assert.throws(() => f.reopenSync(), { code: 'ERR_TEMPFILE_REPLACED' });
      if (op === 'persist') await assert.rejects(f.persist(path.join(r.base, 'target')), { code: 'ERR_TEMPFILE_REPLACED' });
      f.closeSync();
      assert.equal(fs.readFileSync(f.path, 'utf8'), 'theirs');
      fs.unlinkSync(f.path);
      fs.unlinkSync(aside);
    }
    assert.equal(fs.existsSync(path.join(r.base, 'target')), false);
  });

  it('at exit: a NamedTemporaryFile whose directory was replaced by one holding the same name', () => {
    const r = setup();
    const code = `
      const f = t.NamedTemporaryFileSync({ dir: path.join(dir, 'sub') });
      const name = path.basename(f.path);
      try { fs.renameSync(path.join(dir, 'sub'), path.join(dir, 'moved')); } catch (e) { fs.writeFileSync(path.join(dir, 'norename'), e.code); process.exit(0); }
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.writeFileSync(path.join(dir, 'sub', name), 'decoy');
      fs.writeFileSync(path.join(dir, 'name'), name);`;
    const c = childSync(code, r.base);
    assert.equal(c.status, 0);
    if (fs.existsSync(path.join(r.base, 'norename'))) return;
    const name = fs.readFileSync(path.join(r.base, 'name'), 'utf8');
    assert.equal(fs.readFileSync(path.join(r.sub, name), 'utf8'), 'decoy');
    originalGone(r.moved);
  });
});
