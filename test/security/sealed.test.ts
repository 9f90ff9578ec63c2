// Sealed memory files: "check, then use". After seal() nobody can change the contents: not this
// process through the descriptor, not anyone opening /proc/self/fd/N for writing, not a child
// that inherits the descriptor and maps it writable. Reading still works. The descriptor is
// closed in children (O_CLOEXEC) unless passed on purpose; passed in stdio it is /dev/fd/3.
import * as fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { linuxExtras, tempfile } from '../_helpers';
import { childOpenTargets } from './_security';
import type { TempFile } from 'securetemp';

const hasPython = spawnSync('python3', ['-c', 'import mmap']).status === 0;
const CONTENT = Buffer.from('#!/bin/sh\necho checked\n');

function sealedFile(): TempFile {
  const f = tempfile.TemporaryFileSync({ memory: true });
  f.writeSync(CONTENT);
  f.sealSync();
  return f;
}

function intact(f: TempFile): void {
  const b = Buffer.alloc(CONTENT.length + 16);
  const n = fs.readSync(f.fd, b, 0, b.length, 0);
  expect(b.subarray(0, n)).toEqual(CONTENT);
  expect(fs.fstatSync(f.fd).size).toBe(CONTENT.length);
}

function errnoOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
  return undefined;
}

