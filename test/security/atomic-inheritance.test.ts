// Attack class: a planted target. writeFileAtomic keeps an existing target's mode (and, as
// root, its owner and group): whoever can put a file at the target's name in a shared
// directory could choose what the caller's new file becomes. Nothing is inherited from a file
// the caller should not trust: any file, the caller's own too, in a directory where others can
// add entries (sticky, group- or world-writable, or owned by a user other than the caller, root
// and the file's owner: whoever can add entries can move a file there), or one with more than
// one link; such a target is treated as if no file were there (0o666 & ~umask, the caller's).
// Set-user-ID and set-group-ID bits are kept only from a file the caller owns.
// The plants are made by uid 65534 (nobody) through setpriv; the victims are root and uid 1001.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, runNode, scratch, tempfile } from '../_helpers';
import { NOBODY, sw } from './_security';

const GROUP = 12345; // a group the attacker and the victim share
const VICTIM = 1001;

let s: ReturnType<typeof scratch>;
let n = 0;
beforeAll(() => {
  s = scratch();
  fs.chmodSync(s.dir, 0o755); // the other users work in subdirectories of it
});
afterAll(() => s.remove());
afterEach(() => {
  sw.forceNoTmpfile = false;
});

/** Runs a shell script as uid/gid with the supplementary groups given (setpriv). */
function as(uid: number, groups: number[], script: string) {
  const g = groups.length ? [`--groups=${groups.join(',')}`] : ['--clear-groups'];
  const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, ...g, 'sh', '-c', script], { encoding: 'utf8' });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A fresh directory with this owner, group and mode. */
function mkdir(name: string, uid: number, gid: number, mode: number): string {
  const d = path.join(s.dir, `${name}-${n++}`);
  fs.mkdirSync(d);
  fs.chownSync(d, uid, gid);
  fs.chmodSync(d, mode);
  return d;
}

/** nobody plants `file` with `mode` and 'planted' in it. */
function plant(file: string, mode: number, groups: number[] = []) {
  const r = as(NOBODY, groups, `umask 0 && printf planted > '${file}' && chmod ${mode.toString(8)} '${file}'`);
  expect(r.stderr).toBe('');
  expect(fs.statSync(file).uid).toBe(NOBODY);
  expect(fs.statSync(file).mode & 0o7777).toBe(mode);
}

const stat = (p: string) => {
  const st = fs.statSync(p);
  return { uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8), nlink: st.nlink };
};

// Root's writers, each form through each temp-file path, under umask 077.
type Write = (p: string, data: string, o?: object) => Promise<void>;
const writers: [string, boolean, Write][] = [];
for (const fallback of [false, true])
  for (const [form, w] of [
    ['sync', (p: string, d: string, o?: object) => Promise.resolve().then(() => tempfile.writeFileAtomicSync(p, d, o))],
    ['async', (p: string, d: string, o?: object) => tempfile.writeFileAtomic(p, d, o)],
  ] as const)
    writers.push([`${form}${fallback ? ', named O_EXCL temp file' : ''}`, fallback, w]);

async function asRoot(write: Write, fallback: boolean, p: string, data: string, o?: object) {
  sw.forceNoTmpfile = fallback;
  const old = process.umask(0o077);
  try {
    await write(p, data, o);
  } finally {
    process.umask(old);
  }
}

