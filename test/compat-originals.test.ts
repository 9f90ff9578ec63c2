// The originals' own tests that run offline, ported test by test and run against the original
// and the drop-in: tmp-promise's test.js (benjamingr/tmp-promise, shipped in the package) and
// tmp's test for its CVE-2025-54798 fix (raszi/node-tmp test/GHSA-52f5-9888-hmc6-test.js).
// tempy's and temp's are in compat-tempy.test.ts and compat-temp.test.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type TmpPromise from 'securetemp/tmp-promise';
import type Tmp from 'securetemp/tmp';
import { scratch } from './_helpers';

const require = createRequire(import.meta.url);

describe.each([
  ['tmp-promise 3.0.3', require('tmp-promise') as typeof TmpPromise],
  ['securetemp/tmp-promise', require('securetemp/tmp-promise') as typeof TmpPromise],
])("tmp-promise's test.js: %s", (_, tmp) => {
  async function checkFileResult(result: TmpPromise.FileResult) {
    expect(Object.keys(result).sort()).toEqual(['cleanup', 'fd', 'path']);
    const { path: p, fd, cleanup } = result;
    expect([typeof p, typeof fd, typeof cleanup]).toEqual(['string', 'number', 'function']);
    expect(fs.statSync(p).isFile()).toBe(true);
    const message = 'hello there!';
    fs.writeSync(fd, message);
    fs.fdatasyncSync(fd);
    expect(fs.readFileSync(p, 'utf8')).toBe(message);
    await cleanup();
    expect(() => fs.statSync(p)).toThrow();
  }

  async function checkDirResult(result: TmpPromise.DirectoryResult) {
    expect(Object.keys(result).sort()).toEqual(['cleanup', 'path']);
    const { path: p, cleanup } = result;
    expect([typeof p, typeof cleanup]).toEqual(['string', 'function']);
    expect(fs.statSync(p).isDirectory()).toBe(true);
    await cleanup();
    expect(() => fs.statSync(p)).toThrow();
  }

  it('file() without options: creates the file, the expected result, cleanup works', async () => {
    await checkFileResult(await tmp.file());
  });

  it('file() with options: the same, and the prefix is in the path', async () => {
    const prefix = 'myTmpDir_';
    const result = await tmp.file({ prefix });
    await checkFileResult(result);
    expect(result.path.includes(prefix)).toBe(true);
  });

  it('file() propagates errors', async () => {
    await expect(tmp.file({ dir: 'nonexistent-path' })).rejects.toThrow(/^ENOENT: no such file or directory/);
  });

  it('dir() without options: creates the directory, the expected result, cleanup works', async () => {
    await checkDirResult(await tmp.dir());
  });

  it('dir() with options: the same, and the prefix is in the path', async () => {
    const prefix = 'myTmpDir_';
    const result = await tmp.dir({ prefix });
    await checkDirResult(result);
    expect(result.path.includes(prefix)).toBe(true);
  });

  it('dir() propagates errors', async () => {
    await expect(tmp.dir({ dir: 'nonexistent-path' })).rejects.toThrow(/^ENOENT: no such file or directory/);
  });

  it("withFile(): the file doesn't exist after going out of scope", async () => {
    let filepath = '';
    await tmp.withFile(
      async (o) => {
        filepath = o.path;
        fs.accessSync(filepath);
        expect(path.extname(filepath)).toBe('.txt');
      },
      { discardDescriptor: true, postfix: '.txt' },
    );
    expect(() => fs.accessSync(filepath)).toThrow();
  });

  it("withDir(): the directory doesn't exist after going out of scope", async () => {
    let filepath = '';
    await tmp.withDir(
      async (o) => {
        filepath = o.path;
        fs.accessSync(filepath);
        expect(path.extname(filepath)).toBe('.dir');
      },
      { postfix: '.dir' },
    );
    expect(() => fs.accessSync(filepath)).toThrow();
  });
});

describe.each([
  ['tmp 0.2.7', require('tmp') as typeof Tmp],
  ['securetemp/tmp', require('securetemp/tmp') as typeof Tmp],
])("tmp's GHSA-52f5-9888-hmc6 test (CVE-2025-54798, a dir or template through a link out of tmpdir): %s", (_, tmp) => {
  let s: ReturnType<typeof scratch>;
  let tmpdir = '';
  let evilSymlinkPath = '';
  const random = () => randomBytes(10).toString('hex');
  beforeAll(() => {
    s = scratch();
    const restricted = path.join(s.dir, random());
    tmpdir = path.join(s.dir, random());
    evilSymlinkPath = path.join(tmpdir, random());
    fs.mkdirSync(restricted);
    fs.mkdirSync(tmpdir);
    fs.symlinkSync(restricted, evilSymlinkPath);
  });
  afterAll(() => s.remove());

  const syncThrows = (f: () => unknown, re: RegExp) => {
    let err: unknown = null;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(re); // assert.throws with a RegExp tests String(error)
  };
  const asyncFails = (f: (done: (err: Error | null, r?: unknown) => void) => void) =>
    new Promise<void>((resolve) =>
      f((err, r) => {
        expect(err).toBeInstanceOf(Error);
        expect(r).toBeFalsy(); // assert.ifError(file)
        resolve();
      }),
    );

  it('fileSync with `dir` does not allow dirs outside of dir', () => {
    syncThrows(() => tmp.fileSync({ tmpdir, dir: evilSymlinkPath }), /^Error: dir option must be relative to/);
  });
  it('fileSync with `template` does not allow dirs outside of dir', () => {
    syncThrows(() => tmp.fileSync({ tmpdir, template: path.join(evilSymlinkPath, 'XXXXXX') }), /^Error: template option must be relative to/);
  });
  it('file with `dir` does not allow dirs outside of dir', async () => {
    await asyncFails((done) => tmp.file({ tmpdir, dir: evilSymlinkPath }, (err, name) => done(err, name)));
  });
  it('file with `template` does not allow dirs outside of dir', async () => {
    await asyncFails((done) => tmp.file({ tmpdir, template: path.join(evilSymlinkPath, 'XXXXXX') }, (err, name) => done(err, name)));
  });
  it('dirSync with `dir` does not allow dirs outside of dir', () => {
    syncThrows(() => tmp.dirSync({ tmpdir, dir: evilSymlinkPath }), /^Error: dir option must be relative to/);
  });
  it('dirSync with `template` does not allow dirs outside of dir', () => {
    syncThrows(() => tmp.dirSync({ tmpdir, template: path.join(evilSymlinkPath, 'XXXXXX') }), /^Error: template option must be relative to/);
  });
  it('dir with `dir` does not allow dirs outside of dir', async () => {
    await asyncFails((done) => tmp.dir({ tmpdir, dir: evilSymlinkPath }, (err, name) => done(err, name)));
  });
  it('dir with `template` does not allow dirs outside of dir', async () => {
    await asyncFails((done) => tmp.dir({ tmpdir, template: path.join(evilSymlinkPath, 'XXXXXX') }, (err, name) => done(err, name)));
  });
});

