'use strict';
// Preloaded (node -r) into the command line under test: arms the shim ($FAULT_CMD) just before
// dist/cli.js's own code runs and disarms it after the last exit handler, so neither Node's
// start-up and teardown nor module loading (paused around every require) is counted: only the
// command line's work, up to its exit.
const fs = require('node:fs');
const Module = require('node:module');
const ctl = (cmd) => { try { fs.accessSync(`/@@fault@@/${cmd}`); } catch { /* off: nothing fired */ } };
const compile = Module.prototype._compile;
const load = Module._load;
let depth = 0;
Module._load = function (request, parent, isMain) {
  if (isMain) return load.call(this, request, parent, isMain);
  if (depth++ === 0) ctl('pause');
  try { return load.call(this, request, parent, isMain); } finally { if (--depth === 0) ctl('resume'); }
};
Module.prototype._compile = function (content, filename) {
  if (!filename.endsWith(`${require('node:path').sep}cli.js`)) return compile.call(this, content, filename);
  Module.prototype._compile = compile;
  ctl(process.env.FAULT_CMD);
  try {
    return compile.call(this, content, filename);
  } finally {
    // after every exit handler the command line registered (Node's own teardown is not its work)
    process.on('exit', () => ctl('off'));
  }
};