describe.runIf(isRoot)('root as the victim', () => {
  it.each(writers)('%s: nobody plants the target 0666 in a sticky 1777 directory: root\'s file stays root\'s, 0600, unreadable to nobody', async (_, fallback, write) => {
    const d = mkdir('sticky', 0, 0, 0o1777);
    const t = path.join(d, 'service.state');
    plant(t, 0o666);
    await asRoot(write, fallback, t, 'the secret');
    expect(stat(t)).toEqual({ uid: 0, gid: 0, mode: '600', nlink: 1 });
    expect(fs.readFileSync(t, 'utf8')).toBe('the secret');
    const r = as(NOBODY, [], `cat '${t}'`);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Permission denied/);
    expect(as(NOBODY, [], `printf rewritten > '${t}'`).status).not.toBe(0);
    expect(fs.readFileSync(t, 'utf8')).toBe('the secret');
  });

  it.each(writers)('%s: the same in a group-writable (0770) and a world-writable directory, and a plant with set-user-ID', async (_, fallback, write) => {
    for (const [mode, planted] of [
      [0o770, 0o666],
      [0o777, 0o4777],
      [0o2775, 0o2666],
    ] as const) {
      const d = mkdir('shared', 0, GROUP, mode);
      const t = path.join(d, 'service.state');
      plant(t, planted, [GROUP]);
      await asRoot(write, fallback, t, 'the secret');
      expect(stat(t), `directory ${mode.toString(8)}`).toMatchObject({ uid: 0, mode: '600' });
    }
  });

  it.each(writers)('%s: a directory owned by a third user: nothing of another user\'s file there is kept', async (_, fallback, write) => {
    const d = mkdir('third', NOBODY, NOBODY, 0o755);
    const t = path.join(d, 'state');
    fs.writeFileSync(t, 'old');
    fs.chownSync(t, 4242, 4242);
    fs.chmodSync(t, 0o666);
    await asRoot(write, fallback, t, 'the secret');
    expect(stat(t)).toEqual({ uid: 0, gid: 0, mode: '600', nlink: 1 });
  });

  it.each(writers)('%s: a target with more than one link gives nothing, even root\'s own set-user-ID file', async (_, fallback, write) => {
    // nobody cannot make these links itself where protected_hardlinks is on (it is here); a
    // kernel or file system without that protection lets it. So they are made as root.
    const d = mkdir('sticky', 0, 0, 0o1777);
    const t = path.join(d, 'tool');
    const elsewhere = path.join(mkdir('private', 0, 0, 0o700), 'setuid-binary');
    fs.writeFileSync(elsewhere, 'binary');
    fs.chmodSync(elsewhere, 0o4755);
    fs.linkSync(elsewhere, t);
    await asRoot(write, fallback, t, 'new tool');
    expect(stat(t)).toEqual({ uid: 0, gid: 0, mode: '600', nlink: 1 });
    expect(stat(elsewhere)).toMatchObject({ mode: '4755', nlink: 1 });
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('binary');

    // nobody's file with two links, in root's own private directory: not its owner either
    const p = mkdir('private', 0, 0, 0o755);
    fs.writeFileSync(path.join(p, 'a'), 'old');
    fs.chownSync(path.join(p, 'a'), NOBODY, NOBODY);
    fs.chmodSync(path.join(p, 'a'), 0o644);
    fs.linkSync(path.join(p, 'a'), path.join(p, 'b'));
    await asRoot(write, fallback, path.join(p, 'a'), 'new');
    expect(stat(path.join(p, 'a'))).toEqual({ uid: 0, gid: 0, mode: '600', nlink: 1 });
  });

  it.each(writers)('%s: trusted targets still give what they gave: another user\'s file in its own or in root\'s private directory (set-user-ID dropped), root\'s own in root\'s private directory', async (_, fallback, write) => {
    const home = mkdir('home', NOBODY, NOBODY, 0o755); // nobody's own directory
    fs.writeFileSync(path.join(home, 'rc'), 'old');
    fs.chownSync(path.join(home, 'rc'), NOBODY, NOBODY);
    fs.chmodSync(path.join(home, 'rc'), 0o4644);
    await asRoot(write, fallback, path.join(home, 'rc'), 'new');
    expect(stat(path.join(home, 'rc'))).toEqual({ uid: NOBODY, gid: NOBODY, mode: '644', nlink: 1 });

    const priv = mkdir('private', 0, 0, 0o755);
    fs.writeFileSync(path.join(priv, 'conf'), 'old');
    fs.chownSync(path.join(priv, 'conf'), NOBODY, GROUP);
    fs.chmodSync(path.join(priv, 'conf'), 0o6640);
    await asRoot(write, fallback, path.join(priv, 'conf'), 'new');
    expect(stat(path.join(priv, 'conf'))).toEqual({ uid: NOBODY, gid: GROUP, mode: '640', nlink: 1 });

    fs.writeFileSync(path.join(priv, 'tool'), 'old');
    fs.chmodSync(path.join(priv, 'tool'), 0o4754);
    await asRoot(write, fallback, path.join(priv, 'tool'), 'new');
    expect(stat(path.join(priv, 'tool'))).toEqual({ uid: 0, gid: 0, mode: '4754', nlink: 1 });
  });

  it.each(writers)('%s: root\'s own set-user-ID file moved into a sticky directory by nobody gives nothing (outside review, 2026-12-03)', async (_, fallback, write) => {
    // The review's reproducer: a root-owned 04777 file with one link, left in nobody's own
    // directory, renamed by nobody over root's target in a sticky directory. Root's file was
    // "its own", so its mode and set-user-ID bit were kept: root's secret came out 04777.
    const sticky = mkdir('sticky', 0, 0, 0o1777);
    const theirs = mkdir('theirs', NOBODY, NOBODY, 0o755);
    fs.writeFileSync(path.join(theirs, 'leftover'), 'old');
    fs.chmodSync(path.join(theirs, 'leftover'), 0o4777);
    const t = path.join(sticky, 'target');
    const r = as(NOBODY, [], `mv '${path.join(theirs, 'leftover')}' '${t}'`);
    expect(r.stderr).toBe('');
    expect(stat(t)).toEqual({ uid: 0, gid: 0, mode: '4777', nlink: 1 });
    await asRoot(write, fallback, t, 'TOP SECRET');
    expect(stat(t)).toEqual({ uid: 0, gid: 0, mode: '600', nlink: 1 });
    expect(as(NOBODY, [], `cat '${t}'`).stdout).toBe('');
    expect(as(NOBODY, [], `printf attacker >> '${t}'`).status).not.toBe(0);
    expect(fs.readFileSync(t, 'utf8')).toBe('TOP SECRET');
  });

  it.each(writers)('%s: an untrusted target is never widened: the caller\'s own 0600 file in a sticky, a group-writable or a hard-linked place stays 0600 under umask 022 (second outside review, 2026-12-03)', async (_, fallback, write) => {
    // "As if no file were there" made the caller's own secret 0644 (0o666 & ~022) once its
    // directory or its link count made it untrusted: mkstemp() then writeFileAtomic() in /tmp,
    // the library's own pattern, published it. A planter can now only narrow the mode.
    const sticky = mkdir('sticky', 0, 0, 0o1777);
    const made = tempfile.mkstempSync({ dir: sticky });
    fs.closeSync(made.fd);
    const group = mkdir('group', 0, GROUP, 0o775);
    const inGroup = path.join(group, 'secret');
    fs.writeFileSync(inGroup, 'old');
    fs.chmodSync(inGroup, 0o600);
    const priv = mkdir('private', 0, 0, 0o755);
    const linked = path.join(priv, 'secret');
    fs.writeFileSync(linked, 'old');
    fs.chmodSync(linked, 0o600);
    fs.linkSync(linked, path.join(mkdir('backup', 0, 0, 0o700), 'snapshot'));
    const planted = path.join(sticky, 'planted');
    plant(planted, 0o666);
    sw.forceNoTmpfile = fallback;
    const old = process.umask(0o022);
    try {
      for (const p of [made.path, inGroup, linked]) await write(p, 'api-token=s3cr3t');
      await write(planted, 'mine now');
    } finally {
      process.umask(old);
    }
    for (const p of [made.path, inGroup, linked]) {
      expect(stat(p), p).toEqual({ uid: 0, gid: 0, mode: '600', nlink: 1 });
      expect(as(NOBODY, [GROUP], `cat '${p}'`).stdout).toBe('');
    }
    expect(stat(planted)).toEqual({ uid: 0, gid: 0, mode: '644', nlink: 1 }); // as a new file: 0o666 & 0o666 & ~022
  });

  it.each(writers)('%s: options still decide when given: permissions and chown apply over an untrusted target', async (_, fallback, write) => {
    const d = mkdir('sticky', 0, 0, 0o1777);
    const t = path.join(d, 'service.state');
    plant(t, 0o666);
    await asRoot(write, fallback, t, 'x', { permissions: 0o640, chown: { uid: 0, gid: GROUP } });
    expect(stat(t)).toEqual({ uid: 0, gid: GROUP, mode: '640', nlink: 1 });
  });
});

