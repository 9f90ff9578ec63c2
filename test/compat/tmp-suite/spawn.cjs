'use strict';
// tmp's test/spawn-generic.js + spawn-custom.js + outband/*.js (raszi/node-tmp, 0.2.x), as one
// child-process fixture for test/compat-tmp-suite.test.ts, run against either implementation:
//   node spawn.cjs <module: tmp | securetemp/tmp> <config JSON>
// The config is the outband/*.json of the original: { tc, async, file, options, graceful }, plus
// `fixture` (the unsafe case's link target, test/outband/fixtures/symlinkme in the original).
// As in the original: `out` writes to stdout then exits (or calls its callback), `err` writes to
// stderr unless graceful.
const fs = require('node:fs');
const path = require('node:path');

const modName = process.argv[2];
const config = JSON.parse(process.argv[3]);

const spawn = {
  out(str, cb) {
    cb = cb || spawn.exit;
    if (process.stdout.write(str)) cb(null);
    else process.stdout.once('drain', () => cb(null));
  },
  err(errOrStr, cb) {
    cb = cb || spawn.exit;
    if (config.graceful) return cb();
    const s = errOrStr instanceof Error ? errOrStr.toString() : errOrStr;
    if (process.stderr.write(s)) cb(null);
    else process.stderr.once('drain', () => cb(null));
  },
  fail(str, cb) { spawn.err(str, cb); },
  exit(code) { process.exit(code || 0); },
};

// outband/*.js: the test cases
const cases = {
  // outband/keep.js (also the unlink-*.json cases, with keep: false)
  keep(result) { this.out(result.name); },
  // outband/graceful.js
  graceful(result) {
    this.out(result.name, () => { throw new Error('(non-)graceful cleanup testing'); });
  },
  // outband/unsafe.js: a file that should be removed and a link whose target must be kept
  unsafe(result) {
    fs.closeSync(fs.openSync(path.join(result.name, 'should-be-removed.file'), 'w'));
    fs.symlinkSync(config.fixture, path.join(result.name, 'symlinkme-target'), 'dir');
    this.out(result.name);
  },
  // outband/issue62.js: https://github.com/raszi/node-tmp/issues/62
  issue62(result) {
    fs.mkdirSync(path.join(result.name, 'issue62'));
    for (const sub of ['foo', 'bar']) {
      fs.mkdirSync(path.join(result.name, 'issue62', sub));
      fs.writeFileSync(path.join(result.name, 'issue62', sub, 'baz.txt'), '');
    }
    this.out(result.name, this.exit);
  },
  // outband/issue115.js: the user removed the file before the cleanup
  issue115(result) {
    fs.unlinkSync(result.name);
    result.removeCallback();
    this.out(result.name);
  },
  // outband/issue121.js: https://github.com/raszi/node-tmp/issues/121 (custom: no result)
  issue121(_result, tmp) {
    tmp.setGracefulCleanup();
    const result = tmp.dirSync({ unsafeCleanup: true });
    this.out(result.name, () => {});
    setTimeout(() => { throw new Error('ran into timeout'); }, 10000);
  },
  // outband/issue129.js: https://github.com/raszi/node-tmp/issues/129 (custom: tmp is loaded here)
  issue129() {
    function _garbageCollector() {}
    const isLegacy = (l) => (l.name === '_exit' || l.name === '_uncaughtExceptionThrown')
      && l.toString().indexOf('_garbageCollector();') !== -1;
    const callState = { newStyleListener: false, legacyExitListener: false, legacyUncaughtListener: false };
    const listener1 = function _tmp$safe_listener() { _garbageCollector(); callState.newStyleListener = true; };
    const listener2 = function _exit() { _garbageCollector(); callState.legacyExitListener = true; };
    const listener3 = function _uncaughtExceptionThrown() { _garbageCollector(); callState.legacyUncaughtListener = true; };
    process.addListener('exit', listener1);
    process.addListener('exit', listener2);
    process.addListener('exit', listener3);
    require(modName);
    // some implementations install their exit listener on first use, not on load
    if (config.use) require(modName).fileSync().removeCallback();
    let legacyExit = null;
    let legacyUncaught = null;
    const newStyle = [];
    for (const l of process.listeners('exit')) {
      if (l.name === '_tmp$safe_listener') newStyle.push(l);
      else if (isLegacy(l)) {
        if (l.name === '_uncaughtExceptionThrown') legacyUncaught = l;
        else legacyExit = l;
      }
    }
    if (legacyExit) return this.fail('EEXISTS:LEGACY:EXIT existing legacy exit listener was not removed', this.exit);
    if (legacyUncaught) return this.fail('EEXISTS:LEGACY:UNCAUGHT existing legacy uncaught exception thrown listener was not removed', this.exit);
    if (newStyle.length > 1) return this.fail('EEXISTS:NEWSTYLE: existing new style listener was not removed', this.exit);
    if (newStyle.length === 0) return this.fail('ENOAVAIL:NEWSTYLE: no new style listener installed', this.exit);
    newStyle[0]();
    if (!callState.legacyExitListener) return this.fail('ENOAVAIL:LEGACY:EXIT existing legacy exit listener was not called', this.exit);
    if (callState.legacyUncaughtListener) return this.fail('EAVAIL:LEGACY:UNCAUGHT existing legacy uncaught exception thrown listener should not have been called', this.exit);
    if (!callState.newStyleListener) return this.fail('ENOAVAIL:NEWSTYLE: existing new style listener was not called', this.exit);
    return this.out('EOK', this.exit);
  },
};

const fn = cases[config.tc];
if (config.custom) {
  // spawn-custom.js: the case does everything itself
  fn.apply(spawn, [null, config.tc === 'issue129' ? null : require(modName)]);
} else {
  // spawn-generic.js
  const tmp = require(modName);
  if (config.graceful) tmp.setGracefulCleanup();
  if (config.async) {
    const f = config.file ? tmp.file : tmp.dir;
    f(config.options, (err, name, fdOrCallback, cb) => {
      if (err) return spawn.err(err);
      const result = config.file ? { name, fd: fdOrCallback, removeCallback: cb } : { name, removeCallback: fdOrCallback };
      fn.apply(spawn, [result, tmp]);
    });
  } else {
    fn.apply(spawn, [(config.file ? tmp.fileSync : tmp.dirSync)(config.options), tmp]);
  }
}
