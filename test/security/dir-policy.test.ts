// Attack class: a directory where others can add or remove entries (issue 12). One policy for
// every creator on every platform, TemporaryFile (O_TMPFILE) included: a directory is trusted
// when nobody but its owner can add or remove entries (not group- or world-writable), or when it
// is sticky and owned by root or by us. Anything else is ERR_INSECURE_TEMPDIR with the reason
// ("world-writable without the sticky bit", "group-writable without the sticky bit", "sticky but
// owned by uid N"); allowInsecureDir: true skips the check. Before issue 12 only "world-writable
// without the sticky bit" was refused, and not for an O_TMPFILE file on Linux: a group-writable
// directory, and a sticky one owned by another user (who may rename or delete our files), were
// used, and the same TemporaryFile call threw on macOS and succeeded on Linux.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, ls, scratch, tempfile } from '../_helpers';
import { NOBODY, runAsNobody, sw } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
  fs.chmodSync(s.dir, 0o755); // nobody (a child below) must reach the directories
});
afterAll(() => s.remove());
afterEach(() => {
  sw.forceNoTmpfile = false;
});

const me = process.geteuid!();

/** The policy, written out independently of the addon: null when trusted, else the reason. */
function verdict(mode: number, uid: number, euid = me): string | null {
  if ((mode & 0o022) === 0) return null;
  if (mode & 0o1000) return uid === 0 || uid === euid ? null : `sticky but owned by uid ${uid}`;
  return mode & 0o002 ? 'world-writable without the sticky bit' : 'group-writable without the sticky bit';
}

type Opts = { dir: string; allowInsecureDir?: boolean };
/** Each creator, made and undone (nothing left in dir): a sync and an async form. */
const creators: [string, (o: Opts) => void, (o: Opts) => Promise<void>][] = [
  [
    'mkstemp',
    (o) => {
      const r = tempfile.mkstempSync(o);
      fs.closeSync(r.fd);
      fs.unlinkSync(r.path);
    },
    async (o) => {
      const r = await tempfile.mkstemp(o);
      fs.closeSync(r.fd);
      fs.unlinkSync(r.path);
    },
  ],
  ['mkdtemp', (o) => fs.rmdirSync(tempfile.mkdtempSync(o)), async (o) => fs.rmdirSync(await tempfile.mkdtemp(o))],
  [
    'NamedTemporaryFile',
    (o) => tempfile.NamedTemporaryFileSync(o).closeSync(),
    async (o) => (await tempfile.NamedTemporaryFile(o)).close(),
  ],
  [
    'TemporaryDirectory',
    (o) => tempfile.TemporaryDirectorySync(o).cleanupSync(),
    async (o) => (await tempfile.TemporaryDirectory(o)).cleanup(),
  ],
  ['TemporaryFile', (o) => tempfile.TemporaryFileSync(o).closeSync(), async (o) => (await tempfile.TemporaryFile(o)).close()],
  [
    'TemporaryFile (create-then-unlink)',
    (o) => {
      sw.forceNoTmpfile = true;
      tempfile.TemporaryFileSync(o).closeSync();
    },
    async (o) => {
      sw.forceNoTmpfile = true;
      await (await tempfile.TemporaryFile(o)).close();
    },
  ],
  [
    'SpooledTemporaryFile rollover',
    (o) => {
      const f = tempfile.SpooledTemporaryFile({ ...o, maxSize: 1 });
      try {
        f.writeSync(Buffer.from('xx'));
      } finally {
        f.closeSync();
      }
    },
    async (o) => {
      const f = tempfile.SpooledTemporaryFile({ ...o, maxSize: 1 });
      try {
        await f.write(Buffer.from('xx'));
      } finally {
        await f.close();
      }
    },
  ],
];

const MODES = [0o700, 0o755, 0o770, 0o775, 0o777, 0o1770, 0o1777, 0o1755];
const OWNERS = isRoot ? [0, NOBODY] : [me];

let n = 0;
function mkdir(mode: number, uid: number): string {
  const d = path.join(s.dir, `d${n++}-${mode.toString(8)}-${uid}`);
  fs.mkdirSync(d);
  if (uid !== me) fs.chownSync(d, uid, uid);
  fs.chmodSync(d, mode);
  return d;
}

