// Attack class: the directory changed under us. `dir` is a path, and a path is resolved
// again by every system call that takes it: a symbolic link at `dir` (or above it) can be
// pointed elsewhere between the world-writable check and the creation (the npm tmp CVE of a
// symlinked dir escaping the temp root was of this family). Every call opens `dir` once, checks
// that handle (fstat) and creates relative to it (openat/mkdirat): what was checked is what
// is created in. What is NOT promised: `dir` is followed at call time like any path you give
// (a symlink there is yours to trust), a relative `dir` is resolved against the working
// directory of that moment, and the returned path is `dir` + name, not a realpath, so it
// leads wherever `dir` leads later.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fork } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ls, runNode, scratch, tempfile } from '../_helpers';
import { sw } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
afterEach(() => {
  sw.forceNoTmpfile = false;
});

function dirs(name: string) {
  const root = path.join(s.dir, name);
  const good = path.join(root, 'good');
  const bad = path.join(root, 'bad'); // world-writable, no sticky bit: others can rename and unlink in it
  const other = path.join(root, 'other');
  for (const d of [good, bad, other]) fs.mkdirSync(d, { recursive: true });
  fs.chmodSync(bad, 0o777);
  const link = path.join(root, 'dir');
  return { good, bad, other, link };
}

describe('a symbolic link as dir', () => {
  it('is followed at call time; the check applies to the directory it leads to; paths keep the link', () => {
    const { good, bad, link } = dirs('symlinked');
    fs.symlinkSync(good, link);
    const f = tempfile.mkstempSync({ dir: link });
    fs.closeSync(f.fd);
    expect(path.dirname(f.path)).toBe(link); // no realpath
    expect(ls(good)).toEqual([path.basename(f.path)]);
    fs.unlinkSync(link);
    fs.symlinkSync(bad, link);
    expect(() => tempfile.mkstempSync({ dir: link })).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_TEMPDIR', path: link }));
    expect(() => tempfile.mkdtempSync({ dir: link })).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_TEMPDIR' }));
    expect(ls(bad)).toEqual([]);
  });

  it('swapped between two calls: each call creates where dir led when it was made', () => {
    const { good, other, link } = dirs('between');
    fs.symlinkSync(good, link);
    const a = tempfile.mkdtempSync({ dir: link });
    fs.unlinkSync(link);
    fs.symlinkSync(other, link);
    const b = tempfile.mkdtempSync({ dir: link });
    expect(ls(good)).toEqual([path.basename(a)]);
    expect(ls(other)).toEqual([path.basename(b)]);
    // The first path now leads into `other`, where no such name exists: paths are not pinned.
    expect(fs.existsSync(a)).toBe(false);
  });

  it('a relative dir is resolved against the working directory of each call; returned paths are absolute', () => {
    const { good, other } = dirs('relative');
    const r = runNode(
      `const t = require('securetemp'), path = require('path');
       process.chdir(${JSON.stringify(good)});
       const a = t.mkdtempSync({ dir: '.' }), b = t.mkdtempSync({ dir: 'sub/..' });
       process.chdir(${JSON.stringify(other)});
       const c = t.mkdtempSync({ dir: '.' });
       console.log(JSON.stringify([a, b, c]));`,
    );
    expect(r.stderr).toBe('');
    const [a, b, c] = JSON.parse(r.stdout) as string[];
    // 'sub/..' is resolved lexically (path.resolve), so it works even though sub does not exist.
    expect([path.dirname(a!), path.dirname(b!), path.dirname(c!)]).toEqual([good, good, other]);
    expect(ls(good)).toEqual([path.basename(a!), path.basename(b!)].sort());
  });
});

describe('dir flipped between a safe and a world-writable directory while creations run', () => {
  // Another process points the link at `good` (0700) and `bad` (0777, no sticky bit) as fast
  // as it can. Were the check made on the path and the creation on the path again, some
  // objects would pass the check in `good` and land in `bad`. With one handle per call each
  // call either creates in `good` or is refused with ERR_INSECURE_TEMPDIR; `bad` stays empty.
  it('nothing is ever created in the insecure directory (mkstemp, mkdtemp, create-then-unlink files; sync and async)', async () => {
    const { good, bad, link } = dirs('race');
    fs.symlinkSync(good, link);
    const attacker = fork(path.join(ROOT, 'test/security/fixtures/flip-link.cjs'), [link, good, bad], { stdio: 'ignore' });
    await new Promise((r) => attacker.once('message', r));
    const outcome = { created: 0, refused: 0, other: [] as string[] };
    const made: { name: string; ino: number | null; dir: boolean }[] = [];
    const record = (fn: () => { name: string; ino: number | null; dir: boolean } | null) => {
      try {
        const m = fn();
        outcome.created++;
        if (m) made.push(m);
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_INSECURE_TEMPDIR') outcome.refused++;
        else outcome.other.push(String(e));
      }
    };
    try {
      sw.forceNoTmpfile = true; // unnamed files get a name for a moment: the check applies
      // At least 600 rounds; more (up to 3000) while one outcome is still rare, as it can be
      // when the attacker gets little CPU on a loaded machine.
      for (let round = 0; round < 3000 && (round < 600 || outcome.created <= 100 || outcome.refused <= 100); round++) {
        record(() => {
          const f = tempfile.mkstempSync({ dir: link });
          const ino = fs.fstatSync(f.fd).ino;
          fs.closeSync(f.fd);
          return { name: path.basename(f.path), ino, dir: false };
        });
        record(() => ({ name: path.basename(tempfile.mkdtempSync({ dir: link })), ino: null, dir: true }));
        record(() => {
          tempfile.TemporaryFileSync({ dir: link }).closeSync();
          return null;
        });
        const asyncs = await Promise.allSettled([tempfile.mkstemp({ dir: link }), tempfile.mkdtemp({ dir: link })]);
        for (const a of asyncs) {
          record(() => {
            if (a.status === 'rejected') throw a.reason;
            const v = a.value;
            if (typeof v === 'string') return { name: path.basename(v), ino: null, dir: true };
            const ino = fs.fstatSync(v.fd).ino;
            fs.closeSync(v.fd);
            return { name: path.basename(v.path), ino, dir: false };
          });
        }
      }
    } finally {
      attacker.send('stop');
    }
    const { flips } = (await new Promise((r) => attacker.once('message', r))) as { flips: number };
    expect(outcome.other).toEqual([]);
    expect(ls(bad)).toEqual([]);
    // Every object made is in good, and is the very file the descriptor held.
    for (const m of made) {
      const st = fs.lstatSync(path.join(good, m.name));
      expect(st.isDirectory()).toBe(m.dir);
      if (m.ino !== null) expect(st.ino).toBe(m.ino);
    }
    expect(ls(good)).toHaveLength(made.length);
    // The race really ran: both outcomes happened, and the link flipped throughout.
    expect(flips).toBeGreaterThan(100);
    expect(outcome.created).toBeGreaterThan(100);
    expect(outcome.refused).toBeGreaterThan(100);
  });
});
