// Named files on Windows: mkstemp and NamedTemporaryFile. Created with FILE_CREATE (Win32's
// CREATE_NEW) relative to a handle of the directory; a name in use (case-insensitively, a
// file waiting to be deleted included) is a collision and another name is tried; access
// denied is never a collision and is reported at once.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { FIXTURES, UNDER_WINE, childSync, forceNames, ls, names, native, rejected, scratch, t, thrown, unforce } from './_helpers.mjs';

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());
afterEach(unforce);

let n = 0;
const fresh = () => {
  const d = path.join(s.dir, `n${n++}`);
  fs.mkdirSync(d);
  return d;
};

describe('mkstemp', () => {
  it('creates prefix + 12 random characters + suffix; the descriptor works with fs; the file stays', () => {
    const dir = fresh();
    const { fd, path: p } = t.mkstempSync({ dir, prefix: 'pre-', suffix: '.json' });
    assert.equal(path.dirname(p), dir);
    assert.match(path.basename(p), /^pre-[a-z0-9]{12}\.json$/);
    fs.writeSync(fd, '{"a":1}');
    const buf = Buffer.alloc(7);
    fs.readSync(fd, buf, 0, 7, 0);
    fs.closeSync(fd);
    assert.equal(buf.toString(), '{"a":1}');
    assert.equal(fs.readFileSync(p, 'utf8'), '{"a":1}');
    assert.deepEqual(ls(dir), [path.basename(p)]);
  });

  it('async, and many at once: all distinct', async () => {
    const dir = fresh();
    const made = await Promise.all(Array.from({ length: 30 }, () => t.mkstemp({ dir })));
    for (const { fd } of made) fs.closeSync(fd);
    assert.equal(new Set(made.map((m) => m.path)).size, 30);
    assert.equal(ls(dir).length, 30);
  });

  it('permissions without owner-write: a read-only file whose creating descriptor still writes', () => {
    const dir = fresh();
    const { fd, path: p } = t.mkstempSync({ dir, permissions: 0o400 });
    fs.writeSync(fd, 'z');
    fs.closeSync(fd);
    assert.equal(fs.statSync(p).mode & 0o200, 0);
    assert.equal(fs.readFileSync(p, 'utf8'), 'z');
    // Wine keeps the attribute as Unix mode bits, which root (CI) writes through anyway.
    if (!UNDER_WINE) assert.equal(thrown(() => fs.writeFileSync(p, 'no')).code, 'EPERM');
  });

  it('a collision is retried with the next name', () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'tmptaken'), 'theirs');
    forceNames((i) => (i === 0 ? 'taken' : `free${i}`));
    const { fd, path: p } = t.mkstempSync({ dir });
    fs.closeSync(fd);
    assert.equal(path.basename(p), 'tmpfree1');
    assert.equal(fs.readFileSync(path.join(dir, 'tmptaken'), 'utf8'), 'theirs');
  });

  it('only collisions: EEXIST once every name was tried, case-insensitively, nothing touched', () => {
    const dir = fresh();
    forceNames(() => 'fixed');
    const { fd } = t.mkstempSync({ dir });
    fs.writeSync(fd, 'first');
    fs.closeSync(fd);
    for (const name of ['fixed', 'FIXED', 'Fixed']) {
      forceNames(() => name);
      const e = thrown(() => t.mkstempSync({ dir }));
      assert.equal(e.code, 'EEXIST', e.message);
      assert.equal(e.syscall, 'open');
      assert.equal(e.path, path.join(dir, `tmp${name}`));
    }
    forceNames(() => 'FIXED');
    const e = thrown(() => t.mkdtempSync({ dir }));
    assert.equal(e.code, 'EEXIST');
    assert.equal(e.syscall, 'mkdir');
    assert.deepEqual(ls(dir), ['tmpfixed']);
    assert.equal(fs.readFileSync(path.join(dir, 'tmpfixed'), 'utf8'), 'first');
  });

  it('an existing directory or read-only file as the name is a collision too', () => {
    const dir = fresh();
    fs.mkdirSync(path.join(dir, 'tmpd'));
    fs.writeFileSync(path.join(dir, 'tmpro'), 'r');
    fs.chmodSync(path.join(dir, 'tmpro'), 0o444);
    for (const name of ['d', 'ro']) {
      forceNames(() => name);
      assert.equal(thrown(() => t.mkstempSync({ dir })).code, 'EEXIST');
    }
  });

  it('a name whose file waits to be deleted is a collision (Win32 CreateFileW says ERROR_ACCESS_DENIED there)', () => {
    const dir = fresh();
    const victim = path.join(dir, 'tmppending');
    fs.writeFileSync(victim, 'x');
    const fd = fs.openSync(victim, 'r'); // shares delete, as libuv always does
    try {
      fs.unlinkSync(victim);
      if (ls(dir).includes('tmppending')) {
        // Delete pending (no POSIX-semantics delete: Wine 8, older Windows): the name stays.
        forceNames(() => 'pending');
        assert.equal(thrown(() => t.mkstempSync({ dir })).code, 'EEXIST');
        forceNames((i) => (i === 0 ? 'pending' : 'next'));
        const made = t.mkstempSync({ dir });
        fs.closeSync(made.fd);
        assert.equal(path.basename(made.path), 'tmpnext');
      } else {
        // POSIX-semantics delete (Windows 10 1709+ on NTFS): the name went at once and is free.
        forceNames(() => 'pending');
        const made = t.mkstempSync({ dir });
        fs.closeSync(made.fd);
        assert.equal(made.path, victim);
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  it('access denied is not a collision: reported at once (EPERM), at the first name', async (ctx) => {
    const denied = deniedDir(ctx);
    if (!denied) return;
    try {
      forceNames((i) => `n${i}`);
      for (const [what, fn, syscall] of [
        ['mkstemp', () => t.mkstempSync({ dir: denied.dir }), 'open'],
        ['mkdtemp', () => t.mkdtempSync({ dir: denied.dir }), 'mkdir'],
        ['NamedTemporaryFile', () => t.NamedTemporaryFileSync({ dir: denied.dir }), 'open'],
        ['TemporaryFile', () => t.TemporaryFileSync({ dir: denied.dir }), 'open'],
      ]) {
        const e = thrown(fn);
        assert.equal(e.code, 'EPERM', `${what}: ${e.message}`);
        assert.equal(e.syscall, syscall, what);
        assert.equal(e.path, path.join(denied.dir, 'tmpn0'), `${what}: stopped at the first name`);
        forceNames((i) => `n${i}`);
      }
      const e = await rejected(t.mkstemp({ dir: denied.dir }));
      assert.equal(e.code, 'EPERM');
      assert.deepEqual(ls(denied.dir), ['existing']);
    } finally {
      denied.undo();
    }
  });

  it('errors on the directory: ENOENT, ENOTDIR', () => {
    const dir = fresh();
    assert.equal(thrown(() => t.mkstempSync({ dir: path.join(dir, 'nope') })).code, 'ENOENT');
    fs.writeFileSync(path.join(dir, 'afile'), 'x');
    assert.equal(thrown(() => t.mkstempSync({ dir: path.join(dir, 'afile') })).code, 'ENOTDIR');
  });

  it('a directory given with forward slashes or a trailing separator', () => {
    const dir = fresh();
    for (const d of [dir.replaceAll('\\', '/'), dir + '\\']) {
      const { fd, path: p } = t.mkstempSync({ dir: d });
      fs.closeSync(fd);
      assert(fs.existsSync(p), p);
    }
    assert.equal(ls(dir).length, 2);
  });
});

describe('NamedTemporaryFile', () => {
  it('exists while open, deleted on close; delete: false keeps it', () => {
    const dir = fresh();
    const f = t.NamedTemporaryFileSync({ dir, suffix: '.txt', mode: 'w+' });
    assert.match(path.basename(f.path), /^tmp[a-z0-9]{12}\.txt$/);
    f.writeSync('named');
    f.flushSync();
    assert.equal(fs.readFileSync(f.path, 'utf8'), 'named');
    f.closeSync();
    assert.deepEqual(ls(dir), []);
    const k = t.NamedTemporaryFileSync({ dir, delete: false });
    k.closeSync();
    assert.deepEqual(ls(dir), [path.basename(k.path)]);
  });

  it('reopen by its name: a second descriptor on the same file', async () => {
    const dir = fresh();
    const f = t.NamedTemporaryFileSync({ dir, mode: 'w+' });
    f.writeSync('shared');
    f.flushSync();
    for (const g of [f.reopenSync(), await f.reopen()]) {
      assert.notEqual(g.fd, f.fd);
      g.seekSync(0);
      assert.equal(g.readSync().toString(), 'shared');
      g.closeSync();
    }
    f.closeSync();
    assert.deepEqual(ls(dir), []);
  });

  it('deleted at process exit when never closed', () => {
    const dir = fresh();
    const r = childSync(`const f = t.NamedTemporaryFileSync({ dir }); f.writeSync(Buffer.from('x'));
      fs.writeFileSync(path.join(dir, 'ready'), path.basename(f.path)); process.exit(0);`, dir);
    assert.equal(r.status, 0);
    assert.match(fs.readFileSync(path.join(dir, 'ready'), 'utf8'), /^tmp[a-z0-9]{12}$/);
    assert.deepEqual(ls(dir), ['ready']);
  });
});

describe('names Windows would rewrite', () => {
  const RANDOM = 'abcdefghij12';
  for (const kind of ['prefix', 'suffix']) {
    it(`${kind}: refused before anything is created (ERR_INVALID_ARG_VALUE), and by the addon itself (EINVAL)`, () => {
      const dir = fresh();
      for (const [value, why] of names.refusedOnWindows[kind]) {
        const e = thrown(() => t.mkstempSync({ dir, [kind]: value }));
        assert.equal(e.code, 'ERR_INVALID_ARG_VALUE', JSON.stringify(value));
        assert.match(e.message, new RegExp(why.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')));
        // The addon, called past the TypeScript checks: EINVAL (or ENOENT for a
        // separator, which makes a path into a directory that is not there).
        const [p, sfx] = kind === 'prefix' ? [value, ''] : ['', value];
        const ne = thrown(() => native.createSync(dir, '', '', 0, 0, 0o600, [p + RANDOM + sfx]));
        assert.ok(['EINVAL', 'ENOENT'].includes(ne.code), `${JSON.stringify(value)}: ${ne.code} ${ne.message}`);
      }
      assert.deepEqual(ls(dir), []);
    });

    it(`${kind}: every accepted one makes exactly the name asked for (nothing rewritten)`, () => {
      const dir = fresh();
      for (const value of names.acceptedOnWindows[kind]) {
        const { fd, path: p } = t.mkstempSync({ dir, [kind]: value });
        fs.closeSync(fd);
        const base = path.basename(p);
        assert.ok(kind === 'prefix' ? base.startsWith(value) : base.endsWith(value), `${JSON.stringify(value)}: ${base}`);
        assert.ok(ls(dir).includes(base), `${JSON.stringify(value)}: ${base} not listed as such`);
        assert.equal(fs.readFileSync(p, 'utf8'), '');
        fs.unlinkSync(p);
      }
      assert.deepEqual(ls(dir), []);
    });
  }
});

/**
 * A directory in which creating anything is denied: under Wine, planted from Linux
 * (immutable); on Windows, made here with a deny ACE for Everyone (icacls).
 */
function deniedDir(ctx) {
  if (UNDER_WINE) {
    const unavailable = FIXTURES && path.join(FIXTURES, 'denied.unavailable');
    if (!FIXTURES || fs.existsSync(unavailable)) {
      ctx.skip(FIXTURES ? fs.readFileSync(unavailable, 'utf8') : 'no fixtures planted (run through scripts/test-windows.mjs)');
      return null;
    }
    return { dir: path.join(FIXTURES, 'denied'), undo() {} };
  }
  const dir = fresh();
  fs.writeFileSync(path.join(dir, 'existing'), 'x');
  // WD: create files / write data, AD: create folders / append data. S-1-1-0: Everyone.
  execFileSync('icacls', [dir, '/deny', '*S-1-1-0:(WD,AD)'], { stdio: 'ignore' });
  return { dir, undo: () => execFileSync('icacls', [dir, '/remove:d', '*S-1-1-0'], { stdio: 'ignore' }) };
}
