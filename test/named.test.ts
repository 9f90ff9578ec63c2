// NamedTemporaryFile / NamedTemporaryFileSync: a TempFile with a visible path, created like
// mkstemp (O_EXCL|O_NOFOLLOW, permissions & ~umask); with delete (the default) removed on close,
// dispose, garbage collection and at exit, but only while the name still leads to our file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { internals, isLinux, ls, runNode, scratch, tempfile } from './_helpers';
import type { TempFile } from 'securetemp';

let s: ReturnType<typeof scratch>;
beforeEach(() => {
  s = scratch();
});
afterEach(() => {
  internals.setNameGenerator(null);
  s.remove();
});

const NAME = /^tmp[a-z0-9]{12}$/;

describe.each([
  ['NamedTemporaryFileSync', (o: object = {}) => tempfile.NamedTemporaryFileSync(o)],
  ['NamedTemporaryFile', (o: object = {}) => tempfile.NamedTemporaryFile(o)],
] as const)('%s', (_, mk) => {
  it('has a visible, absolute path in dir that leads to its descriptor', async () => {
    const f = await mk({ dir: s.dir });
    try {
      expect(typeof f.path).toBe('string');
      const p = f.path!;
      expect(path.isAbsolute(p)).toBe(true);
      expect(path.dirname(p)).toBe(s.dir);
      expect(path.basename(p)).toMatch(NAME);
      expect(f.name).toBe(p);
      expect(ls(s.dir)).toEqual([path.basename(p)]);
      const st = fs.fstatSync(f.fd);
      expect(st.isFile()).toBe(true);
      expect(st.nlink).toBe(1);
      const lst = fs.lstatSync(p);
      expect([lst.dev, lst.ino]).toEqual([st.dev, st.ino]);
      expect(f.mode).toBe('w+b');
      expect(f.closed).toBe(false);
    } finally {
      await f.close();
    }
  });

  it('uses prefix and suffix, and resolves a relative dir against the working directory', async () => {
    const f = await mk({ dir: path.relative(process.cwd(), s.dir), prefix: 'pre-', suffix: '.csv' });
    try {
      expect(path.dirname(f.path!)).toBe(s.dir);
      expect(path.basename(f.path!)).toMatch(/^pre-[a-z0-9]{12}\.csv$/);
    } finally {
      await f.close();
    }
  });

  it('is created 0600 & ~umask by default and permissions & ~umask when asked, for umask 000 and 077', async () => {
    for (const umask of [0o000, 0o077, 0o022]) {
      const old = process.umask(umask);
      try {
        const a = await mk({ dir: s.dir });
        const b = await mk({ dir: s.dir, permissions: 0o644 });
        const c = await mk({ dir: s.dir, permissions: 0o750 });
        expect(fs.fstatSync(a.fd).mode & 0o7777).toBe(0o600 & ~umask);
        expect(fs.statSync(a.path!).mode & 0o7777).toBe(0o600 & ~umask);
        expect(fs.fstatSync(b.fd).mode & 0o7777).toBe(0o644 & ~umask);
        expect(fs.fstatSync(c.fd).mode & 0o7777).toBe(0o750 & ~umask);
        a.closeSync();
        b.closeSync();
        c.closeSync();
      } finally {
        process.umask(old);
      }
    }
    expect(ls(s.dir)).toEqual([]);
  });

  it('reads and writes through the object; after flush the data is visible through the path, and back', async () => {
    const f = await mk({ dir: s.dir });
    try {
      expect(f.writeSync(Buffer.from('hello, '))).toBe(7);
      expect(await f.write(new Uint8Array([0x77, 0x6f, 0x72, 0x6c, 0x64]))).toBe(5);
      f.flushSync();
      expect(fs.readFileSync(f.path!, 'utf8')).toBe('hello, world');
      fs.appendFileSync(f.path!, '!'); // someone else writes by name
      expect(f.seekSync(0)).toBe(0);
      expect(f.readSync()).toEqual(Buffer.from('hello, world!'));
      expect(f.tellSync()).toBe(13);
    } finally {
      await f.close();
    }
  });

  it('text mode: encoding as asked, visible through the path', async () => {
    const f = await mk({ dir: s.dir, mode: 'w+', encoding: 'utf16le' });
    try {
      expect(f.encoding).toBe('utf16le');
      expect(f.writeSync('a😀\n')).toBe(3);
      f.flushSync();
      expect(fs.readFileSync(f.path!)).toEqual(Buffer.from('a😀\n', 'utf16le'));
      f.seekSync(0);
      expect(f.readlineSync()).toBe('a😀\n');
    } finally {
      f.closeSync();
    }
  });

  it('delete (default): closeSync() removes it, and buffered data was written before', async () => {
    const f = await mk({ dir: s.dir });
    const p = f.path!;
    f.writeSync(Buffer.from('buffered'));
    const keep = fs.openSync(p, 'r'); // to see what was written before the name went away
    try {
      f.closeSync();
      expect(f.closed).toBe(true);
      expect(fs.existsSync(p)).toBe(false);
      expect(ls(s.dir)).toEqual([]);
      expect(fs.readFileSync(keep, 'utf8')).toBe('buffered');
    } finally {
      fs.closeSync(keep);
    }
  });

  it('delete (default): close() removes it', async () => {
    const f = await mk({ dir: s.dir });
    const p = f.path!;
    await f.write(Buffer.from('x'));
    await f.close();
    expect(f.closed).toBe(true);
    expect(fs.existsSync(p)).toBe(false);
    expect(() => f.fd).toThrow(expect.objectContaining({ code: 'ERR_FILE_CLOSED' }));
  });

  it('delete (default): [Symbol.dispose] and [Symbol.asyncDispose] remove it', async () => {
    const a = await mk({ dir: s.dir });
    const b = await mk({ dir: s.dir });
    expect(ls(s.dir)).toHaveLength(2);
    a[Symbol.dispose]();
    expect(fs.existsSync(a.path!)).toBe(false);
    expect(fs.existsSync(b.path!)).toBe(true);
    await b[Symbol.asyncDispose]();
    expect(fs.existsSync(b.path!)).toBe(false);
    expect(a.closed && b.closed).toBe(true);
  });

  it('delete: false keeps the file after close, with its data; the caller can unlink it', async () => {
    const f = await mk({ dir: s.dir, delete: false });
    const p = f.path!;
    f.writeSync(Buffer.from('kept'));
    f.closeSync();
    expect(f.closed).toBe(true);
    expect(fs.readFileSync(p, 'utf8')).toBe('kept');
    const g = await mk({ dir: s.dir, delete: false });
    await g.close();
    expect(fs.existsSync(g.path!)).toBe(true);
    g[Symbol.dispose](); // a disposal after close changes nothing either
    expect(fs.existsSync(g.path!)).toBe(true);
    fs.unlinkSync(p);
    fs.unlinkSync(g.path!);
    expect(ls(s.dir)).toEqual([]);
  });

  it('a second close does nothing: a new file at the same path is left alone', async () => {
    const f = await mk({ dir: s.dir });
    const p = f.path!;
    f.closeSync();
    fs.writeFileSync(p, 'new tenant');
    f.closeSync();
    await f.close();
    f[Symbol.dispose]();
    await f[Symbol.asyncDispose]();
    expect(fs.readFileSync(p, 'utf8')).toBe('new tenant');
  });

  it('a file renamed over the path before close is not removed (sync and async close)', async () => {
    for (const close of [(f: TempFile) => f.closeSync(), (f: TempFile) => f.close()]) {
      const f = await mk({ dir: s.dir });
      const p = f.path!;
      f.writeSync(Buffer.from('ours'));
      const other = path.join(s.dir, 'other');
      fs.writeFileSync(other, 'theirs');
      fs.renameSync(other, p);
      await close(f);
      expect(f.closed).toBe(true);
      expect(fs.readFileSync(p, 'utf8')).toBe('theirs');
      fs.unlinkSync(p);
    }
  });

  it('a symlink to our own file put at the path is not removed (the name no longer leads to the file itself)', async () => {
    const f = await mk({ dir: s.dir });
    const p = f.path!;
    const moved = path.join(s.dir, 'moved');
    fs.renameSync(p, moved);
    fs.symlinkSync(moved, p);
    f.closeSync();
    expect(fs.lstatSync(p).isSymbolicLink()).toBe(true);
    expect(fs.existsSync(moved)).toBe(true);
  });

  it('a file already unlinked by someone else: close does not throw', async () => {
    const a = await mk({ dir: s.dir });
    const b = await mk({ dir: s.dir });
    fs.unlinkSync(a.path!);
    fs.unlinkSync(b.path!);
    expect(() => a.closeSync()).not.toThrow();
    await expect(b.close()).resolves.toBeUndefined();
    expect(a.closed && b.closed).toBe(true);
    expect(ls(s.dir)).toEqual([]);
  });

  it('refuses bad options before creating anything', async () => {
    const bad: [object, string][] = [
      [{ delete: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
      [{ delete: 1 }, 'ERR_INVALID_ARG_TYPE'],
      [{ permissions: '600' }, 'ERR_INVALID_ARG_TYPE'],
      [{ permissions: 0o1000 }, 'ERR_INVALID_ARG_VALUE'],
      [{ permissions: -1 }, 'ERR_INVALID_ARG_VALUE'],
      [{ unknown: true }, 'ERR_INVALID_ARG_VALUE'],
      [{ maxSize: 10 }, 'ERR_INVALID_ARG_VALUE'], // SpooledTemporaryFile's option, not this one's
      [{ mode: 'q+' }, 'ERR_INVALID_ARG_VALUE'],
      [{ prefix: 'a/b' }, 'ERR_INVALID_ARG_VALUE'],
      [{ suffix: 3 }, 'ERR_INVALID_ARG_TYPE'],
      [{ mode: 'w+b', encoding: 'utf8' }, 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [o, code] of bad) {
      await expect((async () => mk({ dir: s.dir, ...o }))(), JSON.stringify(o)).rejects.toMatchObject({ code });
    }
    await expect((async () => mk('w+b' as unknown as object))()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(ls(s.dir)).toEqual([]);
  });

  it('never follows a symlink planted at the name it would use (O_NOFOLLOW|O_EXCL): it takes the next name', async () => {
    const outside = path.join(s.dir, 'outside');
    fs.writeFileSync(outside, 'precious');
    fs.symlinkSync(outside, path.join(s.dir, 'tmpAAA'));
    fs.symlinkSync(path.join(s.dir, 'nowhere'), path.join(s.dir, 'tmpBBB')); // dangling
    const seq = ['AAA', 'BBB', 'CCC'];
    internals.setNameGenerator(() => seq.shift() ?? 'ZZZ');
    const f = await mk({ dir: s.dir });
    internals.setNameGenerator(null);
    expect(f.path).toBe(path.join(s.dir, 'tmpCCC'));
    f.writeSync(Buffer.from('mine'));
    f.closeSync();
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
    expect(fs.existsSync(path.join(s.dir, 'nowhere'))).toBe(false);
    // the links are not ours: close removed only tmpCCC
    expect(ls(s.dir)).toEqual(['outside', 'tmpAAA', 'tmpBBB']);
    expect(fs.readlinkSync(path.join(s.dir, 'tmpAAA'))).toBe(outside);
  });

  it('when every name is a planted symlink it fails with EEXIST and writes nothing through it', async () => {
    const outside = path.join(s.dir, 'outside');
    fs.writeFileSync(outside, 'precious');
    fs.symlinkSync(outside, path.join(s.dir, 'tmpLNK'));
    internals.setNameGenerator(() => 'LNK');
    await expect((async () => mk({ dir: s.dir }))()).rejects.toMatchObject({ code: 'EEXIST' });
    internals.setNameGenerator(null);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
    expect(ls(s.dir)).toEqual(['outside', 'tmpLNK']);
  });
});

describe('NamedTemporaryFile: removal at process exit', () => {
  /** Runs `body` in a child with `f` a NamedTemporaryFileSync in `dir`; returns the child's result. */
  function child(dir: string, options: string, body: string) {
    return runNode(
      `const fs = require('fs');
       const t = require('securetemp');
       const f = t.NamedTemporaryFileSync(Object.assign({ dir: ${JSON.stringify(dir)} }, ${options}));
       f.writeSync(Buffer.from('data'));
       console.log(JSON.stringify(f.path));
       ${body}`,
    );
  }

  it.each([
    ['the event loop empties', '', 0],
    ['process.exit()', 'process.exit(3);', 3],
    ['an uncaught exception', "throw new Error('boom');", 1],
    ['an unhandled rejection', "Promise.reject(new Error('boom'));", 1],
  ])('an unclosed delete:true file is removed when %s', (_, body, status) => {
    const r = child(s.dir, '{}', body);
    expect(r.status).toBe(status);
    const p = JSON.parse(r.stdout.split('\n')[0]!) as string;
    expect(path.dirname(p)).toBe(s.dir);
    expect(fs.existsSync(p)).toBe(false);
    expect(ls(s.dir)).toEqual([]);
    expect(r.stderr).not.toMatch(/CleanupWarning/);
  });

  const keptData: string[] = [];

  it('an unclosed delete:false file stays after exit', () => {
    for (const body of ['', 'process.exit(0);']) {
      const r = child(s.dir, '{ delete: false }', body);
      expect(r.status).toBe(0);
      const p = JSON.parse(r.stdout.split('\n')[0]!) as string;
      expect(fs.existsSync(p)).toBe(true);
      keptData.push(fs.readFileSync(p, 'utf8'));
      fs.unlinkSync(p);
    }
    expect(keptData).toHaveLength(2);
  });

  it('a closed file is not touched again at exit: a new file at its path stays', () => {
    const r = child(s.dir, '{}', `f.closeSync(); fs.writeFileSync(f.path, 'new tenant');`);
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout.split('\n')[0]!) as string;
    expect(fs.readFileSync(p, 'utf8')).toBe('new tenant');
    expect(r.stderr).toBe('');
  });

  it('a file renamed over the path is left alone at exit', () => {
    const r = child(
      s.dir,
      '{}',
      `fs.writeFileSync(f.path + '.x', 'theirs'); fs.renameSync(f.path + '.x', f.path);`,
    );
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout.split('\n')[0]!) as string;
    expect(fs.readFileSync(p, 'utf8')).toBe('theirs');
  });

  it('a file already unlinked is no error at exit', () => {
    const r = child(s.dir, '{}', `fs.unlinkSync(f.path);`);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(ls(s.dir)).toEqual([]);
  });

  // Python's io flushes open files at interpreter shutdown; so does the exit hook here.
  it('an unclosed delete:false file keeps what was written (buffered bytes are flushed at exit)', () => {
    expect(keptData).toEqual(['data', 'data']); // the files of the test above
  });
});

describe.runIf(isLinux)('NamedTemporaryFile: garbage collection', () => {
  it('an unreachable unclosed delete:true file is closed, flushed and removed, with a ResourceWarning; delete:false is kept', () => {
    const r = runNode(
      `const fs = require('fs');
       const t = require('securetemp');
       const dir = ${JSON.stringify(s.dir)};
       function leak(del) {
         const f = t.NamedTemporaryFileSync({ dir, delete: del });
         f.writeSync(Buffer.from('buffered'));
         return [f.path, fs.openSync(f.path, 'r'), f.fd, fs.fstatSync(f.fd).ino];
       }
       const [p, dup, fd, ino] = leak(true);
       const [keptPath, keptDup] = leak(false);
       const warnings = [];
       process.on('warning', (w) => warnings.push(w.name + ': ' + w.message));
       (async () => {
         let gone = false;
         for (let i = 0; i < 50 && !(gone = !fs.existsSync(p)); i++) {
           global.gc();
           await new Promise((r) => setTimeout(r, 10));
         }
         for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
         let closed = false;
         try { closed = fs.fstatSync(fd).ino !== ino; } catch (e) { closed = e.code === 'EBADF'; }
         console.log(JSON.stringify({
           gone, closed, p, warnings,
           data: fs.readFileSync(dup, 'utf8'),
           keptExists: fs.existsSync(keptPath),
           keptData: fs.readFileSync(keptDup, 'utf8'),
         }));
       })();`,
      { args: ['--expose-gc'] },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.gone).toBe(true);
    expect(out.closed).toBe(true);
    expect(out.data).toBe('buffered');
    expect(out.warnings).toContainEqual(expect.stringMatching(new RegExp(`^ResourceWarning: unclosed TempFile ${out.p}`)));
    expect(out.keptExists).toBe(true);
    expect(out.keptData).toBe('buffered');
    expect(ls(s.dir)).toHaveLength(1); // only the delete:false one
    expect(r.stderr).not.toMatch(/CleanupWarning/);
  });
});
