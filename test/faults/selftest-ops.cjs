'use strict';
// FAULT_SELFTEST=1 node test/faults/run.mjs selftest: operations that are wrong on purpose, to
// see the harness call them unclean (each must show up as UNCLEAN, and the run exit 1): a
// crash when the fault fires, a hang, a leaked descriptor, a swallowed error, a file left.
const fs = require('node:fs');
const path = require('node:path');

const fired = (e) => e && e.code !== undefined;
const selftestOps = process.env.FAULT_SELFTEST ? [
  { name: 'selftest crash', setup: (dir) => ({ dir }), run: (s) => { try { fs.mkdirSync(path.join(s.dir, 'x')); } catch (e) { if (fired(e)) process.abort(); throw e; } }, verify: () => [], teardown: () => {} },
  { name: 'selftest hang', setup: (dir) => ({ dir }), run: (s) => { try { fs.mkdirSync(path.join(s.dir, 'x')); } catch (e) { if (fired(e)) return new Promise(() => setInterval(() => {}, 1000)); throw e; } }, verify: () => [], teardown: () => {} },
  { name: 'selftest leak', setup: (dir) => ({ dir }), run: (s) => { const fd = fs.openSync(path.join(s.dir, 'f'), 'w'); fs.writeSync(fd, 'x'); fs.closeSync(fd); }, verify: () => [], teardown: () => {} },
  { name: 'selftest swallow', setup: (dir) => ({ dir }), run: (s) => { try { fs.mkdirSync(path.join(s.dir, 'x')); } catch { /* swallowed */ } }, verify: (s, r) => (r.ok && !fs.existsSync(path.join(s.dir, 'x')) ? ['reported success, made nothing'] : []), teardown: () => {} },
] : [];
module.exports = { selftestOps };
