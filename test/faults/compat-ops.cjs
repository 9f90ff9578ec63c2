'use strict';
// The compatibility entry points (securetemp/tmp, securetemp/tmp-promise,
// securetemp/write-file-atomic) as operations, in the shape of ops.cjs.
const fs = require('node:fs');
const path = require('node:path');
const tmp = require('../../dist/compat/tmp.js');
const tmpPromise = require('../../dist/compat/tmp-promise.js');
const wfa = require('../../dist/compat/write-file-atomic.js');

const PREFIX = 'ft-';
const OLD = Buffer.alloc(12000, 'o');
const NEW = Buffer.alloc(20000, 'n');
const contentIs = (file, ...wants) => { let b; try { b = fs.readFileSync(file); } catch { b = undefined; } return wants.some((w) => (w === undefined ? b === undefined : b !== undefined && Buffer.compare(b, w) === 0)); };
const fillTree = (d) => {
  fs.mkdirSync(path.join(d, 'a', 'b'), { recursive: true });
  for (const f of ['f1', 'a/f2', 'a/b/f3']) fs.writeFileSync(path.join(d, f), 'x');
};
const ctl = (cmd) => { try { fs.accessSync(`/@@fault@@/${cmd}`); } catch { /* off */ } };
// the callback's own work is the test's, not the operation's: not counted
const uncounted = (f) => { ctl('pause'); try { return f(); } finally { ctl('resume'); } };
// what a with…() callback makes: a failed removal may leave (part of) it, as a failed
// cleanup() leaves what was there before it ran
const TREE = ['ft--#-*/', 'ft--#-*/a/', 'ft--#-*/a/b/', 'ft--#-*/a/b/f#', 'ft--#-*/a/f#', 'ft--#-*/f#'];
const quiet = (f) => { try { f(); } catch { /* the fd and disk checks say what is left */ } };

const compatOps = [
  {
    name: 'tmp.fileSync (sync)',
    setup: (dir) => ({ dir }),
    run: (s) => tmp.fileSync({ tmpdir: s.dir, prefix: PREFIX }),
    verify: (s, r) => (r.ok && fs.fstatSync(r.value.fd).ino !== fs.lstatSync(r.value.name).ino ? ['fd and name differ'] : []),
    teardown: (s, r) => { if (r.ok) r.value.removeCallback(); },
  },
  {
    name: 'tmp.file (async)',
    setup: (dir) => ({ dir }),
    run: (s) => new Promise((res, rej) => tmp.file({ tmpdir: s.dir, prefix: PREFIX }, (err, name, fd, cleanup) => (err ? rej(err) : res({ name, fd, cleanup })))),
    verify: (s, r) => (r.ok && fs.fstatSync(r.value.fd).ino !== fs.lstatSync(r.value.name).ino ? ['fd and name differ'] : []),
    teardown: (s, r) => (r.ok ? new Promise((res) => r.value.cleanup(res)) : undefined),  // its close is async: waited for
  },
  {
    name: 'tmp removeCallback file (sync)',
    setup: (dir) => ({ f: tmp.fileSync({ tmpdir: dir, prefix: PREFIX }) }),
    run: (s) => s.f.removeCallback(),
    verify: (s, r) => (r.ok && fs.existsSync(s.f.name) ? ['file left after removeCallback()'] : []),
    teardown: (s) => quiet(() => s.f.removeCallback()),
  },
  {
    name: 'tmp.dirSync (sync)',
    setup: (dir) => ({ dir }),
    run: (s) => tmp.dirSync({ tmpdir: s.dir, prefix: PREFIX }),
    verify: (s, r) => (r.ok && !fs.lstatSync(r.value.name).isDirectory() ? ['not a directory'] : []),
    teardown: (s, r) => { if (r.ok) r.value.removeCallback(); },
  },
  {
    name: 'tmp removeCallback unsafeCleanup (sync)',
    setup: (dir) => { const d = tmp.dirSync({ tmpdir: dir, prefix: PREFIX, unsafeCleanup: true }); fillTree(d.name); return { d }; },
    run: (s) => s.d.removeCallback(),
    verify: (s, r) => (r.ok && fs.existsSync(s.d.name) ? ['directory left after removeCallback()'] : []),
    teardown: (s) => fs.rmSync(s.d.name, { recursive: true, force: true }),
  },
  {
    name: 'tmp-promise withDir unsafeCleanup (async)',
    setup: (dir) => ({ dir }),
    allowed: TREE,
    run: (s) => tmpPromise.withDir(async (d) => uncounted(() => fillTree(d.path)), { tmpdir: s.dir, prefix: PREFIX, unsafeCleanup: true }),
    verify: () => [],
    teardown: (s) => { for (const e of fs.readdirSync(s.dir)) fs.rmSync(path.join(s.dir, e), { recursive: true, force: true }); },
  },
  {
    name: 'tmp-promise withFile (async)',
    setup: (dir) => ({ dir }),
    allowed: ['ft--#-*'],
    run: (s) => tmpPromise.withFile(async ({ fd }) => uncounted(() => fs.writeSync(fd, 'x')), { tmpdir: s.dir, prefix: PREFIX }),
    verify: () => [],
    teardown: () => {},
  },
  {
    name: 'write-file-atomic compat (sync)',
    setup: (dir) => { const target = path.join(dir, 'target'); fs.writeFileSync(target, OLD); return { target }; },
    run: (s) => wfa.sync(s.target, NEW),
    verify: (s, r) => ((r.ok ? contentIs(s.target, NEW) : contentIs(s.target, OLD, NEW)) ? [] : ['target neither whole old nor whole new']),
    teardown: () => {},
  },
  {
    name: 'write-file-atomic compat (async)',
    setup: (dir) => { const target = path.join(dir, 'target'); fs.writeFileSync(target, OLD); return { target }; },
    run: (s) => wfa(s.target, NEW),
    verify: (s, r) => ((r.ok ? contentIs(s.target, NEW) : contentIs(s.target, OLD, NEW)) ? [] : ['target neither whole old nor whole new']),
    teardown: () => {},
  },
];
module.exports = { compatOps };
