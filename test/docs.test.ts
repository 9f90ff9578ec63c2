// The API reference (npm run docs) is built from docs/entries/*.ts, which re-export what each
// entry point's `export =` object holds from where it is declared. These tests keep the two in
// step: every name the package exports (the ES module face's named exports, values and types,
// and the CommonJS object's keys) is in the reference, and the reference names nothing else
// but the few extras listed here.
import * as path from 'node:path';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const require_ = createRequire(__filename);

/** entry point → [its ES module face in src/, its documentation entry, extras documented only there, CommonJS keys documented by an extra] */
const ENTRIES: Record<string, [string, string, string[], string[]]> = {
  securetemp: ['src/index.mts', 'docs/entries/index.ts', ['Settings', 'Bytes', 'TextEncoding'], ['tempdir', 'template']],
  'securetemp/tmp': ['src/compat/tmp.mts', 'docs/entries/tmp.ts', ['tmpdir'], []],
  'securetemp/tmp-promise': ['src/compat/tmp-promise.mts', 'docs/entries/tmp-promise.ts', [], []],
  'securetemp/write-file-atomic': ['src/compat/write-file-atomic.mts', 'docs/entries/write-file-atomic.ts', ['WriteFileAtomicData', 'WriteFileAtomicCallback'], []],
  'securetemp/tempy': ['src/compat/tempy.mts', 'docs/entries/tempy.ts', ['TempyContent'], []],
  'securetemp/temp': ['src/compat/temp.mts', 'docs/entries/temp.ts', ['TempAffixesArg', 'TempCallback'], []],
};

function exportNames(): Map<string, string[]> {
  const cfg = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.docs.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!cfg) throw new Error('tsconfig.docs.json did not parse');
  const files = Object.values(ENTRIES).flatMap(([mts, doc]) => [path.join(ROOT, mts), path.join(ROOT, doc)]);
  const program = ts.createProgram(files, { ...cfg.options, noEmit: true });
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const f of files) {
    const sf = program.getSourceFile(f);
    const sym = sf && checker.getSymbolAtLocation(sf);
    if (!sym) throw new Error(`no module symbol for ${f}`);
    out.set(f, checker.getExportsOfModule(sym).map((s) => s.name).sort());
  }
  return out;
}

describe('API reference entries (docs/entries)', () => {
  const names = exportNames();

  for (const [spec, [mts, doc, extras, cjsByExtra]] of Object.entries(ENTRIES)) {
    it(`${spec}: documents every export, and only those and ${extras.join(', ') || 'nothing else'}`, () => {
      // `default` is the module's object itself, documented as the module
      const esm = names.get(path.join(ROOT, mts))!.filter((n) => n !== 'default');
      const documented = names.get(path.join(ROOT, doc))!.filter((n) => n !== 'default');
      expect(esm.length).toBeGreaterThan(0);
      expect(documented.filter((n) => !extras.includes(n))).toEqual(esm);
      for (const x of extras) expect(documented).toContain(x);
    });

    it(`${spec}: every key of the CommonJS object is documented`, () => {
      const cjs = require_(spec) as object;
      const keys = Object.keys(cjs);
      if (typeof cjs === 'function') keys.push('default'); // write-file-atomic: the module is the function
      const documented = names.get(path.join(ROOT, doc))!;
      expect(keys.filter((k) => !documented.includes(k) && !cjsByExtra.includes(k))).toEqual([]);
    });
  }
});
