// Attack class: a hostile umask. The umask is inherited from whoever started the process (a
// service manager, a shell profile, a parent that set 000 to share files). Our files and
// directories are created with 0600/0700 narrowed by the umask: a umask of 000 must not
// widen them (it cannot: the bits asked for are already private), and a umask of 777 leaves
// a 0000 file or directory, which the package still handles: the descriptor it opened is
// read-write whatever the mode, and removal restores owner rights through handles. What the
// umask of 777 does break, as for any program: the owner (not root) cannot open such a file
// again by name or through /proc/self/fd (reopen() is EACCES), nor create entries in such a
// directory, and writeFileAtomic's new file is 0000 (0o666 & ~umask, as any new file).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLinux, isRoot, runNode, scratch } from '../_helpers';
import { runAsNobody } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
  fs.chmodSync(s.dir, 0o755); // nobody works in a subdirectory of its own
});
afterAll(() => s.remove());

// What every creator makes, reported by a child with the given umask: [what, mode of the object].
const MAKE_ALL = `
  const out = {};
  const mode = (p) => fs.lstatSync(p).mode & 0o7777;
  const m = t.mkstempSync({ dir }); out.mkstemp = mode(m.path);
  out.mkstempWritable = fs.writeSync(m.fd, 'x', 0) === 1 && fs.readFileSync(m.fd, 'utf8') === 'x';
  fs.closeSync(m.fd);
  out.mkdtemp = mode(t.mkdtempSync({ dir }));
  const n = t.NamedTemporaryFileSync({ dir }); out.named = mode(n.path);
  n.writeSync(Buffer.from('abc')); n.seekSync(0); out.namedReadBack = n.readSync().toString();
  n.closeSync(); out.namedRemoved = !fs.existsSync(n.path);
  const u = t.TemporaryFileSync({ dir }); out.unnamed = fs.fstatSync(u.fd).mode & 0o7777;
  u.writeSync(Buffer.from('abc')); u.seekSync(0); out.unnamedReadBack = u.readSync().toString();
  try { u.reopenSync().closeSync(); out.reopen = 'ok'; } catch (e) { out.reopen = e.code; }
  u.closeSync();
  const d = t.TemporaryDirectorySync({ dir }); out.tempdir = mode(d.path);
  try { fs.writeFileSync(d.path + '/inside', 'x'); out.inside = 'ok'; } catch (e) { out.inside = e.code; }
  d.cleanupSync(); out.tempdirRemoved = !fs.existsSync(d.path);
  t.writeFileAtomicSync(dir + '/atomic-new', 'x'); out.atomicNew = mode(dir + '/atomic-new');
  t.writeFileAtomicSync(dir + '/atomic-private', 'x', { permissions: 0o600 }); out.atomicPermissions = mode(dir + '/atomic-private');
  console.log(JSON.stringify(out));
`;

function run(umask: number, asNobody: boolean) {
  const dir = path.join(s.dir, `umask-${umask.toString(8)}-${asNobody ? 'nobody' : 'root'}`);
  fs.mkdirSync(dir);
  if (asNobody) fs.chownSync(dir, 65534, 65534);
  const code = `process.umask(0o${umask.toString(8)}); const dir = ${JSON.stringify(dir)};\n${MAKE_ALL}`;
  const r = asNobody ? runAsNobody(code) : runNode(`const t = require('securetemp'), fs = require('fs');\n${code}`);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('umask 000: nothing wider than private', () => {
  it('files 0600, directories 0700; writeFileAtomic makes 0666 for a new file, as any new file (documented)', () => {
    expect(run(0o000, false)).toEqual({
      mkstemp: 0o600,
      mkstempWritable: true,
      mkdtemp: 0o700,
      named: 0o600,
      namedReadBack: 'abc',
      namedRemoved: true,
      unnamed: 0o600,
      unnamedReadBack: 'abc',
      reopen: isLinux ? 'ok' : 'ENOTSUP', // Linux: through /proc/self/fd (elsewhere an unnamed file cannot be reopened)
      tempdir: 0o700,
      inside: 'ok',
      tempdirRemoved: true,
      atomicNew: 0o666, // 0o666 & ~umask: the caller's umask asks for this
      atomicPermissions: 0o600,
    });
  });
});

describe.runIf(isRoot)('umask 777, as an ordinary user (nobody; switching needs root)', () => {
  it('0000 objects: usable through the descriptor, removed by close and cleanup; reopen and entries denied (documented)', () => {
    expect(run(0o777, true)).toEqual({
      mkstemp: 0o000,
      mkstempWritable: true, // the descriptor was opened read-write at creation
      mkdtemp: 0o000,
      named: 0o000,
      namedReadBack: 'abc',
      namedRemoved: true,
      unnamed: 0o000,
      unnamedReadBack: 'abc',
      // Linux reopens through /proc/self/fd, which checks the mode again; elsewhere an unnamed
      // file cannot be reopened at all.
      reopen: isLinux ? 'EACCES' : 'ENOTSUP',
      tempdir: 0o000,
      inside: 'EACCES', // even its owner cannot add to a 0000 directory
      tempdirRemoved: true, // removal gives owner rwx back through the handle
      atomicNew: 0o000, // 0o666 & ~0o777
      atomicPermissions: 0o600, // exact permissions are not narrowed by the umask
    });
  });

  it('umask 777 as root: the same modes (root is not denied, so everything works)', () => {
    const r = run(0o777, false);
    expect([r.mkstemp, r.mkdtemp, r.named, r.unnamed, r.tempdir, r.atomicNew]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([r.reopen, r.inside, r.tempdirRemoved]).toEqual([isLinux ? 'ok' : 'ENOTSUP', 'ok', true]);
  });
});