describe.runIf(linuxExtras)('a sealed memory file', () => {
  it('cannot be written, grown or shrunk through the object; reads still work', async () => {
    const f = sealedFile();
    try {
      expect(f.sealed).toBe(true);
      f.seekSync(0);
      expect(errnoOf(() => f.writeSync(Buffer.from('X')))).toBe('EPERM');
      await expect(f.write(Buffer.from('X'))).rejects.toMatchObject({ code: 'EPERM', syscall: 'write' });
      expect(errnoOf(() => f.truncateSync(0))).toBe('EPERM');
      expect(errnoOf(() => f.truncateSync(1000))).toBe('EPERM');
      f.seekSync(0, 2);
      expect(errnoOf(() => f.writeSync(Buffer.from('appended')))).toBe('EPERM');
      const ws = f.createWriteStream({ start: 0 });
      const err = await new Promise((resolve) => {
        ws.on('error', resolve);
        ws.write(Buffer.from('X'));
      });
      expect(err).toMatchObject({ code: 'EPERM' });
      f.seekSync(0);
      expect(f.readSync()).toEqual(CONTENT);
      intact(f);
    } finally {
      f.closeSync();
    }
  });

  it('cannot be written through the descriptor itself (fs.writeSync, ftruncate)', () => {
    const f = sealedFile();
    try {
      expect(errnoOf(() => fs.writeSync(f.fd, Buffer.from('X'), 0, 1, 0))).toBe('EPERM');
      expect(errnoOf(() => fs.ftruncateSync(f.fd, 0))).toBe('EPERM');
      intact(f);
    } finally {
      f.closeSync();
    }
  });

  it('cannot be written through /proc/self/fd/N opened for writing (EPERM on open or on write)', () => {
    const f = sealedFile();
    try {
      let code: string | undefined;
      let fd = -1;
      try {
        fd = fs.openSync(`/proc/self/fd/${f.fd}`, 'r+');
        code = errnoOf(() => fs.writeSync(fd, Buffer.from('X'), 0, 1, 0));
      } catch (e) {
        code = (e as NodeJS.ErrnoException).code;
      } finally {
        if (fd >= 0) fs.closeSync(fd);
      }
      expect(code).toBe('EPERM');
      // opening with O_TRUNC must not empty it either
      expect(errnoOf(() => fs.closeSync(fs.openSync(`/proc/self/fd/${f.fd}`, 'w')))).toBe('EPERM');
      intact(f);
    } finally {
      f.closeSync();
    }
  });

  it.runIf(hasPython)('cannot be mapped writable, nor written or truncated, by a child given the descriptor', () => {
    const f = sealedFile();
    try {
      const py = [
        'import mmap, os',
        'res = []',
        'try:',
        '    mmap.mmap(3, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE); res.append("mmap-ok")',
        'except OSError as e: res.append("mmap-" + str(e.errno))',
        'try:',
        '    os.pwrite(3, b"X", 0); res.append("write-ok")',
        'except OSError as e: res.append("write-" + str(e.errno))',
        'try:',
        '    os.ftruncate(3, 0); res.append("truncate-ok")',
        'except OSError as e: res.append("truncate-" + str(e.errno))',
        'print(" ".join(res))',
      ].join('\n');
      const r = spawnSync('python3', ['-c', py], { stdio: ['ignore', 'pipe', 'inherit', f.fd], encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe('mmap-1 write-1 truncate-1'); // 1 = EPERM
      intact(f);
    } finally {
      f.closeSync();
    }
  });

  it('is closed in children (O_CLOEXEC) unless passed on purpose', () => {
    const f = sealedFile();
    try {
      expect(childOpenTargets().some((t) => t.includes('memfd:securetemp'))).toBe(false);
      const r = spawnSync('/bin/sh', ['-c', 'exec readlink /proc/self/fd/3'], {
        stdio: ['ignore', 'pipe', 'inherit', f.fd],
        encoding: 'utf8',
      });
      expect(r.stdout).toContain('memfd:securetemp');
    } finally {
      f.closeSync();
    }
  });

  it("the documented pattern: spawn(cmd, {stdio: ['ignore', 'pipe', 'inherit', f.fd]}) reads /dev/fd/3", async () => {
    const f = sealedFile();
    try {
      const child = spawn('cat', ['/dev/fd/3'], { stdio: ['ignore', 'pipe', 'inherit', f.fd] });
      const out: Buffer[] = [];
      for await (const c of child.stdout!) out.push(c as Buffer);
      const code = await new Promise((resolve) => child.once('close', resolve));
      expect(code).toBe(0);
      expect(Buffer.concat(out)).toEqual(CONTENT);
      const sh = spawnSync('/bin/sh', ['/dev/fd/3'], { stdio: ['ignore', 'pipe', 'inherit', f.fd], encoding: 'utf8' });
      expect(sh.stdout).toBe('checked\n');
    } finally {
      f.closeSync();
    }
  });

  it('an unsealed memory file can be changed by the same means (the tests above can fail)', () => {
    const f = tempfile.TemporaryFileSync({ memory: true });
    try {
      f.writeSync(CONTENT);
      f.flushSync();
      expect(fs.writeSync(f.fd, Buffer.from('X'), 0, 1, 0)).toBe(1);
      const fd = fs.openSync(`/proc/self/fd/${f.fd}`, 'r+');
      expect(fs.writeSync(fd, Buffer.from('Y'), 0, 1, 1)).toBe(1);
      fs.closeSync(fd);
      if (hasPython) {
        const r = spawnSync('python3', ['-c', 'import mmap\nm = mmap.mmap(3, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)\nm[2:3] = b"Z"\nm.close()'], {
          stdio: ['ignore', 'pipe', 'inherit', f.fd],
        });
        expect(r.status).toBe(0);
      }
      const b = Buffer.alloc(3);
      fs.readSync(f.fd, b, 0, 3, 0);
      expect(b.toString()).toBe(hasPython ? 'XYZ' : 'XY/');
      expect(f.sealed).toBe(false);
    } finally {
      f.closeSync();
    }
  });
});

// Fourth outside review. Another holder of the descriptor (a child that produced the contents)
// may add some seals itself before seal(): with F_SEAL_WRITE alone, seal() used to skip adding
// the others, said sealed, and the child truncated the checked script afterwards.
describe.runIf(linuxExtras && hasPython)('seal() when another holder added some seals first', () => {
  /** A child given the descriptor as fd 3 adds `seals` (a Python expression over fcntl's names). */
  function childAdds(f: TempFile, seals: string): void {
    const r = spawnSync('python3', ['-c', `import fcntl\nfcntl.fcntl(3, fcntl.F_ADD_SEALS, ${seals})`], { stdio: ['ignore', 'inherit', 'inherit', f.fd] });
    expect(r.status).toBe(0);
  }
  const sealsOf = (f: TempFile) =>
    Number(spawnSync('python3', ['-c', 'import fcntl\nprint(fcntl.fcntl(3, fcntl.F_GET_SEALS))'], { stdio: ['ignore', 'pipe', 'inherit', f.fd], encoding: 'utf8' }).stdout.trim());

  it('F_SEAL_WRITE only: sealed is false until seal() adds the rest; then nobody can truncate or grow it', async () => {
    for (const sync of [true, false]) {
      const f = tempfile.TemporaryFileSync({ memory: true });
      try {
        f.writeSync(CONTENT);
        childAdds(f, 'fcntl.F_SEAL_WRITE');
        expect(f.sealed).toBe(false); // WRITE alone does not freeze the contents
        if (sync) f.sealSync();
        else await f.seal();
        expect(f.sealed).toBe(true);
        expect(sealsOf(f)).toBe(0xf); // SEAL|SHRINK|GROW|WRITE
        const r = spawnSync('python3', ['-c', 'import os\nfor n in (5, 1000):\n  try:\n    os.ftruncate(3, n); print("changed")\n  except PermissionError:\n    print("refused")'], {
          stdio: ['ignore', 'pipe', 'inherit', f.fd],
          encoding: 'utf8',
        });
        expect(r.stdout.trim().split('\n')).toEqual(['refused', 'refused']);
        intact(f);
      } finally {
        f.closeSync();
      }
    }
  });

  it('F_SEAL_SEAL without the others: seal() fails with EPERM and sealed stays false', async () => {
    const f = tempfile.TemporaryFileSync({ memory: true });
    try {
      f.writeSync(CONTENT);
      childAdds(f, 'fcntl.F_SEAL_SEAL');
      expect(() => f.sealSync()).toThrow(expect.objectContaining({ code: 'EPERM', syscall: 'fcntl' }));
      await expect(f.seal()).rejects.toMatchObject({ code: 'EPERM', syscall: 'fcntl' });
      expect(f.sealed).toBe(false);
    } finally {
      f.closeSync();
    }
  });

  it('sealed through another object on the same file: a write here fails at once, with nothing reported written', () => {
    const f = tempfile.TemporaryFileSync({ memory: true });
    try {
      f.writeSync(CONTENT);
      childAdds(f, 'fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL');
      const pos = f.tellSync();
      expect(errnoOf(() => f.writeSync(Buffer.from('more')))).toBe('EPERM');
      expect(f.tellSync()).toBe(pos);
      expect(f.sealed).toBe(true);
      intact(f);
    } finally {
      f.closeSync();
    }
  });
});

// Fifth outside review: the kernel makes a memfd 0777 whatever the umask, so another user handed a
// read-only descriptor could open /proc/<pid>/fd/N for writing and change the contents before the
// check. Memory files are 0600 like every other file.
describe.runIf(linuxExtras)('a memory file is 0600', () => {
  it('its mode is 0600, whatever the umask', () => {
    const f = tempfile.TemporaryFileSync({ memory: true });
    try {
      expect(fs.fstatSync(f.fd).mode & 0o7777).toBe(0o600);
    } finally {
      f.closeSync();
    }
  });
  it.runIf(process.getuid?.() === 0)('another uid given a read-only descriptor cannot reopen it for writing', () => {
    const f = tempfile.TemporaryFileSync({ memory: true });
    const ro = fs.openSync(`/proc/self/fd/${f.fd}`, 'r');
    try {
      f.writeSync(CONTENT);
      const r = spawnSync(
        'setpriv',
        ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'sh', '-c', 'printf EVIL 1<>/proc/self/fd/3 && echo changed || echo refused'],
        { stdio: ['ignore', 'pipe', 'pipe', ro], encoding: 'utf8' },
      );
      expect(r.stdout.trim()).toBe('refused');
      intact(f);
    } finally {
      fs.closeSync(ro);
      f.closeSync();
    }
  });
});
