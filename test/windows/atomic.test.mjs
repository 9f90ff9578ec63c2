// writeFileAtomic and the Windows-only rules of issue 11, finding 9 (native/win32.cc):
// - the replaced file's DACL is kept (copied to the temp file at its creation) when that
//   file is trusted (ours, one link), and nothing is taken from one that is not;
// - the replacement stays in the directory the handle opened in begin holds: commit
//   renames and cleans up relative to that handle, never by path again;
// - a directory (or a target path) with a part ending in a dot or a space is refused:
//   Win32 would strip it and make the object elsewhere than the path handed back;
// - creation's owner-only DACL names the process token's user, the same for sync and async.
// Security descriptors are read and set with build-win32/sddl.exe (scripts/win32/sddl.c,
// ST_WIN_SDDL, set by scripts/test-windows.mjs: Wine's icacls is a stub), else PowerShell.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UNDER_WINE, internals, ls, native, rejected, scratch, t, thrown } from './_helpers.mjs';

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());
afterEach(() => {
  internals.internals.beforeAtomicCommit = null;
});

let n = 0;
const fresh = () => {
  const d = path.join(s.dir, `a${n++}`);
  fs.mkdirSync(d);
  return d;
};
const read = (p) => fs.readFileSync(p, 'utf8');

/** The owner and DACL of `p` in SDDL: "O:<sid>D:<flags>(ace)(ace)...". */
function getSddl(p) {
  const exe = process.env.ST_WIN_SDDL;
  const r = exe
    ? spawnSync(exe, ['get', p], { encoding: 'utf8', windowsHide: true })
    : spawnSync('powershell.exe', ['-NoProfile', '-Command', `(Get-Acl -LiteralPath '${p}').GetSecurityDescriptorSddlForm('Owner,Access')`], { encoding: 'utf8', windowsHide: true });
  assert.equal(r.status, 0, `reading the security descriptor of ${p}: ${r.stderr} ${r.error ?? ''}`);
  return r.stdout.trim();
}

/** Gives `p` the DACL of `sddl` as it is (no inheritance applied). */
function setDacl(p, sddl) {
  const exe = process.env.ST_WIN_SDDL;
  const r = exe
    ? spawnSync(exe, ['set', p, sddl], { encoding: 'utf8', windowsHide: true })
    : spawnSync('powershell.exe', ['-NoProfile', '-Command', `$a = Get-Acl -LiteralPath '${p}'; $a.SetSecurityDescriptorSddlForm('${sddl}', 'Access'); Set-Acl -LiteralPath '${p}' -AclObject $a`], { encoding: 'utf8', windowsHide: true });
  assert.equal(r.status, 0, `setting the DACL of ${p}: ${r.stderr} ${r.error ?? ''}`);
}

const owner = (sddl) => /^O:([^D]+)D:/.exec(sddl)?.[1];
const dacl = (sddl) => sddl.slice(sddl.indexOf('D:'));
/** The ACEs of a DACL, without its control flags (Windows may add AI, auto-inherited). */
const aces = (sddl) => dacl(sddl).replace(/^D:[A-Z]*/, '');
const isProtected = (sddl) => /^D:[A-Z]*P/.test(dacl(sddl));
/** An ACE for Everyone (WD) or BUILTIN\Users (BU): what the restricted file must not get. */
const forEveryone = (sddl) => /;(WD|BU|AU)\)/.test(dacl(sddl));

/** A file `name` in `dir` holding 'secret', its DACL restricted to its owner alone. */
function restricted(dir, name = 'secret') {
  const target = path.join(dir, name);
  fs.writeFileSync(target, 'secret');
  const me = owner(getSddl(target));
  assert.ok(me, getSddl(target));
  setDacl(target, `D:P(A;;FA;;;${me})`);
  const sd = getSddl(target);
  // The planted DACL took: nobody else is granted anything.
  assert.equal(forEveryone(sd), false, sd);
  return { target, sd };
}

const forms = [
  ['writeFileAtomicSync, data whole', async (p, d) => t.writeFileAtomicSync(p, d)],
  ['writeFileAtomic, data whole', (p, d) => t.writeFileAtomic(p, d)],
  ['writeFileAtomicSync, chunks (begin, writes from JavaScript, commit)', async (p, d) => t.writeFileAtomicSync(p, [d.slice(0, 2), d.slice(2)])],
  ['writeFileAtomic, chunks', (p, d) => t.writeFileAtomic(p, [d.slice(0, 2), d.slice(2)])],
];

