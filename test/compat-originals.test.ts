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
