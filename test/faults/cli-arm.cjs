'use strict';
// Preloaded (node -r) into the command line under test: loads what dist/cli.js requires, then
// arms the shim ($FAULT_CMD) just before cli.js's own code runs, so neither Node's start-up nor
// module loading is counted: only the command line's work, up to its exit.
const fs = require('node:fs');
const Module = require('node:module');
require('../../dist/_template.js');
require('../../dist/_lifetime.js');
require('node:child_process');
require('node:util');
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  if (filename.endsWith(`${require('node:path').sep}cli.js`)) {
    Module.prototype._compile = compile;
    try { fs.accessSync(`/@@fault@@/${process.env.FAULT_CMD}`); } catch { /* armed either way */ }
  }
  return compile.call(this, content, filename);
};
