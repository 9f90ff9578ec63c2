// Attack class: links planted at the names we are about to create. Another user who can
// write to the shared directory (or who guessed a name) puts a symbolic link (live or
// dangling, to a file or a directory), a hard link to a victim file, a FIFO or a plain file
// where a creator will look. Creation is O_CREAT|O_EXCL|O_NOFOLLOW (files), mkdirat
// (directories), linkat (naming an O_TMPFILE file): every one of them fails on any existing
// name, so a plant is a collision, retried with the next name, and never followed, written,
// truncated, re-moded or removed. The name generator is forced so the plants really are the
// first names tried. The plants are made by the same uid as the creator, so the kernel's
// protected_symlinks/protected_hardlinks (which only guard against other owners in sticky
// directories) play no part: the flags alone are what is tested.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { internals, linuxExtras, ls, scratch, tempfile } from '../_helpers';
import { sw } from './_security';

let s: ReturnType<typeof scratch>;
let dir: string;
let victimDir: string;
let victim: string;
let n = 0;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());
beforeEach(() => {
  dir = path.join(s.dir, `d${n}`);
  victimDir = path.join(s.dir, `victims${n++}`);
  fs.mkdirSync(dir);
  fs.mkdirSync(victimDir);
  victim = path.join(victimDir, 'precious');
  fs.writeFileSync(victim, 'precious');
  fs.chmodSync(victim, 0o640);
});
afterEach(() => {
  sw.forceNoTmpfile = false;
  internals.setNameGenerator(null);
});

const PLANTS = ['symfile', 'symdangling', 'symdir', 'hardlink', 'fifo', 'file', 'dir'] as const;

/** Plants one of each at prefix + kind + suffix; returns what each looked like. */
function plant(prefix: string, suffix: string): Map<string, fs.BigIntStats> {
  const at = (k: string) => path.join(dir, prefix + k + suffix);
  fs.symlinkSync(victim, at('symfile'));
  fs.symlinkSync(path.join(victimDir, 'created-through-link'), at('symdangling'));
  fs.symlinkSync(victimDir, at('symdir'));
  fs.linkSync(victim, at('hardlink'));
  execFileSync('mkfifo', [at('fifo')]);
  fs.writeFileSync(at('file'), 'someone else');
  fs.mkdirSync(at('dir'));
  return new Map(PLANTS.map((k) => [at(k), fs.lstatSync(at(k), { bigint: true })]));
}

function plantsIntact(before: Map<string, fs.BigIntStats>): void {
  for (const [p, st] of before) {
    const now = fs.lstatSync(p, { bigint: true });
    expect({ p, ino: now.ino, mode: now.mode, size: now.size, mtime: now.mtimeNs }).toEqual({
      p,
      ino: st.ino,
      mode: st.mode,
      size: st.size,
      mtime: st.mtimeNs,
    });
  }
  expect(fs.readlinkSync([...before.keys()][0]!)).toBe(victim);
  const v = fs.statSync(victim);
  expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
  expect(v.mode & 0o7777).toBe(0o640);
  expect(v.nlink).toBe(2); // itself and the planted hard link: nothing added or removed
  expect(ls(victimDir)).toEqual(['precious']); // nothing created through the dangling or directory link
}

/** Every creation asks the generator for a fresh list of candidates: the plants come first in each. */
function forcePlantsFirst(): void {
  let i = 0;
  internals.setNameGenerator(() => {
    const k = i++ % tempfile.TMP_MAX;
    return k < PLANTS.length ? PLANTS[k]! : `fresh${k}`;
  });
}

type Made = { name: string | null; gone?: boolean; close(): unknown };
interface Creator {
  name: string;
  prefix: string;
  suffix: string;
  fallback?: boolean;
  make(): Promise<Made>;
}

