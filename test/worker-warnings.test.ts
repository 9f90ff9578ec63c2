// In a worker thread (ava, piscina, …) the common operations print nothing (issue 16, item 12):
// Node warns "File descriptor N closed but not opened in unmanaged mode" when a worker's fs
// closes a descriptor that fs did not open there, and the addon opens the temp files; they are
// now closed through the addon there (src/_close.ts). Before, 13 warnings in this fixture.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, scratch } from './_helpers';

const s = scratch();
afterAll(() => s.remove());

describe('worker threads', () => {
  it('files, named files, persist, reopen, streams, spooled, directories, writeFileAtomic and the compat entry points print nothing on stderr', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'test', 'fixtures', 'worker-ops.cjs'), s.dir], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('done\n');
    expect(r.status).toBe(0);
    // what the worker made to keep is there; everything temporary is gone
    expect(fs.readdirSync(s.dir).sort()).toEqual(['atomic', 'persisted', 'persisted-sync']);
    expect(fs.readFileSync(path.join(s.dir, 'persisted'), 'utf8')).toBe('kept');
  });
});
