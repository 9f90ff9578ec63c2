// securetemp/tmp on Windows: the directory is opened by path (through reparse points, as any
// Win32 open) and the handle's final path must be tmpdir's or below it, so a junction swapped
// in after tmp's realpath check cannot lead creation out (issue 11, finding 3; the race itself
// is tested on Linux, test/security/tmp-dir-swap.test.ts). Here: the addon's `beneath` mode.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, UNDER_WINE, ls, native, scratch } from './_helpers.mjs';

const require = createRequire(import.meta.url);
const tmp = require(path.join(ROOT, 'dist/compat/tmp.js'));

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());

let n = 0;
function layout() {
  const base = path.join(s.dir, `b${n++}`);
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.mkdirSync(outside);
  return { root, outside };
}

/** A junction root/evil -> outside; false (the test skipped, with why) under Wine, which cannot make one. */
function junction(ctx, { root, outside }) {
  try {
    fs.symlinkSync(outside, path.join(root, 'evil'), 'junction');
    return true;
  } catch (e) {
    if (!UNDER_WINE) throw e;
    ctx.skip(`Wine cannot make a junction (${e.code}): the escape is tested on a real Windows runner, and on Linux`);
    return false;
  }
}

const create = (root, rel, kind) => native.createSync(rel, '', '', kind, 0, kind === 1 ? 0o700 : 0o600, ['made'], root);

describe('the addon with beneath', () => {
  it('inside: the root itself and a subdirectory', () => {
    const { root } = layout();
    assert.deepEqual(create(root, 'sub', 1), ['made', -1, -1]); // no identity on Windows
    const [fd, name] = create(root, '', 0);
    fs.closeSync(fd);
    assert.equal(name, 'made');
    assert.deepEqual(ls(path.join(root, 'sub')), ['made']);
  });

  it("'..' out of the root, to a sibling whose name the root's is a prefix of: ERR_OUTSIDE_ROOT", () => {
    const { root, outside } = layout();
    fs.mkdirSync(`${root}2`);
    for (const rel of ['..\\outside', '..\\root2', 'sub\\..\\..\\ROOT2']) {
      assert.throws(() => create(root, rel, 1), (e) => e.code === 'ERR_OUTSIDE_ROOT' && e.root === root, rel);
    }
    assert.deepEqual([...ls(outside), ...ls(`${root}2`)], []);
    assert.equal(create(root, 'sub\\..\\..\\ROOT\\sub', 1)[0], 'made'); // back inside, any case
  });

  it('a junction out of the root: ERR_OUTSIDE_ROOT, nothing created outside', (ctx) => {
    const l = layout();
    if (!junction(ctx, l)) return;
    const { root, outside } = l;
    for (const kind of [0, 1, 2]) {
      assert.throws(() => create(root, 'evil', kind), (e) => e.code === 'ERR_OUTSIDE_ROOT' && e.root === root);
    }
    assert.deepEqual(ls(outside), []);
  });
});

describe('securetemp/tmp', () => {
  it('dir inside tmpdir, and tmpdir itself, work', () => {
    const { root } = layout();
    const d = tmp.dirSync({ tmpdir: root, dir: 'sub' });
    assert.equal(path.dirname(d.name), fs.realpathSync(path.join(root, 'sub')));
    d.removeCallback();
    const f = tmp.fileSync({ tmpdir: root });
    assert.equal(path.dirname(f.name), fs.realpathSync(root));
    f.removeCallback();
    assert.deepEqual(ls(root), ['sub']);
  });

  it('a junction out is refused with a TypeError', (ctx) => {
    const l = layout();
    if (!junction(ctx, l)) return;
    const { root, outside } = l;
    assert.throws(() => tmp.fileSync({ tmpdir: root, dir: 'evil' }), (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE');
    assert.deepEqual(ls(outside), []);
  });
});
