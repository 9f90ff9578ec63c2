// The directory policy on Windows (issue 12): POSIX's rule read from the directory's DACL, on
// the handle the creation goes through, for every creator (TemporaryFile included), sync and
// async. Others (any SID but the owner, us, LocalSystem, Administrators, CREATOR OWNER, OWNER
// RIGHTS) allowed FILE_DELETE_CHILD, WRITE_DAC or WRITE_OWNER (GENERIC_ALL included): refused.
// Others allowed only to add entries: trusted when the directory is ours, SYSTEM's or
// Administrators' (the sticky directory of POSIX: C:\Windows\Temp). A NULL DACL: refused.
// allowInsecureDir: true skips the check. Before, Windows had no policy at all: every case that
// expects ERR_INSECURE_TEMPDIR failed.
//
// DACLs are set with build-win32/sddl.exe (Wine's icacls is a stub), else PowerShell. What
// Wine cannot show (it does not enforce ACLs on Unix files, a directory's owner cannot be made
// another user, no DACL can be closed to its owner's READ_CONTROL, no FAT volume): those
// branches are described in SECURITY.md and run only on a real Windows runner.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ls, scratch, t, thrown, rejected } from './_helpers.mjs';

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());

function sddl(args) {
  const exe = process.env.ST_WIN_SDDL;
  const r = exe
    ? spawnSync(exe, args, { encoding: 'utf8', windowsHide: true })
    : spawnSync('powershell.exe', ['-NoProfile', '-Command', args[0] === 'get'
        ? `(Get-Acl -LiteralPath '${args[1]}').GetSecurityDescriptorSddlForm('Owner,Access')`
        : `$a = Get-Acl -LiteralPath '${args[1]}'; $a.SetSecurityDescriptorSddlForm('${args[2]}', 'Access'); Set-Acl -LiteralPath '${args[1]}' -AclObject $a`], { encoding: 'utf8', windowsHide: true });
  assert.equal(r.status, 0, `sddl ${args.join(' ')}: ${r.stderr} ${r.error ?? ''}`);
  return r.stdout.trim();
}

let n = 0;
/**
 * A fresh directory whose DACL is `aces` (protected) after a first ACE, full control for us;
 * `kept`: the DACL reads back as set. Wine 8 keeps no DACL of its own for a Unix directory: it
 * turns what is set into Unix mode bits and shows them back as a DACL (SYSTEM and the owner
 * full, Everyone what the "other" bits give: with o+w, write and FILE_DELETE_CHILD).
 */
function dirWith(aces) {
  const d = path.join(s.dir, `p${n++}`);
  fs.mkdirSync(d);
  const me = /^O:([^D]+)D:/.exec(sddl(['get', d]))[1];
  if (aces === null) return { d, kept: true };
  sddl(['set', d, aces === 'NULL' ? 'D:NO_ACCESS_CONTROL' : `D:P(A;OICI;FA;;;${me})${aces}`]);
  const got = sddl(['get', d]);
  return { d, kept: aces === 'NULL' ? /D:NO_ACCESS_CONTROL/.test(got) : got.includes(aces) };
}

const NOT_KEPT = 'Wine keeps no DACL for a Unix directory (it shows its mode bits as one): real Windows only';

/** Every creator, sync and async: [name, make(dir, options) -> Promise<cleanup>]. */
const creators = [
  ['mkstempSync', (dir, o) => { const { fd } = t.mkstempSync({ dir, ...o }); fs.closeSync(fd); }],
  ['mkstemp', async (dir, o) => { const { fd } = await t.mkstemp({ dir, ...o }); fs.closeSync(fd); }],
  ['mkdtempSync', (dir, o) => { t.mkdtempSync({ dir, ...o }); }],
  ['mkdtemp', async (dir, o) => { await t.mkdtemp({ dir, ...o }); }],
  ['NamedTemporaryFileSync', (dir, o) => t.NamedTemporaryFileSync({ dir, ...o }).closeSync()],
  ['NamedTemporaryFile', async (dir, o) => (await t.NamedTemporaryFile({ dir, ...o })).close()],
  ['TemporaryFileSync', (dir, o) => t.TemporaryFileSync({ dir, ...o }).closeSync()],
  ['TemporaryFile', async (dir, o) => (await t.TemporaryFile({ dir, ...o })).close()],
  ['TemporaryDirectorySync', (dir, o) => t.TemporaryDirectorySync({ dir, ...o }).cleanupSync()],
  ['TemporaryDirectory', async (dir, o) => (await t.TemporaryDirectory({ dir, ...o })).cleanup()],
];