const opts = () => ({ dir, prefix: 'p-', suffix: '.s' });
const base = (p: string | null) => (p === null ? null : path.basename(p));
const CREATORS: Creator[] = [
  { name: 'mkstempSync', prefix: 'p-', suffix: '.s', make: async () => { const r = tempfile.mkstempSync(opts()); return { name: base(r.path), close: () => fs.closeSync(r.fd) }; } },
  { name: 'mkstemp', prefix: 'p-', suffix: '.s', make: async () => { const r = await tempfile.mkstemp(opts()); return { name: base(r.path), close: () => fs.closeSync(r.fd) }; } },
  { name: 'mkdtempSync', prefix: 'p-', suffix: '.s', make: async () => ({ name: base(tempfile.mkdtempSync(opts())), close: () => undefined }) },
  { name: 'mkdtemp', prefix: 'p-', suffix: '.s', make: async () => ({ name: base(await tempfile.mkdtemp(opts())), close: () => undefined }) },
  { name: 'NamedTemporaryFileSync', prefix: 'p-', suffix: '.s', make: async () => { const f = tempfile.NamedTemporaryFileSync(opts()); f.writeSync(Buffer.from('mine')); return { name: base(f.path), gone: true, close: () => f.closeSync() }; } },
  { name: 'NamedTemporaryFile', prefix: 'p-', suffix: '.s', make: async () => { const f = await tempfile.NamedTemporaryFile(opts()); await f.write(Buffer.from('mine')); return { name: base(f.path), gone: true, close: () => f.close() }; } },
  { name: 'TemporaryDirectorySync', prefix: 'p-', suffix: '.s', make: async () => { const d = tempfile.TemporaryDirectorySync(opts()); fs.writeFileSync(path.join(d.path, 'f'), 'mine'); return { name: base(d.path), gone: true, close: () => d.cleanupSync() }; } },
  { name: 'TemporaryDirectory', prefix: 'p-', suffix: '.s', make: async () => { const d = await tempfile.TemporaryDirectory(opts()); return { name: base(d.path), gone: true, close: () => d.cleanup() }; } },
  // Unnamed files without O_TMPFILE: created under a name, then unlinked.
  { name: 'TemporaryFileSync (create-then-unlink)', prefix: 'p-', suffix: '.s', fallback: true, make: async () => { const f = tempfile.TemporaryFileSync(opts()); f.writeSync(Buffer.from('mine')); return { name: null, close: () => f.closeSync() }; } },
  { name: 'TemporaryFile (create-then-unlink)', prefix: 'p-', suffix: '.s', fallback: true, make: async () => { const f = await tempfile.TemporaryFile(opts()); return { name: null, close: () => f.close() }; } },
  { name: 'SpooledTemporaryFile rollover (create-then-unlink)', prefix: 'p-', suffix: '.s', fallback: true, make: async () => { const f = tempfile.SpooledTemporaryFile(opts()); f.writeSync(Buffer.from('mine')); f.rolloverSync(); return { name: null, close: () => f.closeSync() }; } },
  // writeFileAtomic's temp names: '.' + target + '.' + random + '.tmp', O_EXCL (fallback) or
  // the linkat that names an O_TMPFILE file before the rename (default).
  ...[false, true].flatMap((fallback) => [
    { name: `writeFileAtomicSync (${fallback ? 'O_EXCL temp' : 'O_TMPFILE, linkat'})`, prefix: '.target.', suffix: '.tmp', fallback, make: async () => { tempfile.writeFileAtomicSync(path.join(dir, 'target'), 'mine'); return { name: 'target', close: () => undefined }; } },
    { name: `writeFileAtomic (${fallback ? 'O_EXCL temp' : 'O_TMPFILE, linkat'})`, prefix: '.target.', suffix: '.tmp', fallback, make: async () => { await tempfile.writeFileAtomic(path.join(dir, 'target'), ['mi', 'ne']); return { name: 'target', close: () => undefined }; } },
  ]),
  // persist of an unnamed O_TMPFILE file over an existing target: linked to a fresh name first.
  ...(linuxExtras
    ? [{ name: 'TempFile.persistSync (unnamed, replacing)', prefix: '.target.', suffix: '.tmp', make: async () => {
        fs.writeFileSync(path.join(dir, 'target'), 'old');
        const f = tempfile.TemporaryFileSync({ dir });
        f.writeSync(Buffer.from('mine'));
        f.persistSync(path.join(dir, 'target'));
        return { name: 'target', close: () => f.closeSync() };
      } }]
    : []),
];

describe.each(CREATORS.map((c) => [c.name, c] as const))('%s', (_, c) => {
  it('skips every planted name without following, writing or removing it, and creates at the next one', async () => {
    sw.forceNoTmpfile = c.fallback === true;
    const before = plant(c.prefix, c.suffix);
    forcePlantsFirst();
    const made = await c.make();
    internals.setNameGenerator(null);
    const planted = [...before.keys()].map((p) => path.basename(p));
    const expected = made.name === null ? [] : [made.name];
    if (made.name !== null && made.name !== 'target') expect(made.name).toBe(`${c.prefix}fresh${PLANTS.length}${c.suffix}`);
    expect(ls(dir)).toEqual([...planted, ...expected].sort());
    if (made.name === 'target') expect(fs.readFileSync(path.join(dir, 'target'), 'utf8')).toBe('mine');
    plantsIntact(before);
    await made.close();
    // Deleting (close, cleanup) removes only what it made.
    if (made.gone) expect(ls(dir)).toEqual(planted.sort());
    plantsIntact(before);
  });
});
