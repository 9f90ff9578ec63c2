// TemporaryFile on Windows: CreateFileW-equivalent NtCreateFile(FILE_CREATE) with
// FILE_FLAG_DELETE_ON_CLOSE, handed to JavaScript as a descriptor of Node's own C runtime.
// The file has a name while it is open; it goes when its last handle closes, whether
// closed, at exit, at abort or killed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UV_FS_O_EXLOCK, addonPath, childStart, childSync, exited, ls, rejected, scratch, t, thrown, until } from './_helpers.mjs';

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());

const fresh = (() => {
  let n = 0;
  return () => {
    const d = path.join(s.dir, `u${n++}`);
    fs.mkdirSync(d);
    return d;
  };
})();

it('the addon is the package\'s win32-x64 prebuild, as users get it', () => {
  assert.equal(process.env.SECURETEMP_ADDON, undefined);
  assert.match(addonPath, /[\\/]prebuilds[\\/]win32-x64[\\/]securetemp\.node$/);
});

describe('TemporaryFile (delete-on-close)', () => {
  it('the descriptor works with fs; unnamed to the caller; visible while open, gone after close', () => {
    const dir = fresh();
    const f = t.TemporaryFileSync({ dir, mode: 'w+' });
    assert.equal(f.path, null);
    assert.equal(f.name, f.fd);
    f.writeSync('hello ✓');
    f.seekSync(0);
    assert.equal(f.readSync(), 'hello ✓');
    // Node's fs takes the descriptor: the handle went through uv_open_osfhandle.
    const buf = Buffer.alloc(5);
    assert.equal(fs.readSync(f.fd, buf, 0, 5, 0), 5);
    assert.equal(buf.toString(), 'hello');
    const during = ls(dir);
    assert.equal(during.length, 1, 'Windows shows the name while the file is open');
    assert.match(during[0], /^tmp[a-z0-9]{12}$/);
    f.closeSync();
    assert.deepEqual(ls(dir), []);
  });

  it('nobody can open it exclusively while it is held (our handle shares, theirs must too)', () => {
    const dir = fresh();
    const f = t.TemporaryFileSync({ dir, prefix: 'x', suffix: '.tmp' });
    const [name] = ls(dir);
    assert.match(name, /^x[a-z0-9]{12}\.tmp$/);
    const e = thrown(() => fs.openSync(path.join(dir, name), UV_FS_O_EXLOCK | fs.constants.O_RDONLY));
    assert.equal(e.code, 'EBUSY', e.message); // ERROR_SHARING_VIOLATION
    f.closeSync();
    assert.deepEqual(ls(dir), []);
  });

  it('a second handle (sharing delete, as fs opens) reads it; the file goes when both are closed', () => {
    const dir = fresh();
    const f = t.TemporaryFileSync({ dir });
    f.writeSync(Buffer.from('shared'));
    f.flushSync();
    const [name] = ls(dir);
    const fd2 = fs.openSync(path.join(dir, name), 'r');
    assert.equal(fs.readFileSync(fd2, 'utf8'), 'shared');
    f.closeSync();
    fs.closeSync(fd2);
    assert.deepEqual(ls(dir), []);
  });

  it('the async form works the same', async () => {
    const dir = fresh();
    const f = await t.TemporaryFile({ dir });
    await f.write(Buffer.from('abc'));
    await f.seek(0);
    assert.deepEqual(await f.read(), Buffer.from('abc'));
    assert.equal(ls(dir).length, 1);
    await f.close();
    assert.equal(f.closed, true);
    assert.deepEqual(ls(dir), []);
  });

  it('many at once: distinct files, all gone after close', async () => {
    const dir = fresh();
    const files = await Promise.all(Array.from({ length: 20 }, () => t.TemporaryFile({ dir })));
    assert.equal(new Set(ls(dir)).size, 20);
    await Promise.all(files.map((f) => f.close()));
    assert.deepEqual(ls(dir), []);
  });

  it('a SpooledTemporaryFile rolls over into one, gone after close', () => {
    const dir = fresh();
    const f = t.SpooledTemporaryFile({ dir, maxSize: 4 });
    f.writeSync(Buffer.from('in memory'));
    assert.equal(f.rolledOver, true);
    assert.equal(ls(dir).length, 1);
    f.closeSync();
    assert.deepEqual(ls(dir), []);
  });

  it('cannot be given a name (no way to cancel delete-on-close): persist is ENOTSUP, file intact', async () => {
    const dir = fresh();
    const f = t.TemporaryFileSync({ dir });
    f.writeSync(Buffer.from('kept'));
    const target = path.join(dir, 'target');
    for (const e of [thrown(() => f.persistSync(target)), await rejected(f.persist(target, { overwrite: false }))]) {
      assert.equal(e.code, 'ENOTSUP', e.message);
      assert.equal(e.syscall, 'link');
      assert.equal(e.path, target);
    }
    f.seekSync(0);
    assert.deepEqual(f.readSync(), Buffer.from('kept'));
    f.closeSync();
    assert.deepEqual(ls(dir), []);
  });

  it('cannot be reopened (only Linux reopens an unnamed file, through /proc/self/fd): ENOTSUP', async () => {
    const dir = fresh();
    const f = t.TemporaryFileSync({ dir });
    assert.equal(thrown(() => f.reopenSync()).code, 'ENOTSUP');
    assert.equal((await rejected(f.reopen())).code, 'ENOTSUP');
    f.closeSync();
  });
});

describe('TemporaryFile: gone when the process ends without closing it', () => {
  const make = `const f = t.TemporaryFileSync({ dir }); f.writeSync(Buffer.alloc(65536, 1)); f.flushSync();
    fs.writeFileSync(path.join(dir, 'ready'), String(fs.readdirSync(dir).length));`;

  for (const [how, code, check] of [
    ['process.exit()', 'process.exit(0);', (r) => assert.equal(r.status, 0)],
    ['an uncaught exception', "throw new Error('boom');", (r) => assert.equal(r.status, 1)],
    ['process.abort()', 'process.abort();', (r) => assert.notEqual(r.status, 0)],
  ]) {
    it(how, () => {
      const dir = fresh();
      const r = childSync(make + code, dir);
      assert.equal(r.error, undefined);
      check(r);
      assert.equal(fs.readFileSync(path.join(dir, 'ready'), 'utf8'), '1', 'the file existed in the child');
      assert.deepEqual(ls(dir), ['ready']);
    });
  }

  it('killed (TerminateProcess) while it holds the file', async () => {
    const dir = fresh();
    const child = childStart(make + 'setInterval(() => {}, 1000);', dir);
    const done = exited(child);
    await until(() => fs.existsSync(path.join(dir, 'ready')), 30_000, 'the child to create its file');
    assert.equal(ls(dir).length, 2);
    child.kill();
    await done;
    await until(() => ls(dir).length === 1, 10_000, 'the file to go');
    assert.deepEqual(ls(dir), ['ready']);
  });
});
