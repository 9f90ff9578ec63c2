// Directories on Windows: mkdtemp (a protected DACL granting only the current user, not the
// ACL the parent would hand down) and TemporaryDirectory, whose cleanup removes the tree
// through handles opened relative to their parent, never following a reparse point.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { UNDER_WINE, childSync, ls, native, rejected, scratch, t, thrown } from './_helpers.mjs';

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());

let n = 0;
const fresh = () => {
  const d = path.join(s.dir, `d${n++}`);
  fs.mkdirSync(d);
  return d;
};

/** A tree with what removal must cope with: nesting, a read-only file, unicode, a long path. */
function fill(root) {
  fs.mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  fs.writeFileSync(path.join(root, 'top.txt'), 't');
  fs.writeFileSync(path.join(root, 'a/b/c/deep.txt'), 'd');
  fs.writeFileSync(path.join(root, 'a/é😀 ünï.txt'), 'u');
  fs.mkdirSync(path.join(root, 'a/empty'));
  fs.writeFileSync(path.join(root, 'a/ro.txt'), 'r');
  fs.chmodSync(path.join(root, 'a/ro.txt'), 0o444); // FILE_ATTRIBUTE_READONLY
  let d = path.join(root, 'long');
  for (let i = 0; i < 10; i++) d = path.join(d, `${i}-${'x'.repeat(30)}`);
  fs.mkdirSync(d, { recursive: true }); // over MAX_PATH (260)
  fs.writeFileSync(path.join(d, 'bottom.txt'), 'b');
  return d.length;
}

