'use strict';
// The command line (dist/cli.js) as an operation: run in a child of the worker, armed from its
// start by cli-arm.cjs (after module loading), its whole run up to exit under test.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

// A failed run leaves nothing: a name it could not print is a file nobody knows of (GNU mktemp
// removes it too).
function leftAfterFailure(s, v) {
  const left = fs.readdirSync(s.dir);
  return [...(v.stdout === '' ? [] : [`printed '${v.stdout.trim()}' but failed`]), ...(left.length ? [`failed (${v.stderr.trim()}) and left ${left.join(' ')}`] : [])];
}
const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const run = (args) => (s, cmd) => {
  const r = spawnSync(process.execPath, ['-r', path.join(__dirname, 'cli-arm.cjs'), CLI, ...args(s)], {
    env: { ...process.env, FAULT_CMD: cmd }, encoding: 'utf8', timeout: 20_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
};

const cliOps = [
  {
    name: 'cli create file',
    cli: true,
    setup: (dir) => ({ dir }),
    run: run((s) => ['-p', s.dir, 'ft-XXXXXXXXXXXX']),
    verify: (s, r) => {
      const v = r.value;
      if (v.status !== 0) return leftAfterFailure(s, v);
      const p = v.stdout.trim();
      return fs.existsSync(p) && fs.lstatSync(p).isFile() && path.dirname(p) === s.dir ? [] : [`printed '${p}', which is not a new file`];
    },
    teardown: () => {},
  },
  {
    name: 'cli create directory',
    cli: true,
    setup: (dir) => ({ dir }),
    run: run((s) => ['-d', '-p', s.dir, 'ft-XXXXXXXXXXXX']),
    verify: (s, r) => {
      const v = r.value;
      if (v.status !== 0) return leftAfterFailure(s, v);
      const p = v.stdout.trim();
      return fs.existsSync(p) && fs.lstatSync(p).isDirectory() ? [] : [`printed '${p}', which is not a new directory`];
    },
    teardown: () => {},
  },
  {
    name: 'cli --cleanup-after',
    cli: true,
    // what the command makes: a failed removal may leave (part of) it, nothing else
    allowed: ['ft-*/', 'ft-*/a/', 'ft-*/a/f', 'ft-*/b'],
    setup: (dir) => ({ dir }),
    run: run((s) => ['-d', '-p', s.dir, 'ft-XXXXXXXXXXXX', '--cleanup-after', 'sh', '-c', 'mkdir "$SECURETEMP_PATH/a" && echo x >"$SECURETEMP_PATH/a/f" && echo y >"$SECURETEMP_PATH/b"']),
    verify: (s, r) => {
      const v = r.value;
      if (v.status === 0 && fs.readdirSync(s.dir).length !== 0) return ['exit 0 but the directory is left'];
      return [];
    },
    teardown: () => {},
  },
];
module.exports = { cliOps };
