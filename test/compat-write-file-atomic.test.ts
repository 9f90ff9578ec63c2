// securetemp/write-file-atomic: write-file-atomic's README examples run against it, the
// function-with-.sync shape (require and import), callback and promise, options (chown, mode,
// encoding, fsync, tmpfileCreated), and differential runs against write-file-atomic 7.0.1.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type WriteFileAtomic from 'securetemp/write-file-atomic';
import { ROOT, internals, isRoot, ls, runNode, scratch } from './_helpers';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const writeFileAtomic: typeof WriteFileAtomic = require('securetemp/write-file-atomic');
const real: typeof WriteFileAtomic = require('write-file-atomic'); // 7.0.1

let s: ReturnType<typeof scratch>;
let n = 0;
let dir: string;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
beforeEach(() => {
  dir = path.join(s.dir, `t${n++}`);
  fs.mkdirSync(dir);
});

const umask = process.umask();
const read = (p: string) => fs.readFileSync(p, 'utf8');
const modeOf = (p: string) => fs.statSync(p).mode & 0o7777;
const at = (name: string) => path.join(dir, name);

/** The two implementations, each in both forms, as promise-returning writers. */
type Write = (p: string, data: unknown, o?: unknown) => Promise<unknown>;
const impls: [string, typeof WriteFileAtomic][] = [
  ['securetemp/write-file-atomic', writeFileAtomic],
  ['write-file-atomic', real],
];
const forms = (w: typeof WriteFileAtomic): [string, Write][] => [
  ['async', (p, d, o) => w(p, d as string, o as WriteFileAtomic.Options)],
  ['sync', (p, d, o) => Promise.resolve().then(() => w.sync(p, d as string, o as WriteFileAtomic.Options))],
];

describe('the README examples of write-file-atomic, against securetemp/write-file-atomic', () => {
  it("writeFileAtomic('message.txt', 'Hello Node', {chown:{uid:100,gid:50}}, callback)", async () => {
    const filename = at('message.txt');
    const err = await new Promise((resolve) =>
      writeFileAtomic(filename, 'Hello Node', { chown: { uid: 100, gid: 50 } }, function (err) {
        resolve(err);
      }),
    );
    expect(err).toBeUndefined();
    expect(read(filename)).toBe('Hello Node');
    if (isRoot) expect([fs.statSync(filename).uid, fs.statSync(filename).gid]).toEqual([100, 50]);
  });

  it('the async/await form', async () => {
    const filename = at('message.txt');
    await writeFileAtomic(filename, 'Hello Node', { chown: { uid: 100, gid: 50 } });
    expect(read(filename)).toBe('Hello Node');
  });

  it("var writeFileAtomicSync = require('write-file-atomic').sync", () => {
    const writeFileAtomicSync = require('securetemp/write-file-atomic').sync as typeof WriteFileAtomic.sync;
    writeFileAtomicSync(at('f'), 'sync data', { mode: 0o640 });
    expect(read(at('f'))).toBe('sync data');
    expect(modeOf(at('f'))).toBe(0o640);
  });

  it('options as a string is the encoding', async () => {
    await writeFileAtomic(at('hex'), '68656c6c6f', 'hex');
    writeFileAtomic.sync(at('latin1'), 'caf\u00e9', 'latin1');
    expect(read(at('hex'))).toBe('hello');
    expect(fs.readFileSync(at('latin1'))).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  });
});

