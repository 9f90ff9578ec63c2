// Memory-only files: TemporaryFile({memory: true}) is a memfd on Linux (memfd_create with
// MFD_CLOEXEC|MFD_ALLOW_SEALING): a real descriptor with no entry in any directory. The whole
// file object works on it. Where there is none (other platforms, the portable build) memory: true
// is ERR_UNSUPPORTED_OPERATION and memory: 'prefer' gives an unnamed TemporaryFile.
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linuxExtras, scratch, tempfile } from './_helpers';
import type { TempFile } from 'securetemp';

let s: ReturnType<typeof scratch>;
beforeEach(() => {
  s = scratch();
});
afterEach(() => s.remove());

const hasPython = spawnSync('python3', ['-c', 'import mmap']).status === 0;

describe.runIf(linuxExtras)('a memory file (Linux)', () => {
  it('has no directory entry: path null, link count 0, /proc/self/fd/N reads memfd:securetemp', async () => {
    for (const f of [tempfile.TemporaryFileSync({ memory: true }), await tempfile.TemporaryFile({ memory: true })]) {
      try {
        expect(f.memory).toBe(true);
        expect(f.path).toBeNull();
        expect(f.name).toBe(f.fd);
        expect(fs.fstatSync(f.fd).nlink).toBe(0);
        const link = fs.readlinkSync(`/proc/self/fd/${f.fd}`);
        expect(link).toMatch(/^\/?memfd:securetemp( \(deleted\))?$/);
        expect(f.sealed).toBe(false);
      } finally {
        f.closeSync();
      }
    }
  });

  it('dir, prefix and suffix are checked but make nothing anywhere', () => {
    const f = tempfile.TemporaryFileSync({ memory: true, dir: s.dir, prefix: 'userdata-', suffix: '.secret' });
    try {
      expect(fs.readdirSync(s.dir)).toEqual([]);
      expect(fs.readlinkSync(`/proc/self/fd/${f.fd}`)).not.toMatch(/userdata|secret/);
    } finally {
      f.closeSync();
    }
    expect(() => tempfile.TemporaryFileSync({ memory: true, prefix: 'a/b' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it("memory: 'prefer' gives a memory file here", () => {
    const f = tempfile.TemporaryFileSync({ memory: 'prefer' });
    expect(f.memory).toBe(true);
    f.closeSync();
  });

  it('the whole file object works: write, read, seek, truncate, lines, streams, stat, chmod, reopen', async () => {
    const f = tempfile.TemporaryFileSync({ memory: true });
    try {
      f.writeSync(Buffer.from('one\ntwo\n'));
      await f.write(Buffer.from('three\n'));
      expect(f.tellSync()).toBe(14);
      f.seekSync(0);
      expect([...f].map(String)).toEqual(['one\n', 'two\n', 'three\n']);
      f.seekSync(0);
      expect(f.readlineSync()).toEqual(Buffer.from('one\n'));
      expect(await f.read(3)).toEqual(Buffer.from('two'));
      f.truncateSync(7);
      expect(f.statSync().size).toBe(7);
      f.chmodSync(0o400);
      expect(f.statSync().mode & 0o777).toBe(0o400);
      const rs = f.createReadStream({ start: 0 });
      const chunks: Buffer[] = [];
      for await (const c of rs) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('one\ntwo');
      const ws = f.createWriteStream({ start: 7 });
      await new Promise<void>((resolve, reject) => {
        ws.on('error', reject);
        ws.end(Buffer.from('!'), () => resolve());
      });
      const g = f.reopenSync();
      try {
        expect(g.memory).toBe(true);
        expect(g.readSync()).toEqual(Buffer.from('one\ntwo!'));
      } finally {
        g.closeSync();
      }
      const web = f.readableWebStream();
      f.seekSync(0);
      const parts: Uint8Array[] = [];
      for await (const c of web) parts.push(c);
      expect(Buffer.concat(parts).length).toBeGreaterThan(0);
      expect(() => f.persistSync(`${s.dir}/x`)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    } finally {
      await f.close();
    }
  });

  it('text mode and maxBytes work on it', () => {
    const f = tempfile.TemporaryFileSync({ memory: true, mode: 'w+', maxBytes: 8 });
    try {
      expect(f.writeSync('😀😀')).toBe(2);
      expect(() => f.writeSync('a')).toThrow(expect.objectContaining({ code: 'EFBIG', syscall: 'write' }));
      f.seekSync(0);
      expect(f.readSync()).toBe('😀😀');
    } finally {
      f.closeSync();
    }
  });

  it('nothing is left open after close', () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    const f = tempfile.TemporaryFileSync({ memory: true });
    const fd = f.fd;
    f.closeSync();
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
    let link = '';
    try {
      link = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // closed: no entry
    }
    expect(link).not.toContain('memfd:securetemp');
  });

  it('seal(): writes are not buffered (a seal by anyone refuses them at once); sealed is true and stays true after close', async () => {
    const f = await tempfile.TemporaryFile({ memory: true });
    f.writeSync(Buffer.from('buffered')); // straight into the memfd
    expect(fs.fstatSync(f.fd).size).toBe(8);
    await f.seal();
    expect(f.sealed).toBe(true);
    expect(fs.fstatSync(f.fd).size).toBe(8);
    f.sealSync(); // a second time does nothing
    await f.close();
    expect(f.sealed).toBe(true);
  });

  it('seal() fails with EBUSY, as itself, while a writable shared mapping exists', { skip: !hasPython }, async () => {
    const f = tempfile.TemporaryFileSync({ memory: true });
    try {
      f.writeSync(Buffer.alloc(4096, 1));
      f.flushSync();
      const { spawn } = await import('node:child_process');
      const py = spawn(
        'python3',
        ['-c', 'import mmap,sys\nm = mmap.mmap(3, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)\nprint("mapped", flush=True)\nsys.stdin.read()'],
        { stdio: ['pipe', 'pipe', 'inherit', f.fd] },
      );
      await new Promise<void>((resolve) => py.stdout!.once('data', () => resolve()));
      let err: NodeJS.ErrnoException | null = null;
      try {
        f.sealSync();
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      py.stdin!.end();
      await new Promise((resolve) => py.once('exit', resolve));
      expect(err?.code).toBe('EBUSY');
      expect(err?.syscall).toBe('fcntl');
      expect(f.sealed).toBe(false);
      f.writeSync(Buffer.from('still writable'));
      f.sealSync(); // the mapping is gone: sealing works now
      expect(f.sealed).toBe(true);
    } finally {
      f.closeSync();
    }
  });
});

describe.skipIf(linuxExtras)('no memfd (other platforms, the portable build)', () => {
  it("memory: true is ERR_UNSUPPORTED_OPERATION; 'prefer' gives an unnamed file", async () => {
    expect(() => tempfile.TemporaryFileSync({ memory: true, dir: s.dir })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
    await expect(tempfile.TemporaryFile({ memory: true, dir: s.dir })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OPERATION' });
    const f = tempfile.TemporaryFileSync({ memory: 'prefer', dir: s.dir });
    try {
      expect(f.memory).toBe(false);
      expect(f.path).toBeNull();
      f.writeSync(Buffer.from('x'));
    } finally {
      f.closeSync();
    }
    expect(fs.readdirSync(s.dir)).toEqual([]);
  });
});

describe('memory and sealed on every other file', () => {
  it('are false; seal() is ERR_UNSUPPORTED_OPERATION', async () => {
    const files: TempFile[] = [
      tempfile.TemporaryFileSync({ dir: s.dir }),
      tempfile.TemporaryFileSync({ dir: s.dir, memory: false }),
      tempfile.NamedTemporaryFileSync({ dir: s.dir }),
      tempfile.SpooledTemporaryFile({ dir: s.dir }),
    ];
    for (const f of files) {
      try {
        expect(f.memory).toBe(false);
        expect(f.sealed).toBe(false);
        expect(() => f.sealSync()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OPERATION' }));
        await expect(f.seal()).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OPERATION' });
      } finally {
        f.closeSync();
      }
    }
  });

  it('the memory option is checked', () => {
    expect(() => tempfile.TemporaryFileSync({ memory: 'yes' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => tempfile.TemporaryFileSync({ memory: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => tempfile.NamedTemporaryFileSync({ memory: true } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
