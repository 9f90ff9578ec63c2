// persist (MoveFileExW: MOVEFILE_REPLACE_EXISTING unless overwrite is false) and
// writeFileAtomic on Windows (an exclusive temp file in the target's directory, renamed
// over the target).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ls, rejected, scratch, t, thrown } from './_helpers.mjs';

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());

let n = 0;
const fresh = () => {
  const d = path.join(s.dir, `p${n++}`);
  fs.mkdirSync(d);
  return d;
};
const read = (p) => fs.readFileSync(p, 'utf8');

describe('persist of a named file', () => {
  for (const [form, persist] of [
    ['persistSync', async (f, p, o) => f.persistSync(p, o)],
    ['persist', (f, p, o) => f.persist(p, o)],
  ]) {
    it(`${form}: renamed into place while open, kept after close`, async () => {
      const dir = fresh();
      const f = t.NamedTemporaryFileSync({ dir });
      const old = f.path;
      f.writeSync(Buffer.from('named data'));
      const target = path.join(dir, 'final.txt');
      await persist(f, target);
      assert.equal(f.path, target);
      assert.equal(fs.existsSync(old), false);
      f.writeSync(Buffer.from('!'));
      f.closeSync();
      assert.equal(read(target), 'named data!');
      assert.deepEqual(ls(dir), ['final.txt']);
    });

    it(`${form}: replaces an existing target by default`, async () => {
      const dir = fresh();
      const target = path.join(dir, 'target');
      fs.writeFileSync(target, 'old');
      const f = t.NamedTemporaryFileSync({ dir });
      f.writeSync(Buffer.from('new'));
      await persist(f, target);
      await f.close();
      assert.equal(read(target), 'new');
      assert.deepEqual(ls(dir), ['target']);
    });

    it(`${form}: overwrite false: EEXIST from rename, target untouched, the file still temporary`, async () => {
      const dir = fresh();
      const target = path.join(dir, 'target');
      fs.writeFileSync(target, 'old');
      const f = t.NamedTemporaryFileSync({ dir });
      const old = f.path;
      f.writeSync(Buffer.from('new'));
      const e = await persist(f, target, { overwrite: false }).then(() => null, (x) => x);
      assert.ok(e, 'did not reject');
      assert.equal(e.code, 'EEXIST', e.message);
      assert.equal(e.syscall, 'rename');
      assert.equal(e.path, old);
      assert.equal(e.dest, target);
      assert.equal(read(target), 'old');
      assert.equal(f.path, old);
      f.closeSync();
      assert.deepEqual(ls(dir), ['target']);
    });
  }

  it('into another directory; a missing one is ENOENT with nothing lost', async () => {
    const dir = fresh();
    const other = fresh();
    const f = t.NamedTemporaryFileSync({ dir });
    f.writeSync(Buffer.from('x'));
    assert.equal((await rejected(f.persist(path.join(dir, 'nope', 'target')))).code, 'ENOENT');
    assert.equal(read(f.path), 'x');
    f.persistSync(path.join(other, 'moved'));
    f.closeSync();
    assert.deepEqual(ls(dir), []);
    assert.equal(read(path.join(other, 'moved')), 'x');
  });

  it('refuses when its name now leads to another file (ours renamed away, another made there)', () => {
    const dir = fresh();
    const f = t.NamedTemporaryFileSync({ dir });
    const old = f.path;
    f.writeSync(Buffer.from('mine'));
    f.flushSync();
    // (Unlinking it would leave the name to our open file until we close it, on Windows.)
    fs.renameSync(old, `${old}.moved`);
    fs.writeFileSync(old, 'planted');
    const e = thrown(() => f.persistSync(path.join(dir, 'target')));
    assert.equal(e.code, 'ERR_TEMPFILE_REPLACED');
    assert.equal(e.path, old);
    assert.equal(fs.existsSync(path.join(dir, 'target')), false);
    f.closeSync(); // and not ours to delete either
    assert.equal(read(old), 'planted');
    assert.equal(read(`${old}.moved`), 'mine');
  });
});

describe('writeFileAtomic', () => {
  it('creates, then replaces, leaving nothing else (sync and async)', async () => {
    const dir = fresh();
    const target = path.join(dir, 'target.json');
    t.writeFileAtomicSync(target, '{"v":1}');
    assert.equal(read(target), '{"v":1}');
    await t.writeFileAtomic(target, Buffer.from('{"v":2}'));
    assert.equal(read(target), '{"v":2}');
    await t.writeFileAtomic(target, ['{"v":', '3}'], { fsync: false });
    assert.equal(read(target), '{"v":3}');
    assert.deepEqual(ls(dir), ['target.json']);
  });

  it('a read-only target stays read-only; a directory as target is EISDIR', async () => {
    const dir = fresh();
    const target = path.join(dir, 'ro');
    fs.writeFileSync(target, 'old');
    fs.chmodSync(target, 0o444);
    t.writeFileAtomicSync(target, 'new');
    assert.equal(read(target), 'new');
    assert.equal(fs.statSync(target).mode & 0o200, 0);
    fs.mkdirSync(path.join(dir, 'sub'));
    assert.equal(thrown(() => t.writeFileAtomicSync(path.join(dir, 'sub'), 'x')).code, 'EISDIR');
    assert.equal((await rejected(t.writeFileAtomic(path.join(dir, 'sub'), 'x'))).code, 'EISDIR');
    assert.deepEqual(ls(dir), ['ro', 'sub']);
  });

  it('many in a row to one target: each complete, nothing left over', async () => {
    const dir = fresh();
    const target = path.join(dir, 't');
    for (let i = 0; i < 50; i++) await t.writeFileAtomic(target, String(i).repeat(1000), { fsync: false });
    assert.equal(read(target), '49'.repeat(1000));
    assert.deepEqual(ls(dir), ['t']);
  });
});
