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
});