describe('writeFileAtomic keeps the replaced file\'s DACL', () => {
  for (const [form, write] of forms) {
    it(`${form}: a target readable only by its owner stays so`, async () => {
      const dir = fresh();
      const { target, sd } = restricted(dir);
      await write(target, 'new secret');
      assert.equal(read(target), 'new secret');
      const now = getSddl(target);
      assert.equal(forEveryone(now), false, `the replaced file's DACL was dropped: ${sd} -> ${now}`);
      assert.equal(aces(now), aces(sd));
      assert.equal(isProtected(now), isProtected(sd), `${sd} -> ${now}`);
      assert.deepEqual(ls(dir), ['secret']);
    });
  }

  it('a new file (nothing replaced) gets what the directory gives new files, as before', () => {
    const dir = fresh();
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, 'made by fs');
    const target = path.join(dir, 'new');
    t.writeFileAtomicSync(target, 'x');
    assert.equal(aces(getSddl(target)), aces(getSddl(plain)));
  });

  it('nothing is taken from a target with two links (not ours alone): not its DACL, not its read-only attribute', () => {
    const dir = fresh();
    const { target } = restricted(dir, 'linked');
    fs.linkSync(target, path.join(dir, 'other-name'));
    fs.chmodSync(target, 0o444);
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, 'made by fs');
    t.writeFileAtomicSync(target, 'new');
    assert.equal(read(target), 'new');
    assert.notEqual(fs.statSync(target).mode & 0o200, 0, 'the read-only attribute came from a hard-linked target');
    assert.equal(aces(getSddl(target)), aces(getSddl(plain)), 'a DACL was copied from a hard-linked target');
    assert.equal(read(path.join(dir, 'other-name')), 'secret');
    fs.chmodSync(path.join(dir, 'other-name'), 0o666);
  });
});

describe('writeFileAtomic commits in the directory it opened', () => {
  it('the directory swapped before the commit: the file lands in the one held, a name planted in the new one is untouched', async (tc) => {
    const base = fresh();
    const dir = path.join(base, 'd');
    const moved = path.join(base, 'moved');
    fs.mkdirSync(dir);
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'old');
    let swapped = null;
    internals.internals.beforeAtomicCommit = () => {
      // The attacker: moves our directory away, makes a new one at its path, and plants a
      // file under the temp file's name there (renamed over the target by a path-based commit).
      try {
        fs.renameSync(dir, moved);
      } catch (e) {
        swapped = e;
        return;
      }
      fs.mkdirSync(dir);
      const tmp = ls(moved).filter((x) => x !== 'target');
      assert.equal(tmp.length, 1, String(tmp));
      fs.writeFileSync(path.join(dir, tmp[0]), 'planted');
      fs.writeFileSync(path.join(dir, 'target'), 'attacker');
      swapped = tmp[0];
    };
    const err = await t.writeFileAtomic(target, 'new').then(() => null, (e) => e);
    if (swapped instanceof Error) {
      // Real Windows refuses to rename a directory with an open file in it.
      assert.ok(!UNDER_WINE, `renaming the directory failed under Wine: ${swapped.message}`);
      tc.skip(`Windows does not rename a directory holding an open file (${swapped.code})`);
      return;
    }
    const state = () => JSON.stringify({ held: Object.fromEntries(ls(moved).map((x) => [x, read(path.join(moved, x))])), swapped: Object.fromEntries(ls(dir).map((x) => [x, read(path.join(dir, x))])) });
    if (UNDER_WINE && err === null && read(path.join(dir, 'target')) === 'planted') {
      // Wine's server renames by the Unix path a handle was opened with, not by the object:
      // the name was checked to be ours through the held handle, then Wine renamed whatever
      // that path names now. Windows renames the object the handle is open on.
      tc.skip(`Wine renames by the path a handle was opened with, not the open object: ${state()}`);
      return;
    }
    assert.equal(err, null, `commit failed: ${err?.message} ${state()}`);
    assert.equal(read(path.join(moved, 'target')), 'new', state());
    assert.deepEqual(ls(moved), ['target']);
    assert.equal(read(path.join(dir, 'target')), 'attacker');
    assert.equal(read(path.join(dir, swapped)), 'planted');
    assert.deepEqual(ls(dir).sort(), [swapped, 'target'].sort());
  });

  it('the temp name replaced before the commit: nothing of anyone else\'s is renamed, the target untouched', () => {
    const dir = fresh();
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'old');
    let tmp = null;
    internals.internals.beforeAtomicCommit = () => {
      tmp = ls(dir).find((x) => x !== 'target');
      // Ours renamed away (delete sharing allows it), another file made under its name.
      fs.renameSync(path.join(dir, tmp), path.join(dir, 'ours-moved'));
      fs.writeFileSync(path.join(dir, tmp), 'planted');
    };
    const e = thrown(() => t.writeFileAtomicSync(target, 'new'));
    assert.equal(e.syscall, 'rename', e.message);
    assert.equal(read(target), 'old');
    assert.equal(read(path.join(dir, tmp)), 'planted');
    fs.rmSync(path.join(dir, 'ours-moved'), { force: true });
  });
});

