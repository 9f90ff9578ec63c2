// Descriptors are O_CLOEXEC: a child process inherits none of them.
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internals, isLinux, scratch, tempfile } from './_helpers';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

function childFds(): Set<string> {
  // /bin/sh execs ls: what is open in the child after exec
  const r = spawnSync('/bin/sh', ['-c', 'ls -l /proc/self/fd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return new Set(r.stdout.split('\n').map((l) => l.split(' -> ')[1] ?? '').filter(Boolean));
}

describe.runIf(isLinux)('no descriptor is inherited by a child process', () => {
  it('for every kind of creation', async () => {
    const mk = tempfile.mkstempSync({ dir: s.dir });
    const mka = await tempfile.mkstemp({ dir: s.dir });
    const tf = tempfile.TemporaryFileSync({ dir: s.dir });
    internals.internals.forceNoTmpfile = true;
    const tfb = tempfile.TemporaryFileSync({ dir: s.dir });
    internals.internals.forceNoTmpfile = false;
    const tfa = await tempfile.TemporaryFile({ dir: s.dir });
    const seen = childFds();
    const leaked = [...seen].filter((t) => t.startsWith(s.dir));
    expect(leaked).toEqual([]);
    // and the descriptors really were open (the check could otherwise pass vacuously)
    for (const fd of [mk.fd, mka.fd, tf.fd, tfb.fd, tfa.fd]) {
      expect(fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(s.dir)).toBe(true);
      expect(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')).toMatch(/flags:\s+0[0-7]*2[0-7]{6}\n/); // O_CLOEXEC = 02000000
    }
    for (const f of [mk, mka]) fs.closeSync(f.fd);
    for (const f of [tf, tfb]) f.closeSync();
    await tfa.close();
  });
});