describe.runIf(isRoot)('an ordinary user as the victim (uid 1001; the attacker is nobody, both in one group)', () => {
  // The victim loads the package as root, then drops to uid 1001 with the shared group.
  function victim(code: string) {
    const r = runNode(
      `const t = require('securetemp'); const fs = require('fs');
       const { internals } = require('./dist/_internals.js');
       process.setgroups([${GROUP}]); process.setgid(${VICTIM}); process.setuid(${VICTIM});
       process.umask(0o022);
       const out = [];
       (async () => {
         for (const fallback of [false, true]) {
           internals.forceNoTmpfile = fallback;
           for (const sync of [true, false]) {
             ${code}
           }
         }
         console.log(JSON.stringify(out));
       })().catch((e) => { console.error(e); process.exit(1); });`,
    );
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as unknown[];
  }
  const write = `const w = (p, d) => (sync ? t.writeFileAtomicSync(p, d) : t.writeFileAtomic(p, d));`;
  const modeOf = `const m = (p) => { const st = fs.statSync(p); return [st.uid, (st.mode & 0o7777).toString(8)]; };`;

  it('nobody plants the target 04777 in a group-shared 0770 directory: the victim\'s executable has no set-user-ID bit', () => {
    const d = mkdir('shared', 0, GROUP, 0o770);
    for (const fallback of ['false', 'true'])
      for (const sync of ['true', 'false']) plant(path.join(d, `tool-${fallback}${sync}`), 0o4777, [GROUP]);
    const res = victim(`${write} ${modeOf}
      const p = ${JSON.stringify(d)} + '/tool-' + fallback + sync;
      await w(p, '#!/bin/sh\\nid -u\\n');
      out.push(m(p));`);
    expect(res).toEqual([
      [VICTIM, '644'],
      [VICTIM, '644'],
      [VICTIM, '644'],
      [VICTIM, '644'],
    ]);
  });

  it('the victim\'s own set-user-ID file keeps its bit in the victim\'s own directory, not in a shared one; another user\'s in the victim\'s own directory does not', () => {
    const shared = mkdir('shared', 0, GROUP, 0o770);
    const own = mkdir('own', VICTIM, VICTIM, 0o755);
    for (const fallback of ['false', 'true'])
      for (const sync of ['true', 'false']) {
        for (const d of [shared, own]) {
          const mine = path.join(d, `mine-${fallback}${sync}`);
          fs.writeFileSync(mine, 'old');
          fs.chownSync(mine, VICTIM, VICTIM);
          fs.chmodSync(mine, 0o4750);
        }
        const roots = path.join(own, `roots-${fallback}${sync}`);
        fs.writeFileSync(roots, 'old');
        fs.chmodSync(roots, 0o4755);
      }
    const res = victim(`${write} ${modeOf}
      const a = ${JSON.stringify(own)} + '/mine-' + fallback + sync, b = ${JSON.stringify(own)} + '/roots-' + fallback + sync;
      const c = ${JSON.stringify(shared)} + '/mine-' + fallback + sync;
      await w(a, 'new'); await w(b, 'new'); await w(c, 'new');
      out.push([...m(a), ...m(b), ...m(c)]);`);
    // in the shared directory: as a new file, never wider than it was (0o666 & 0o750 & ~022)
    expect(res).toEqual(Array(4).fill([VICTIM, '4750', VICTIM, '755', VICTIM, '640']));
  });

  it('the attacker in the victim\'s group moves the victim\'s own 0664 file over its 0600 secret: the new secret is not 0664 (outside review, 2026-12-03)', () => {
    const project = mkdir('project', VICTIM, GROUP, 0o770);
    for (const fallback of ['false', 'true'])
      for (const sync of ['true', 'false']) {
        const notes = path.join(project, `notes-${fallback}${sync}`);
        const secret = path.join(project, `secret-${fallback}${sync}`);
        fs.writeFileSync(notes, 'notes');
        fs.chownSync(notes, VICTIM, GROUP);
        fs.chmodSync(notes, 0o664);
        fs.writeFileSync(secret, 'old secret');
        fs.chownSync(secret, VICTIM, GROUP);
        fs.chmodSync(secret, 0o600);
        const r = as(NOBODY, [GROUP], `mv '${notes}' '${secret}'`);
        expect(r.stderr).toBe('');
      }
    const res = victim(`${write} ${modeOf} process.umask(0o077);
      const p = ${JSON.stringify(project)} + '/secret-' + fallback + sync;
      await w(p, 'NEW-SECRET');
      out.push(m(p));`);
    expect(res).toEqual(Array(4).fill([VICTIM, '600']));
    for (const f of fs.readdirSync(project)) {
      expect(as(NOBODY, [GROUP], `cat '${path.join(project, f)}'`).stdout).toBe('');
    }
  });

});
