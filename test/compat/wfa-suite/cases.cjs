'use strict';
// write-file-atomic's test/basic.js failure cases at the system-call level, for
// test/compat-wfa-suite.test.ts: the original makes calls fail through an `fs` stand-in
// (require-inject / t.mock); securetemp/write-file-atomic makes its calls in the addon, where no
// stand-in reaches, so the same failures are made in the kernel's answers instead:
//   - under test/faults/shim.c (LD_PRELOAD), armed around one call: the temp file's creating
//     open ("open+c") and its write ("pwrite"/"write"), which Node makes at start-up too;
//   - under `strace -f -e inject=…` for the whole process: fsync, rename, unlink, chown, chmod,
//     which a Node process makes no other use of.
//   node cases.cjs <module> <dir> <group>  → one JSON line per case on stdout
// Each case writes over an existing target ("old") and reports what is observable: the error
// (code, syscall), the target's content, what else is left in the directory, descriptors leaked.
const fs = require('node:fs');
const path = require('node:path');

const [mod, dir, group] = process.argv.slice(2);
const wfa = require(mod);
const ctl = (cmd) => { try { fs.accessSync(`/@@fault@@/${cmd}`); return true; } catch { return false; } };
const fds = () => fs.readdirSync('/proc/self/fd').length;
let n = 0;

// the test's own helpers (tmpfileCreated) run uncounted
async function one(c) {
  const target = path.join(dir, `${c.name.replace(/\W+/g, '-')}-${++n}`);
  if (!c.fresh) fs.writeFileSync(target, 'old');
  const before = fds();
  const out = { name: c.name, api: c.api, created: 'not called' };
  let opts = c.opts === undefined ? undefined : typeof c.opts === 'string' ? c.opts : { ...c.opts };
  if (c.created) opts = { ...opts };
  if (c.created) opts.tmpfileCreated = (t) => { out.created = t; };
  if (c.uid !== undefined) process.getuid = () => c.uid; // as basic.js's 'errors for root' does
  let fired = null;
  for (const arm of c.arm ?? [null]) {
    if (arm) ctl(`arm/${arm}`);
    try {
      if (c.api === 'sync') wfa.sync(target, c.data ?? 'test', opts);
      else await new Promise((resolve, reject) => wfa(target, c.data ?? 'test', opts, (err) => (err ? reject(err) : resolve())));
      out.err = null;
    } catch (e) {
      out.err = { code: e.code, syscall: e.syscall, message: e.message };
    }
    if (arm) {
      // the access() answers ENOENT unless the fault fired
      if (ctl('off')) { fired = arm; break; }
      fired = false;
    } else break;
  }
  delete process.getuid;
  out.fired = fired;
  // an async close may finish just after the callback (later on a loaded machine): up to 2 s
  for (let i = 0; i < 200 && fds() > before; i++) await new Promise((r) => setTimeout(r, 10));
  // fewer than before: an earlier case's asynchronous close finished during this one (seen on a
  // loaded machine); only more than before is a leak
  out.leakedFds = Math.max(0, fds() - before);
  out.content = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
  out.left = fs.readdirSync(dir).filter((f) => f !== path.basename(target) && !f.startsWith('.'));
  // (under an injected unlink failure these fail too: the test removes the directory afterwards)
  for (const f of [...out.left, path.basename(target)]) try { fs.rmSync(path.join(dir, f), { force: true }); } catch { /* left */ }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const both = (name, extra) => [{ name, api: 'async', ...extra }, { name, api: 'sync', ...extra }];
const WRITE = ['pwrite/1/5', 'write/1/5']; // EIO, on whichever the implementation uses
const groups = {
  // shim
  open: [...both('noopen', { arm: ['open+c/1/5'], created: true })],
  write: [
    ...both('nowrite', { arm: WRITE, created: true }),
    { name: 'nowrite buffer', api: 'async', arm: WRITE, data: Buffer.from('test', 'utf8') },
  ],
  // strace -e inject (the error is given by the test)
  fsync: [...both('nofsync'), ...both('nofsyncopt', { opts: { fsync: false } })],
  rename: both('norename'),
  renameunlink: both('norename nounlink'),
  chown: [...both('nochown', { opts: { chown: { uid: 100, gid: 100 } } }), ...both('nochown', { opts: undefined, fresh: true }), ...both('nochown false', { opts: { chown: false } })],
  chmod: [...both('nochmod', { opts: { mode: 0o741 } }), ...both('nochmod false', { opts: { mode: false }, fresh: true })],
  // the chmod alone refused (the owner-keeping chown goes through)
  chmodrefused: [...both('chmod non-root', { opts: { mode: 0o741 }, uid: 1000 }), ...both('chmod root', { opts: { mode: 0o741 }, uid: 0 })],
  refused: [
    ...both('chown non-root', { opts: { chown: { uid: 100, gid: 100 } }, uid: 1000 }),
    ...both('chmod non-root', { opts: { mode: 0o741 }, uid: 1000 }),
    ...both('chown root', { opts: { chown: { uid: 100, gid: 100 } }, uid: 0 }),
    ...both('chmod root', { opts: { mode: 0o741 }, uid: 0 }),
  ],
};

(async () => {
  for (const c of groups[group]) await one(c);
})().catch((e) => { process.stderr.write(String(e?.stack ?? e)); process.exit(1); });