describe('the policy matrix: every mode × owner, every creator, sync and async', () => {
  for (const uid of OWNERS) {
    for (const mode of MODES) {
      const why = verdict(mode, uid);
      it(`mode ${mode.toString(8).padStart(4, '0')} owned by ${uid === 0 ? 'root' : uid === me ? 'us' : `uid ${uid}`}: ${why ?? 'trusted'}`, async () => {
        const d = mkdir(mode, uid);
        for (const [name, sync, async_] of creators) {
          for (const [form, make] of [['sync', sync], ['async', async_]] as const) {
            let err: unknown = null;
            try {
              await make({ dir: d });
            } catch (e) {
              err = e;
            }
            const got = err === null ? null : (err as { code?: string }).code === 'ERR_INSECURE_TEMPDIR' ? (err as { reason: string }).reason : err;
            expect({ creator: `${name} (${form})`, got }).toEqual({ creator: `${name} (${form})`, got: why });
            if (why !== null) {
              const e = err as Error & { path: string };
              expect(e.path).toBe(d);
              expect(e.message).toContain(`it is ${why} (pass allowInsecureDir: true`);
              // The check is skipped when asked.
              await make({ dir: d, allowInsecureDir: true });
            }
            expect(ls(d)).toEqual([]);
          }
        }
      });
    }
  }
});

describe('a directory whose mode changes between two creations', () => {
  it.each(creators)('%s: trusted, then group-writable, world-writable, sticky: each creation sees the mode of its moment', async (_, sync, async_) => {
    const d = mkdir(0o700, me);
    for (const make of [sync, async_]) {
      fs.chmodSync(d, 0o700);
      await make({ dir: d });
      fs.chmodSync(d, 0o770);
      await expect(Promise.resolve().then(() => make({ dir: d }))).rejects.toMatchObject({
        code: 'ERR_INSECURE_TEMPDIR',
        reason: 'group-writable without the sticky bit',
      });
      fs.chmodSync(d, 0o777);
      await expect(Promise.resolve().then(() => make({ dir: d }))).rejects.toMatchObject({
        code: 'ERR_INSECURE_TEMPDIR',
        reason: 'world-writable without the sticky bit',
      });
      fs.chmodSync(d, 0o1777);
      await make({ dir: d });
      if (isRoot) {
        fs.chownSync(d, NOBODY, NOBODY);
        await expect(Promise.resolve().then(() => make({ dir: d }))).rejects.toMatchObject({
          code: 'ERR_INSECURE_TEMPDIR',
          reason: `sticky but owned by uid ${NOBODY}`,
        });
        fs.chownSync(d, me, me);
      }
      fs.chmodSync(d, 0o755);
      await make({ dir: d });
    }
    expect(ls(d)).toEqual([]);
  });
});

describe.runIf(isRoot)('as an ordinary user (nobody): "us" is not root', () => {
  it('a sticky directory owned by us or by root is trusted, one owned by a third uid is not; group-writable ones of ours are not', () => {
    const dirs = {
      ours: mkdir(0o1777, NOBODY),
      roots: mkdir(0o1777, 0),
      third: mkdir(0o1777, 1),
      oursGroup: mkdir(0o775, NOBODY),
      oursPrivate: mkdir(0o755, NOBODY),
    };
    const r = runAsNobody(`
      const out = {};
      for (const [k, d] of Object.entries(${JSON.stringify(dirs)})) {
        const res = [];
        for (const make of [() => { const r = t.mkstempSync({ dir: d }); fs.closeSync(r.fd); fs.unlinkSync(r.path); },
                            () => t.TemporaryFileSync({ dir: d }).closeSync(),
                            () => t.TemporaryDirectorySync({ dir: d }).cleanupSync()]) {
          try { make(); res.push('ok'); } catch (e) { res.push(e.code === 'ERR_INSECURE_TEMPDIR' ? e.reason : e.code); }
        }
        out[k] = [...new Set(res)];
      }
      console.log(JSON.stringify(out));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      ours: ['ok'],
      roots: ['ok'],
      third: ['sticky but owned by uid 1'],
      oursGroup: ['group-writable without the sticky bit'],
      oursPrivate: ['ok'],
    });
    for (const d of Object.values(dirs)) expect(ls(d)).toEqual([]);
  });
});