describe('a directory with a part ending in a dot or a space is refused', () => {
  for (const trail of ['.', ' ', '...', ' .']) {
    it(`${JSON.stringify(trail)}: every entry point throws ERR_INVALID_ARG_VALUE and nothing is created`, async () => {
      const real = fresh();
      const dir = real + trail; // Win32 opens this as `real`
      const bad = [
        () => t.mkstempSync({ dir }),
        () => t.mkdtempSync({ dir }),
        () => t.NamedTemporaryFileSync({ dir }),
        () => t.TemporaryFileSync({ dir }),
        () => t.writeFileAtomicSync(path.join(dir, 'target'), 'x'),
        () => t.mkstempSync({ dir: path.join(dir, 'sub') }),
      ];
      for (const fn of bad) {
        const e = thrown(fn);
        assert.ok(e instanceof TypeError, e.message);
        assert.equal(e.code, 'ERR_INVALID_ARG_VALUE', e.message);
        assert.match(e.message, /ends with a dot or a space/);
      }
      for (const fn of [() => t.mkstemp({ dir }), () => t.mkdtemp({ dir }), () => t.writeFileAtomic(path.join(dir, 'target'), 'x')])
        assert.equal((await rejected(Promise.resolve().then(fn))).code, 'ERR_INVALID_ARG_VALUE');
      assert.deepEqual(ls(real), []);
    });
  }

  it('a target whose own name ends in a dot: refused, nothing created', () => {
    const dir = fresh();
    const e = thrown(() => t.writeFileAtomicSync(path.join(dir, 'target.'), 'x'));
    assert.equal(e.code, 'ERR_INVALID_ARG_VALUE', e.message);
    assert.deepEqual(ls(dir), []);
  });

  it('the addon itself, called past the TypeScript checks: EINVAL, nothing created', () => {
    const real = fresh();
    for (const dir of [`${real}.`, `${real} `, `${real}.\\`]) {
      for (const kind of [0, 1, 2]) {
        const e = thrown(() => native.createSync(dir, 'tmp', '', kind, 0, 0o600, null));
        assert.equal(e.code, 'EINVAL', `${JSON.stringify(dir)} kind ${kind}: ${e.code} ${e.message}`);
      }
      const e = thrown(() => native.atomicBeginSync(dir, 'target', '.target.', '.tmp', 0, null, 0o666));
      assert.equal(e.code, 'EINVAL', `${JSON.stringify(dir)} atomicBegin: ${e.code} ${e.message}`);
    }
    assert.deepEqual(ls(real), []);
  });

  it('dots and spaces inside a part are kept: "a.b", "x y"', () => {
    const dir = path.join(fresh(), 'a.b x y');
    fs.mkdirSync(dir);
    const { fd, path: p } = t.mkstempSync({ dir });
    fs.closeSync(fd);
    assert.equal(path.dirname(p), dir);
    assert.deepEqual(ls(dir), [path.basename(p)]);
  });
});

describe('the owner-only DACL of created objects', () => {
  it('names one user, the owner, the same for sync and async creation', async () => {
    const dir = fresh();
    const a = t.mkstempSync({ dir });
    fs.closeSync(a.fd);
    const b = await t.mkstemp({ dir });
    fs.closeSync(b.fd);
    const d1 = t.mkdtempSync({ dir });
    const d2 = await t.mkdtemp({ dir });
    const [sa, sb] = [getSddl(a.path), getSddl(b.path)];
    assert.equal(sa, sb);
    assert.equal(getSddl(d1), getSddl(d2));
    assert.equal(forEveryone(sa), false, sa);
    // One user is granted anything: the owner.
    const sids = new Set([...dacl(sa).matchAll(/\(A;[^;]*;[^;]*;;;([^)]+)\)/g)].map((m) => m[1]));
    assert.ok(sids.has(owner(sa)), sa);
  });
});