describe('shapes, compared with write-file-atomic 7.0.1', () => {
  it('require gives a function with .sync', () => {
    expect(typeof writeFileAtomic).toBe('function');
    expect(typeof writeFileAtomic.sync).toBe('function');
    expect(writeFileAtomic.length).toBe(real.length);
    expect(writeFileAtomic.sync.length).toBe(real.sync.length);
  });

  it('without a callback: a Promise of undefined', async () => {
    const p = writeFileAtomic(at('a'), 'x');
    expect(p).toBeInstanceOf(Promise);
    expect(await p).toBe(await real(at('b'), 'x'));
  });

  it('with a callback: called once with one argument, undefined; the Promise gives what it returns', async () => {
    const run = (w: typeof WriteFileAtomic, name: string, opts?: object) =>
      new Promise<[unknown[], unknown]>((resolve) => {
        let got: unknown[] = [];
        const cb = (...a: unknown[]) => {
          got = a;
          return 42;
        };
        const p = opts === undefined ? w(at(name), 'x', cb) : w(at(name), 'x', opts, cb);
        void p.then((v) => resolve([got, v]));
      });
    expect(await run(writeFileAtomic, 'a')).toEqual([[undefined], 42]);
    expect(await run(writeFileAtomic, 'a', {})).toEqual(await run(real, 'b', {}));
  });

  it('an error reaches the callback (one argument) and the Promise resolves to what it returns', async () => {
    const missing = path.join(dir, 'no-such-dir', 'f');
    const got = await new Promise<unknown[]>((resolve) => void writeFileAtomic(missing, 'x', (...a: unknown[]) => resolve(a)));
    const theirs = await new Promise<unknown[]>((resolve) => void real(missing, 'x', (...a: unknown[]) => resolve(a)));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ code: 'ENOENT' });
    expect(theirs[0]).toMatchObject({ code: 'ENOENT' });
    await expect(writeFileAtomic(missing, 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => writeFileAtomic.sync(missing, 'x')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe.each(impls)('%s: observable results (the same for both)', (_, w) => {
  describe.each(forms(w))('%s', (__, write) => {
    it('a new file: the data, 0o666 & ~umask', async () => {
      await write(at('new'), 'fresh');
      expect(read(at('new'))).toBe('fresh');
      expect(modeOf(at('new'))).toBe(0o666 & ~umask);
    });

    it('an existing file: replaced (a new inode), its mode kept', async () => {
      fs.writeFileSync(at('old'), 'old');
      fs.chmodSync(at('old'), 0o640);
      const ino = fs.statSync(at('old')).ino;
      await write(at('old'), 'new');
      expect(read(at('old'))).toBe('new');
      expect(modeOf(at('old'))).toBe(0o640);
      expect(fs.statSync(at('old')).ino).not.toBe(ino);
    });

    it('mode: exactly those bits, not narrowed by the umask', async () => {
      await write(at('m'), 'x', { mode: 0o664 });
      expect(modeOf(at('m'))).toBe(0o664);
    });

    it('mode: a stat().mode (with its file-type bits) works, as chmod takes it', async () => {
      fs.writeFileSync(at('model'), '');
      fs.chmodSync(at('model'), 0o604);
      await write(at('m'), 'x', { mode: fs.statSync(at('model')).mode });
      expect(modeOf(at('m'))).toBe(0o604);
    });

    it('data: Buffer and TypedArray as bytes (encoding ignored), null/undefined as empty, a number as its text', async () => {
      await write(at('buf'), Buffer.from([1, 2, 3]), { encoding: 'hex' });
      await write(at('u8'), new Uint8Array([4, 5]));
      await write(at('null'), null);
      await write(at('undef'), undefined);
      await write(at('num'), 12345);
      expect([...fs.readFileSync(at('buf'))]).toEqual([1, 2, 3]);
      expect([...fs.readFileSync(at('u8'))]).toEqual([4, 5]);
      expect(read(at('null'))).toBe('');
      expect(read(at('undef'))).toBe('');
      expect(read(at('num'))).toBe('12345');
    });

    it('encoding: null means utf8; options null is no options', async () => {
      await write(at('e'), 'ü', { encoding: null });
      expect(read(at('e'))).toBe('ü');
    });

    it('fsync: false still writes and replaces', async () => {
      fs.writeFileSync(at('f'), 'old');
      await write(at('f'), 'new', { fsync: false });
      expect(read(at('f'))).toBe('new');
    });

    it('unknown options are ignored', async () => {
      await write(at('u'), 'x', { flag: 'a', whatever: 1 });
      expect(read(at('u'))).toBe('x');
    });

    it('nothing but the target is left in the directory', async () => {
      fs.writeFileSync(at('t'), 'old');
      for (let i = 0; i < 5; i++) await write(at('t'), `v${i}`, { tmpfileCreated: () => undefined });
      expect(ls(dir)).toEqual(['t']);
    });

    it('tmpfileCreated: called once, after the temp file exists and before the target changes', async () => {
      fs.writeFileSync(at('t'), 'old');
      const seen: [unknown[], string][] = [];
      await write(at('t'), 'new', { tmpfileCreated: (...a: unknown[]) => void seen.push([a, read(at('t'))]) });
      expect(seen).toHaveLength(1);
      expect(seen[0]![1]).toBe('old');
      expect(read(at('t'))).toBe('new');
    });

    it('tmpfileCreated throwing: the write fails, the old file stays, no temp file is left', async () => {
      fs.writeFileSync(at('t'), 'old');
      await expect(
        write(at('t'), 'new', {
          tmpfileCreated: () => {
            throw new Error('stop');
          },
        }),
      ).rejects.toThrow('stop');
      expect(read(at('t'))).toBe('old');
      expect(ls(dir)).toEqual(['t']);
    });

    it.runIf(isRoot)('as root: the old owner kept; chown sets another', async () => {
      fs.writeFileSync(at('o'), 'old');
      fs.chownSync(at('o'), 1234, 4321);
      await write(at('o'), 'kept');
      expect([fs.statSync(at('o')).uid, fs.statSync(at('o')).gid]).toEqual([1234, 4321]);
      await write(at('o'), 'given', { chown: { uid: 100, gid: 50 } });
      expect([fs.statSync(at('o')).uid, fs.statSync(at('o')).gid]).toEqual([100, 50]);
    });
  });
});

describe('through the named O_EXCL temp file too (the path where there is no O_TMPFILE)', () => {
  const sw = internals.internals;
  beforeEach(() => {
    sw.forceNoTmpfile = true;
  });
  afterEach(() => {
    sw.forceNoTmpfile = false;
  });

  it.each(forms(writeFileAtomic))('%s: tmpfileCreated before the change; a throw leaves the old file and no temp file', async (_, write) => {
    fs.writeFileSync(at('t'), 'old');
    const seen: [string, string[]][] = [];
    await write(at('t'), 'new', { tmpfileCreated: () => void seen.push([read(at('t')), ls(dir)]) });
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe('old');
    expect(seen[0]![1]).toEqual([expect.stringMatching(/^\.t\.[a-z0-9]{12}\.tmp$/), 't']); // the named temp file exists already
    await expect(
      write(at('t'), 'newer', {
        tmpfileCreated: () => {
          throw new Error('stop');
        },
      }),
    ).rejects.toThrow('stop');
    expect(read(at('t'))).toBe('new');
    expect(ls(dir)).toEqual(['t']);
  });
});

describe('where we differ from write-file-atomic, on purpose', () => {
  it('tmpfileCreated gets null (write-file-atomic: its predictable temp name)', async () => {
    const ours: unknown[] = [];
    const theirs: unknown[] = [];
    await writeFileAtomic(at('a'), 'x', { tmpfileCreated: (t: unknown) => void ours.push(t) });
    writeFileAtomic.sync(at('a'), 'x', { tmpfileCreated: (t: unknown) => void ours.push(t) });
    await real(at('b'), 'x', { tmpfileCreated: (t: unknown) => void theirs.push(t) } as WriteFileAtomic.Options);
    expect(ours).toEqual([null, null]);
    expect(theirs[0]).toMatch(new RegExp(`^${at('b').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+$`));
  });

  it('the async tmpfileCreated is awaited before the data is written (as write-file-atomic)', async () => {
    fs.writeFileSync(at('t'), 'old');
    let resolved = false;
    const p = writeFileAtomic(at('t'), 'new', {
      tmpfileCreated: () => new Promise<void>((r) => setTimeout(() => ((resolved = true), r()), 30)),
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(read(at('t'))).toBe('old');
    await p;
    expect(resolved).toBe(true);
    expect(read(at('t'))).toBe('new');
  });

  it("mode: false gives 0o666 & ~umask, as its README says (7.0.1's code keeps the old mode in sync, throws in async)", async () => {
    fs.writeFileSync(at('t'), 'old');
    fs.chmodSync(at('t'), 0o600);
    await writeFileAtomic(at('t'), 'x', { mode: false });
    expect(modeOf(at('t'))).toBe(0o666 & ~umask);
    fs.chmodSync(at('t'), 0o600);
    writeFileAtomic.sync(at('t'), 'x', { mode: false });
    expect(modeOf(at('t'))).toBe(0o666 & ~umask);
    await expect(real(at('t'), 'x', { mode: false })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it.runIf(isRoot)("chown: false leaves the file as created, as its README says, in both forms (7.0.1's sync form keeps the old owner)", async () => {
    const runs: [string, Write][] = [
      ['ours-async', forms(writeFileAtomic)[0]![1]],
      ['ours-sync', forms(writeFileAtomic)[1]![1]],
      ['theirs-async', forms(real)[0]![1]],
      ['theirs-sync', forms(real)[1]![1]],
    ];
    const owners: Record<string, number> = {};
    for (const [name, write] of runs) {
      fs.writeFileSync(at(name), 'old');
      fs.chownSync(at(name), 100, 50);
      await write(at(name), 'new', { chown: false });
      owners[name] = fs.statSync(at(name)).uid;
    }
    expect(owners).toEqual({ 'ours-async': 0, 'ours-sync': 0, 'theirs-async': 0, 'theirs-sync': 100 });
  });

  it('a symbolic link at the target is followed and written through, as write-file-atomic does; the link stays', async () => {
    for (const [who, write] of [
      ['ours', (p: string, d: string) => writeFileAtomic(p, d)],
      ['ours-sync', async (p: string, d: string) => writeFileAtomic.sync(p, d)],
      ['theirs', (p: string, d: string) => real(p, d)],
      ['theirs-sync', async (p: string, d: string) => real.sync(p, d)],
    ] as const) {
      fs.mkdirSync(at(`repo-${who}`));
      fs.writeFileSync(at(`repo-${who}/rc`), 'old');
      fs.chmodSync(at(`repo-${who}/rc`), 0o640);
      fs.symlinkSync(`repo-${who}/rc`, at(`link-${who}`));
      await write(at(`link-${who}`), 'new');
      expect([who, fs.readlinkSync(at(`link-${who}`)), read(at(`repo-${who}/rc`)), fs.statSync(at(`repo-${who}/rc`)).mode & 0o777, fs.readdirSync(at(`repo-${who}`))]).toEqual([
        who,
        `repo-${who}/rc`,
        'new',
        0o640,
        ['rc'],
      ]);
    }
  });

  it('a TypedArray wider than a byte is written whole (write-file-atomic writes `length` bytes of it)', async () => {
    const data = new Uint16Array([0x4142, 0x4344]);
    await writeFileAtomic(at('a'), data);
    await real(at('b'), data);
    expect(fs.readFileSync(at('a'))).toEqual(Buffer.from(data.buffer));
    expect(fs.readFileSync(at('b'))).toHaveLength(2);
  });

  it('mode with setuid, setgid or sticky bits is refused (TypeError), nothing written', async () => {
    fs.writeFileSync(at('t'), 'old');
    await expect(writeFileAtomic(at('t'), 'x', { mode: 0o4755 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(() => writeFileAtomic.sync(at('t'), 'x', { mode: 0o1644 })).toThrow(TypeError);
    expect(read(at('t'))).toBe('old');
  });

  it('a sync call while an async one for the same path is pending is refused (ERR_TEMPFILE_BUSY)', async () => {
    const p = writeFileAtomic(at('t'), 'async');
    expect(() => writeFileAtomic.sync(at('t'), 'sync')).toThrow(expect.objectContaining({ code: 'ERR_TEMPFILE_BUSY' }));
    await p;
    expect(read(at('t'))).toBe('async');
  });

  it('async calls for one path finish in call order (as write-file-atomic)', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => writeFileAtomic(at('t'), `v${i}`)));
    expect(read(at('t'))).toBe('v9');
  });
});

describe.runIf(isRoot)('as a non-root user (a child process that becomes nobody)', () => {
  it("the README's chown {uid:100,gid:50} example succeeds with the chown ignored, as in write-file-atomic", () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'securetemp-nobody-'));
    try {
      fs.chownSync(d, 65534, 65534);
      const r = runNode(`
        // loaded as root, then nobody: the checkout may not be readable by nobody
        const mods = { ours: require('securetemp/write-file-atomic'), theirs: require('write-file-atomic') };
        const fs = require('fs');
        process.setgid(65534); process.setuid(65534);
        const out = {};
        (async () => {
          for (const [name, w] of Object.entries(mods)) {
            const f = ${JSON.stringify(d)} + '/' + name;
            await w(f, 'Hello Node', { chown: { uid: 100, gid: 50 } });
            w.sync(f + '.sync', 'Hello Node', { chown: { uid: 100, gid: 50 } });
            out[name] = [fs.readFileSync(f, 'utf8'), fs.statSync(f).uid, fs.statSync(f + '.sync').uid];
          }
        })().then(() => console.log(JSON.stringify(out)), (e) => { console.error(e); process.exit(1); });`);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out.ours).toEqual(['Hello Node', 65534, 65534]);
      expect(out.ours).toEqual(out.theirs);
      expect(ls(d)).toEqual(['ours', 'ours.sync', 'theirs', 'theirs.sync']);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('module shapes', () => {
  it('import: the function as default export, sync as a named export, as Node gives write-file-atomic', () => {
    const code = (mod: string) => `
      import writeFileAtomic, { sync } from '${mod}';
      import { createRequire } from 'node:module';
      const req = createRequire(import.meta.url)('${mod}');
      console.log(JSON.stringify([typeof writeFileAtomic, writeFileAtomic === req, sync === req.sync]));`;
    for (const mod of ['securetemp/write-file-atomic', 'write-file-atomic']) {
      const out = runNode(code(mod), { args: ['--input-type=module'] });
      expect(out.stderr).toBe('');
      expect(JSON.parse(out.stdout)).toEqual(['function', true, true]);
    }
  });
});

describe.runIf(process.platform === 'linux')('a refused chmod never widens the mode (tenth outside review)', () => {
  // fchmod refused (ENOSYS for anyone: FUSE, SMB, vfat; EPERM/EINVAL for a non-root user): the
  // drop-in wrote again without it, creating the file 0o666 narrowed by the umask, so
  // {mode: 0o600} came out 0644. write-file-atomic opens its temp file with the mode (the
  // existing file's when none is given), so it stays 0600. Checked against write-file-atomic
  // 7.0.1 under the same injection (strace -e inject=fchmod:error=ENOSYS).
  const cases: [string, string, string][] = [
    ['{mode: 0o600}', 'null', '{ mode: 0o600 }'],
    ['{mode: 0o640}', 'null', '{ mode: 0o640 }'],
    ['no mode, an existing 0600 file', '0o600', '{}'],
    ['no mode, an existing 0640 file', '0o640', '{}'],
  ];
  it.each(cases)('%s: as write-file-atomic, never wider than asked', (_, existing, opts) => {
    if (spawnSync('strace', ['-V']).status !== 0) throw new Error('strace is needed (apt-get install strace)');
    const code = `const fs = require('fs'), path = require('path');
      process.umask(0o022);
      const out = {};
      (async () => {
        for (const mod of ['securetemp/write-file-atomic', 'write-file-atomic']) {
          const wfa = require(mod);
          for (const how of ['sync', 'async']) {
            const f = path.join(process.argv[1], mod.replace(/\\W+/g, '-') + '-' + how);
            if (${existing} !== null) { fs.writeFileSync(f, 'old'); fs.chmodSync(f, ${existing}); }
            if (how === 'sync') wfa.sync(f, 'secret', ${opts}); else await wfa(f, 'secret', ${opts});
            out[mod + ' ' + how] = (fs.statSync(f).mode & 0o777).toString(8) + ':' + fs.readFileSync(f, 'utf8');
          }
        }
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=fchmod', '-e', 'inject=fchmod:error=ENOSYS', process.execPath, '-e', code, dir], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as Record<string, string>;
    const want = (opts === '{}' ? Number(existing) : Number(/0o\d+/.exec(opts)![0])) & ~0o022;
    const expected = `${want.toString(8)}:secret`;
    expect(out).toEqual({
      'securetemp/write-file-atomic sync': expected,
      'securetemp/write-file-atomic async': expected,
      'write-file-atomic sync': expected,
      'write-file-atomic async': expected,
    });
  });
});