// write-file-atomic's test/integration.js: its observable assertions (contents, mode, the link
// kept). It records chown through an `fs` stand-in (require-inject); the drop-in changes owners
// with fchown in the addon, so ownership is read from the file instead, as root.
type Wfa = ((f: string, d: unknown, o?: object | string) => Promise<void>) & { sync(f: string, d: unknown, o?: object | string): void };
describe.each([
  ['write-file-atomic 7.0.1', require('write-file-atomic') as Wfa],
  ['securetemp/write-file-atomic', require('securetemp/write-file-atomic') as Wfa],
])("write-file-atomic's integration test: %s", (_, writeFileAtomic) => {
  let s: ReturnType<typeof scratch>;
  let n = 0;
  beforeAll(() => {
    s = scratch();
    fs.chmodSync(s.dir, 0o755);
  });
  afterAll(() => s.remove());
  const tmpFile = () => path.join(s.dir, `test-${++n}`);
  const readFile = (p: string) => fs.readFileSync(p).toString();
  const owner = (p: string) => {
    const st = fs.statSync(p);
    return { uid: st.uid, gid: st.gid };
  };
  const isRoot = process.getuid?.() === 0;

  describe.each([
    ['async', (f: string, d: unknown, o?: object | string) => writeFileAtomic(f, d, o)],
    ['sync', async (f: string, d: unknown, o?: object | string) => writeFileAtomic.sync(f, d, o)],
  ])('(%s)', (__, write) => {
    it('writes simple file', async () => {
      const file = tmpFile();
      await write(file, '42');
      expect(readFile(file)).toBe('42');
    });
    it('writes simple file with encoding', async () => {
      const file = tmpFile();
      await write(file, 'foo', 'utf16le');
      expect(readFile(file)).toBe('f\u0000o\u0000o\u0000');
    });
    it('writes buffers to simple file', async () => {
      const file = tmpFile();
      await write(file, Buffer.from('42'));
      expect(readFile(file)).toBe('42');
    });
    it('writes TypedArray to simple file', async () => {
      const file = tmpFile();
      await write(file, new Uint8Array([0x34, 0x32]));
      expect(readFile(file)).toBe('42');
    });
    it('writes undefined to simple file', async () => {
      const file = tmpFile();
      await write(file, undefined);
      expect(readFile(file)).toBe('');
    });
    it('writes to symlinks without clobbering', async () => {
      const file = tmpFile();
      const link = tmpFile();
      fs.writeFileSync(file, '42');
      fs.symlinkSync(file, link);
      await write(link, '43');
      expect([readFile(file), readFile(link), fs.lstatSync(link).isSymbolicLink()]).toEqual(['43', '43', true]);
    });
    it.runIf(isRoot)('runs chown on given file', async () => {
      const file = tmpFile();
      await write(file, '42', { chown: { uid: 42, gid: 43 } });
      expect([readFile(file), owner(file)]).toEqual(['42', { uid: 42, gid: 43 }]);
    });
    it('writes simple file with no chown', async () => {
      const file = tmpFile();
      await write(file, '42', { chown: false });
      expect(readFile(file)).toBe('42');
    });
    it('runs chmod on given file', async () => {
      const file = tmpFile();
      await write(file, '42', { mode: 0o741 });
      expect(fs.statSync(file).mode).toBe(0o100741);
    });
    it.runIf(isRoot)('runs chmod AND chown', async () => {
      const file = tmpFile();
      await write(file, '42', { mode: 0o741, chown: { uid: 42, gid: 43 } });
      expect([fs.statSync(file).mode, owner(file)]).toEqual([0o100741, { uid: 42, gid: 43 }]);
    });
    it('does not change chmod by default', async () => {
      const file = tmpFile();
      await write(file, '42', { mode: 0o741 });
      await write(file, '43');
      expect(fs.statSync(file).mode).toBe(0o100741);
    });
    it.runIf(isRoot)('does not change chown by default', async () => {
      const file = tmpFile();
      await write(file, '42', { chown: { uid: 42, gid: 43 } });
      await write(file, '43', { mode: 0o741 });
      expect(owner(file)).toEqual({ uid: 42, gid: 43 });
      await write(file, '44');
      expect([readFile(file), owner(file)]).toEqual(['44', { uid: 42, gid: 43 }]);
    });
  });
});
