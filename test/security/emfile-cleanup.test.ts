// Third outside review (2026-12-03): near the descriptor limit, TemporaryDirectory cleanup
// failed with EMFILE while the directory-handle table kept idle handles open (only creation gave
// them back), the object counted as cleaned, and its contents stayed on disk after exit. Cleanup
// now gives the idle handles back and tries once more.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from '../_helpers';
import { isLinux } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

describe.runIf(isLinux)('cleanup at the descriptor limit', () => {
  it.each(['cleanupSync', 'cleanup'])('%s: idle handles are given back, every directory is removed', (how) => {
    const base = fs.mkdtempSync(path.join(s.dir, `${how}-`));
    const code = `const s = require('./dist/index.js'); const fs = require('fs'); const path = require('path');
      const base = process.argv[1];
      const dirs = Array.from({ length: 40 }, (_, i) => { const d = path.join(base, 'd' + i); fs.mkdirSync(d); return d; });
      for (const d of dirs) { try { s.NamedTemporaryFileSync({ dir: d }).closeSync(); } catch {} } // idle handles cached
      const made = [];
      try { for (const d of dirs) { const t = s.TemporaryDirectorySync({ dir: d }); made.push(t); fs.writeFileSync(path.join(t.path, 'data'), 'x'); } } catch (e) { if (e.code !== 'EMFILE') throw e; }
      (async () => {
        const failed = [];
        for (const t of made) { try { await t.${how}(); } catch (e) { failed.push(e.code); } }
        console.log(JSON.stringify({ made: made.length, failed }));
      })();`;
    const r = spawnSync('bash', ['-c', 'ulimit -n 45 && exec "$0" -e "$1" "$2"', process.execPath, code, base], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { made: number; failed: string[] };
    expect(out.made).toBeGreaterThan(0);
    expect(out.failed).toEqual([]);
    const left = fs.readdirSync(base).flatMap((d) => fs.readdirSync(path.join(base, d)));
    expect(left).toEqual([]);
  });
});
