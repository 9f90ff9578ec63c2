// mkstemp/mkstempSync and mkdtemp/mkdtempSync: exclusive creation relative to an open
// directory handle, permissions never wider than asked, fs-style errors, nothing made on bad input.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { internals, ls, scratch, tempfile } from './_helpers';

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
  ['mkstempSync', (o: object) => tempfile.mkstempSync(o)],
  ['mkstemp', (o: object) => tempfile.mkstemp(o)],
] as const)('%s', (_, mk) => {
  it('creates an empty regular file, 0600, with an absolute path in dir', async () => {
    const { fd, path: p } = await mk({ dir: s.dir });
    try {
      expect(path.isAbsolute(p)).toBe(true);
      expect(path.dirname(p)).toBe(s.dir);
      expect(path.basename(p)).toMatch(NAME);
      const st = fs.fstatSync(fd);
      expect(st.isFile()).toBe(true);
      expect(st.size).toBe(0);
      expect(st.mode & 0o777).toBe(0o600 & ~process.umask());
      expect(fs.statSync(p).ino).toBe(st.ino);
      fs.writeSync(fd, 'data');
      expect(fs.readFileSync(p, 'utf8')).toBe('data');
    } finally {
      fs.closeSync(fd);
    }
  });

  it('uses prefix and suffix', async () => {
    const { fd, path: p } = await mk({ dir: s.dir, prefix: 'pre-', suffix: '.txt' });
    fs.closeSync(fd);
    expect(path.basename(p)).toMatch(/^pre-[a-z0-9]{12}\.txt$/);
  });

  it('resolves a relative dir against the working directory', async () => {
    const rel = path.relative(process.cwd(), s.dir);
    const { fd, path: p } = await mk({ dir: rel });
    fs.closeSync(fd);
    expect(path.dirname(p)).toBe(s.dir);
  });

  it('applies the umask: never wider than asked', async () => {
    for (const umask of [0o000, 0o077, 0o022]) {
      const old = process.umask(umask);
      try {
        const a = await mk({ dir: s.dir });
        const b = await mk({ dir: s.dir, permissions: 0o644 });
        expect(fs.fstatSync(a.fd).mode & 0o7777).toBe(0o600 & ~umask);
        expect(fs.fstatSync(b.fd).mode & 0o7777).toBe(0o644 & ~umask);
        fs.closeSync(a.fd);
        fs.closeSync(b.fd);
      } finally {
        process.umask(old);
      }
    }
  });

  it('is not owned by anything: the file stays after close', async () => {
    const { fd, path: p } = await mk({ dir: s.dir });
    fs.closeSync(fd);
    expect(fs.existsSync(p)).toBe(true);
  });

  it('retries a colliding name and never follows a planted symlink', async () => {
    const outside = path.join(s.dir, 'outside');
    fs.writeFileSync(outside, 'precious');
    fs.symlinkSync(outside, path.join(s.dir, 'tmpAAA'));
    fs.symlinkSync(path.join(s.dir, 'nowhere'), path.join(s.dir, 'tmpBBB')); // dangling
    fs.writeFileSync(path.join(s.dir, 'tmpCCC'), 'existing');
    const seq = ['AAA', 'BBB', 'CCC', 'DDD'];
    internals.setNameGenerator(() => seq.shift() ?? 'ZZZ');
    const { fd, path: p } = await mk({ dir: s.dir });
    fs.closeSync(fd);
    expect(path.basename(p)).toBe('tmpDDD');
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
    expect(fs.existsSync(path.join(s.dir, 'nowhere'))).toBe(false);
    expect(fs.readFileSync(path.join(s.dir, 'tmpCCC'), 'utf8')).toBe('existing');
  });

  it(`gives up with EEXIST after TMP_MAX (${tempfile.TMP_MAX}) collisions`, async () => {
    fs.writeFileSync(path.join(s.dir, 'tmpSAME'), '');
    let calls = 0;
    internals.setNameGenerator(() => {
      calls++;
      return 'SAME';
    });
    const err = await (async () => mk({ dir: s.dir }))().then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.code).toBe('EEXIST');
    expect(err!.syscall).toBe('open');
    expect(err!.path).toBe(path.join(s.dir, 'tmpSAME'));
    expect(calls).toBe(10000);
    expect(ls(s.dir)).toEqual(['tmpSAME']);
  });

  it('does not treat other errors as collisions: the first one is thrown at once', async () => {
    const seq = ['x'.repeat(300), 'OK']; // ENAMETOOLONG, then a name that would work
    internals.setNameGenerator(() => seq.shift() ?? 'OK');
    await expect((async () => mk({ dir: s.dir }))()).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    expect(ls(s.dir)).toEqual([]);
  });

  it('fails with an fs-style ENOENT for a missing dir', async () => {
    const missing = path.join(s.dir, 'missing');
    const err = await (async () => mk({ dir: missing }))().catch((e: NodeJS.ErrnoException) => e);
    expect(err).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open', path: missing });
    expect((err as Error).message).toBe(`ENOENT: no such file or directory, open '${missing}'`);
  });

  it('fails with ENOTDIR when dir is a file', async () => {
    const file = path.join(s.dir, 'f');
    fs.writeFileSync(file, '');
    await expect((async () => mk({ dir: file }))()).rejects.toMatchObject({ code: 'ENOTDIR', path: file });
  });

  it('refuses a world-writable directory without the sticky bit unless allowed', async () => {
    const bad = path.join(s.dir, 'open');
    fs.mkdirSync(bad);
    fs.chmodSync(bad, 0o777);
    await expect((async () => mk({ dir: bad }))()).rejects.toMatchObject({
      code: 'ERR_INSECURE_TEMPDIR',
      path: bad,
    });
    expect(ls(bad)).toEqual([]);
    const ok = await mk({ dir: bad, allowInsecureDir: true });
    fs.closeSync(ok.fd);
    expect(ls(bad)).toHaveLength(1);
    fs.chmodSync(bad, 0o1777); // sticky: fine
    const sticky = await mk({ dir: bad });
    fs.closeSync(sticky.fd);
  });
});