async function refusedByAll(dir, reason) {
  for (const [name, make] of creators) {
    const e = await rejected(Promise.resolve().then(() => make(dir, {})));
    assert.equal(e.code, 'ERR_INSECURE_TEMPDIR', `${name}: ${e.message}`);
    assert.match(e.reason, reason, name);
    assert.equal(e.path, dir, name);
    assert.match(e.message, /allowInsecureDir/, name);
  }
  assert.deepEqual(ls(dir), [], 'nothing created');
  for (const [, make] of creators) await make(dir, { allowInsecureDir: true });
}

async function acceptedByAll(dir) {
  for (const [name, make] of creators) await assert.doesNotReject(Promise.resolve().then(() => make(dir, {})), name);
}

describe('the directory policy (DACL)', () => {
  it('trusted: the DACL %TEMP% hands down, ours alone, others reading, SYSTEM and Administrators writing', async () => {
    // Under Wine these read back as the owner and SYSTEM (full) and Everyone (read): trusted too.
    await acceptedByAll(dirWith(null).d);
    await acceptedByAll(dirWith('').d);
    await acceptedByAll(dirWith('(A;;0x1200a9;;;WD)(A;;0x1200a9;;;BU)').d);
    await acceptedByAll(dirWith('(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;CO)').d);
  });

  it('Everyone full control: refused for every creator (FILE_DELETE_CHILD, named with its SID); allowInsecureDir skips', async () => {
    // Under Wine: o+w, shown as Everyone with write and FILE_DELETE_CHILD: refused the same way.
    await refusedByAll(dirWith('(A;;FA;;;WD)').d, /^writable by .*S-1-1-0.*which may delete entries \(FILE_DELETE_CHILD\)$/);
  });

  it('BUILTIN\\Users with GENERIC_ALL (mapped to file rights): refused', async (ctx) => {
    const { d, kept } = dirWith('(A;;GA;;;BU)');
    if (!kept) return ctx.skip(NOT_KEPT);
    await refusedByAll(d, /S-1-5-32-545.*FILE_DELETE_CHILD/);
  });

  it('Authenticated Users with delete-child only, or only WRITE_DAC (it may grant itself anything): refused', async (ctx) => {
    const a = dirWith('(A;;0x40;;;AU)');
    const b = dirWith('(A;;WD;;;AU)');
    if (!a.kept || !b.kept) return ctx.skip(NOT_KEPT);
    await refusedByAll(a.d, /S-1-5-11.*FILE_DELETE_CHILD/);
    await refusedByAll(b.d, /S-1-5-11.*WRITE_DAC/);
  });

  it('others may only add entries (FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, GENERIC_WRITE) to a directory of ours: trusted (the sticky case)', async (ctx) => {
    const a = dirWith('(A;;0x100006;;;BU)');
    const b = dirWith('(A;;GW;;;WD)');
    if (!a.kept || !b.kept) return ctx.skip(NOT_KEPT);
    await acceptedByAll(a.d);
    await acceptedByAll(b.d);
  });

  it('an inherit-only ACE does not apply to the directory itself: trusted', async (ctx) => {
    const { d, kept } = dirWith('(A;OICIIO;FA;;;WD)');
    if (!kept) return ctx.skip(NOT_KEPT);
    await acceptedByAll(d);
  });

  it('a NULL DACL (everyone, everything): refused', async (ctx) => {
    const { d, kept } = dirWith('NULL');
    if (!kept) return ctx.skip(NOT_KEPT);
    await refusedByAll(d, /without a DACL/);
  });

  it('a directory whose DACL changes between two creations: the second is refused (checked on each creation handle)', async () => {
    const { d } = dirWith('');
    const f = t.NamedTemporaryFileSync({ dir: d }); // holds the table's handle of d
    const me = /^O:([^D]+)D:/.exec(sddl(['get', d]))[1];
    sddl(['set', d, `D:P(A;OICI;FA;;;${me})(A;;FA;;;WD)`]);
    assert.equal(thrown(() => t.NamedTemporaryFileSync({ dir: d })).code, 'ERR_INSECURE_TEMPDIR');
    assert.equal((await rejected(t.TemporaryFile({ dir: d }))).code, 'ERR_INSECURE_TEMPDIR');
    f.closeSync();
    assert.deepEqual(ls(d), []);
  });
});