describe('mkdtemp', () => {
  it('creates prefix + 12 random characters + suffix, usable, kept', async () => {
    const dir = fresh();
    const a = t.mkdtempSync({ dir, prefix: 'pre-', suffix: '.d' });
    const b = await t.mkdtemp({ dir });
    assert.match(path.basename(a), /^pre-[a-z0-9]{12}\.d$/);
    assert.match(path.basename(b), /^tmp[a-z0-9]{12}$/);
    for (const d of [a, b]) {
      assert.ok(fs.statSync(d).isDirectory());
      fs.writeFileSync(path.join(d, 'x'), 'y');
    }
    assert.equal(ls(dir).length, 2);
  });

  it('a missing parent: ENOENT (sync and async)', async () => {
    const dir = fresh();
    assert.equal(thrown(() => t.mkdtempSync({ dir: path.join(dir, 'nope') })).code, 'ENOENT');
    assert.equal((await rejected(t.mkdtemp({ dir: path.join(dir, 'nope') }))).code, 'ENOENT');
  });

  it('a DACL of its own: one entry, full control for the current user, inherited by what is inside', (ctx) => {
    if (UNDER_WINE) return ctx.skip('Wine keeps ACLs only as Unix mode bits and its icacls prints nothing: atomic.test.mjs checks what Wine shows (no Everyone entry, the owner granted)');
    const d = t.mkdtempSync({ dir: fresh() });
    const { fd, path: inner } = t.mkstempSync({ dir: d });
    fs.closeSync(fd);
    const aces = (p) =>
      execFileSync('icacls', [p], { encoding: 'utf8' })
        .split(/\r?\n/)
        .map((l) => l.replace(p, '').trim())
        .filter((l) => /:\(/.test(l));
    const dirAces = aces(d);
    assert.equal(dirAces.length, 1, dirAces.join(' | '));
    assert.match(dirAces[0], /:\(OI\)\(CI\)\(F\)$/); // not (I): nothing inherited from %TEMP%
    const who = execFileSync('whoami', { encoding: 'utf8' }).trim().split('\\').pop().toLowerCase();
    assert.ok(dirAces[0].toLowerCase().includes(who), `${dirAces[0]} is not ${who}`);
    const fileAces = aces(inner);
    assert.equal(fileAces.length, 1, fileAces.join(' | '));
    assert.match(fileAces[0], /:\(F\)$/);
  });
});

describe('TemporaryDirectory', () => {
  it('cleanup removes the whole tree: nested, read-only file, unicode, deeper than MAX_PATH', async () => {
    const dir = fresh();
    for (const sync of [true, false]) {
      const td = sync ? t.TemporaryDirectorySync({ dir }) : await t.TemporaryDirectory({ dir });
      const deepest = fill(td.path);
      assert.ok(deepest > 260, `${deepest}`);
      if (sync) td.cleanupSync();
      else await td.cleanup();
      assert.equal(fs.existsSync(td.path), false);
    }
    assert.deepEqual(ls(dir), []);
  });

  it('a file someone holds open (sharing delete, as fs does) is still removed, at once or at its close', async () => {
    const dir = fresh();
    const td = t.TemporaryDirectorySync({ dir });
    fill(td.path);
    const fd = fs.openSync(path.join(td.path, 'a/b/c/deep.txt'), 'r');
    let err = null;
    try {
      td.cleanupSync();
    } catch (e) {
      err = e;
    }
    fs.closeSync(fd);
    if (err) {
      // No POSIX-semantics delete (Wine 8, older Windows): the name stays until the
      // handle closes, so its directories are not empty yet. Everything else went.
      assert.equal(err.code, 'ENOTEMPTY', err.message);
      assert.deepEqual(ls(td.path), ['a']);
      assert.equal(td.cleaned, true); // a second cleanup does nothing: remove what is left directly
      native.removeTreeSync(td.path);
    }
    assert.equal(fs.existsSync(td.path), false);
  });

  it('removed at process exit when never cleaned up', () => {
    const dir = fresh();
    const r = childSync(`const td = t.TemporaryDirectorySync({ dir }); fs.writeFileSync(path.join(td.path, 'f'), 'x');
      fs.writeFileSync(path.join(dir, 'ready'), path.basename(td.path)); process.exit(0);`, dir);
    assert.equal(r.status, 0);
    assert.match(fs.readFileSync(path.join(dir, 'ready'), 'utf8'), /^tmp[a-z0-9]{12}$/);
    assert.deepEqual(ls(dir), ['ready']);
  });
});

describe('tree removal never follows a link', () => {
  // Under Wine 8, junctions are ENOTSUP and symbolic links are not created at all; a Linux
  // symlink shows as what it points to. scripts/wine-smoke.mjs says the same at the addon
  // level. These run for real on a Windows runner (.github/workflows/prebuild.yml).
  const outside = () => {
    const o = fresh();
    fs.mkdirSync(path.join(o, 'dir'));
    fs.writeFileSync(path.join(o, 'dir/keep.txt'), 'keep dir');
    fs.writeFileSync(path.join(o, 'file.txt'), 'keep file');
    return o;
  };
  const tryLink = (ctx, target, link, type) => {
    try {
      fs.symlinkSync(target, link, type);
      fs.lstatSync(link);
      return true;
    } catch (e) {
      if (UNDER_WINE) ctx.skip(`Wine cannot make a ${type === 'junction' ? 'junction' : `${type} symbolic link`} (${e.code}): reparse points cannot be exercised here`);
      else if (type !== 'junction' && e.code === 'EPERM') ctx.skip('symbolic links need developer mode or SeCreateSymbolicLinkPrivilege here');
      else throw e;
      return false;
    }
  };

  it('a junction to a directory outside: the junction goes, what it points to stays', (ctx) => {
    const o = outside();
    const td = t.TemporaryDirectorySync({ dir: fresh() });
    if (!tryLink(ctx, path.join(o, 'dir'), path.join(td.path, 'j'), 'junction')) return td.cleanupSync();
    td.cleanupSync();
    assert.equal(fs.existsSync(td.path), false);
    assert.equal(fs.readFileSync(path.join(o, 'dir/keep.txt'), 'utf8'), 'keep dir');
  });

  it('symbolic links to a file and to a directory outside: removed, never followed', (ctx) => {
    const o = outside();
    const td = t.TemporaryDirectorySync({ dir: fresh() });
    if (!tryLink(ctx, path.join(o, 'file.txt'), path.join(td.path, 'fl'), 'file')) return td.cleanupSync();
    if (!tryLink(ctx, path.join(o, 'dir'), path.join(td.path, 'dl'), 'dir')) return td.cleanupSync();
    td.cleanupSync();
    assert.equal(fs.existsSync(td.path), false);
    assert.equal(fs.readFileSync(path.join(o, 'file.txt'), 'utf8'), 'keep file');
    assert.equal(fs.readFileSync(path.join(o, 'dir/keep.txt'), 'utf8'), 'keep dir');
  });
});
