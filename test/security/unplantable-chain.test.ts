// Third outside review (2026-12-03): the "un-plantable" names of securetemp/tempy and
// securetemp/temp (a bare name only where only the caller can write, else inside a fresh 0700
// directory) were only as safe as the directories above them. In another user's directory (a
// `dir` option, a hostile TMPDIR, a `rootDirectory` made inside one) that user renamed the fresh
// directory away and put a 0777 one of theirs at its name: root's data went into it. Every
// directory from the real path up to / must now be the caller's or root's, and not writable by
// others unless sticky; else EACCES, and nothing is created.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isRoot, scratch } from '../_helpers';
import { NOBODY, isLinux } from './_security';

const require = createRequire(import.meta.url);
const temp = require('securetemp/temp') as {
  path(a?: unknown): string;
  openSync(a?: unknown): { path: string; fd: number };
  mkdirSync(a?: unknown): string;
  createWriteStream(a?: unknown): fs.WriteStream;
};
const tempy = require('securetemp/tempy') as {
  temporaryFile(o?: unknown): string;
  temporaryWriteSync(data: string, o?: unknown): string;
};

describe.skipIf(!isLinux || !isRoot)("another user's directory anywhere above the name", () => {
  let s: ReturnType<typeof scratch>;
  let shared: string;
  let theirs: string;
  beforeAll(() => {
    s = scratch();
    fs.chmodSync(s.dir, 0o755);
    shared = path.join(s.dir, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777); // as /tmp
    theirs = path.join(shared, 'appdata'); // nobody made it first, 0755: the policy alone trusts it
    fs.mkdirSync(theirs);
    fs.chownSync(theirs, NOBODY, NOBODY);
    fs.chmodSync(theirs, 0o755);
  });
  afterAll(() => s.remove());

  const refused = expect.objectContaining({ code: 'EACCES' });

  it('temp.path, openSync, createWriteStream and mkdirSync with dir: theirs: EACCES, nothing made', () => {
    for (const call of [
      () => temp.path({ dir: theirs, suffix: '.json' }),
      () => temp.openSync({ dir: theirs }),
      () => temp.createWriteStream({ dir: theirs }),
      () => temp.mkdirSync({ dir: theirs }),
    ]) {
      expect(call).toThrow(refused);
    }
    expect(fs.readdirSync(theirs)).toEqual([]);
  });

  it("tempy's rootDirectory made inside their directory: EACCES (the last component was ours, the one above theirs)", () => {
    const root = path.join(theirs, 'cache');
    expect(() => tempy.temporaryFile({ extension: 'json', rootDirectory: root } as never)).toThrow(refused);
    fs.rmSync(root, { recursive: true, force: true }); // made (as temp and tempy make it) before the refusal
  });

  it.each(['tempy.temporaryFile()', 'tempy.temporaryWriteSync()', 'temp.path()', 'temp.openSync()'])(
    'a hostile TMPDIR (their directory): %s is refused with EACCES in a fresh process',
    (call) => {
      const code = `const tempy = require('securetemp/tempy'), temp = require('securetemp/temp');
        try { const r = ${call.replace('temporaryWriteSync()', "temporaryWriteSync('x')")}; console.log('made ' + JSON.stringify(r)); }
        catch (e) { console.log(e.code); }`;
      const r = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TMPDIR: theirs } });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('EACCES');
      expect(fs.readdirSync(theirs)).toEqual([]);
    },
  );

  it('the sticky shared directory itself (root-owned, 01777, like /tmp) is still used: a fresh 0700 directory in it', () => {
    const p = temp.path({ dir: shared });
    expect(path.dirname(path.dirname(p))).toBe(fs.realpathSync(shared));
    expect(fs.statSync(path.dirname(p)).mode & 0o777).toBe(0o700);
    fs.rmSync(path.dirname(p), { recursive: true });
  });
});
