// One module state for import and require; the public surface is exactly what is intended.
import { describe, expect, it } from 'vitest';
import { runNode, tempfile } from './_helpers';
import * as esm from 'securetemp';

const PUBLIC = [
  'NamedTemporaryFile',
  'NamedTemporaryFileSync',
  'SpooledTempFile',
  'SpooledTemporaryFile',
  'TMP_MAX',
  'TempDir',
  'TempFile',
  'TemporaryDirectory',
  'TemporaryDirectorySync',
  'TemporaryFile',
  'TemporaryFileSync',
  'cleanupOnSignals',
  'gettempdir',
  'gettempprefix',
  'mkdtemp',
  'mkdtempSync',
  'mkstemp',
  'mkstempSync',
  'mktemp',
  'stats',
  'tempdir',
  'template',
  'writeFileAtomic',
  'writeFileAtomicSync',
];

describe('module', () => {
  it('exports exactly the intended names', () => {
    expect(Object.keys(tempfile).sort()).toEqual(PUBLIC);
  });

  it('has the seed variables, null by default, on the default object', () => {
    const r = runNode(`const t = require('securetemp'); console.log(JSON.stringify([t.tempdir, t.template]))`);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([null, null]);
  });

  it('import and require give the very same object and state', () => {
    const code = `
      import t, { mkstempSync, gettempprefix } from 'securetemp';
      import { createRequire } from 'node:module';
      const r = createRequire(import.meta.url)('securetemp');
      r.template = 'shared-';
      console.log(JSON.stringify([t === r, mkstempSync === r.mkstempSync, gettempprefix(), t.template]));
    `;
    const out = runNode(code, { args: ['--input-type=module'] });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([true, true, 'shared-', 'shared-']);
  });

  it('has no side effects at import: no exit or signal listeners', () => {
    const r = runNode(
      `const before = ['exit','SIGINT','SIGTERM','SIGHUP'].map(e => process.listenerCount(e));
       require('securetemp');
       const after = ['exit','SIGINT','SIGTERM','SIGHUP'].map(e => process.listenerCount(e));
       console.log(JSON.stringify([before, after]))`,
    );
    const [before, after] = JSON.parse(r.stdout);
    expect(after).toEqual(before);
  });

  it('the ESM namespace carries the functions too', () => {
    expect(typeof esm.mkstempSync).toBe('function');
    expect(typeof esm.default.TemporaryFileSync).toBe('function');
  });

  it("TMP_MAX is the addon's ST_TMP_MAX", () => {
    const r = runNode(`console.log(JSON.stringify([require('securetemp').TMP_MAX, require('./dist/_binding.js').native.TMP_MAX]))`);
    const [ts, addon] = JSON.parse(r.stdout);
    expect(ts).toBe(addon);
  });
});

// require-inject and proxyquire (npm's own packages use them) put stand-ins for `fs` and `path`
// in require.cache while the code under test requires its dependencies, then take them out.
// Loading the addon then would hand node-gyp-build the stand-ins.
describe('the addon is loaded on first use, not at require time', () => {
  const ENTRIES = ['securetemp', 'securetemp/tmp', 'securetemp/tmp-promise', 'securetemp/write-file-atomic', 'securetemp/tempy', 'securetemp/temp'];

  it('require-inject style: fs, path and os swapped in require.cache while requiring every entry point', () => {
    const r = runNode(`
      const Module = require('node:module');
      let dlopens = 0;
      const dlopen = process.dlopen;
      process.dlopen = function (...a) { dlopens++; return dlopen.apply(this, a); };
      const swapped = ['fs', 'path', 'os'];
      for (const id of swapped) require.cache[id] = { id, filename: id, loaded: true, exports: { swapped: true } };
      if (require('fs').swapped !== true) throw new Error('the stand-in is not in use');
      const mods = ${JSON.stringify(ENTRIES)}.map((m) => require(m));
      for (const id of swapped) delete require.cache[id];
      const before = dlopens;
      const t = require('securetemp');
      const f = t.TemporaryFileSync();
      f.close();
      const tmp = require('securetemp/tmp');
      const o = tmp.fileSync();
      o.removeCallback();
      console.log(JSON.stringify([before, dlopens, mods.length]));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([0, 1, ENTRIES.length]);
  });

  it('proxyquire style: a Module._load hook that fails any fs or path require while the entry points load', () => {
    const r = runNode(`
      const Module = require('node:module');
      const load = Module._load;
      let hooked = true;
      Module._load = function (request, ...rest) {
        if (hooked && (request === 'fs' || request === 'path')) throw new Error('stubbed ' + request);
        return load.call(this, request, ...rest);
      };
      for (const m of ${JSON.stringify(ENTRIES)}) require(m);
      hooked = false;
      const { internals } = require('./dist/_internals.js');
      console.log(JSON.stringify([require('./dist/_binding.js').addonLoaded(), typeof internals.portableBuild]));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([false, 'boolean']);
  });
});