describe.each([
  ['mkdtempSync', (o: object) => tempfile.mkdtempSync(o)],
  ['mkdtemp', (o: object) => tempfile.mkdtemp(o)],
] as const)('%s', (_, mk) => {
  it('creates an empty 0700 directory and returns its absolute path', async () => {
    const p = await mk({ dir: s.dir, prefix: 'd-', suffix: '.dir' });
    expect(path.dirname(p)).toBe(s.dir);
    expect(path.basename(p)).toMatch(/^d-[a-z0-9]{12}\.dir$/);
    const st = fs.lstatSync(p);
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o700 & ~process.umask());
    expect(ls(p)).toEqual([]);
  });

  it('applies permissions & ~umask', async () => {
    const old = process.umask(0o027);
    try {
      expect(fs.statSync(await mk({ dir: s.dir, permissions: 0o775 })).mode & 0o777).toBe(0o750);
    } finally {
      process.umask(old);
    }
    const old2 = process.umask(0);
    try {
      expect(fs.statSync(await mk({ dir: s.dir })).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(old2);
    }
  });

  it('shares the retry loop: collisions with files, dirs and links are skipped', async () => {
    fs.mkdirSync(path.join(s.dir, 'tmpA'));
    fs.symlinkSync('/', path.join(s.dir, 'tmpB'));
    const seq = ['A', 'B', 'C'];
    internals.setNameGenerator(() => seq.shift() ?? 'Z');
    expect(await mk({ dir: s.dir })).toBe(path.join(s.dir, 'tmpC'));
  });

  it('throws EEXIST with syscall mkdir after TMP_MAX collisions', async () => {
    fs.mkdirSync(path.join(s.dir, 'tmpQ'));
    internals.setNameGenerator(() => 'Q');
    await expect((async () => mk({ dir: s.dir }))()).rejects.toMatchObject({ code: 'EEXIST', syscall: 'mkdir' });
  });
});
