#!/usr/bin/env node
// Runs every code block of README.md as a reader would paste it (issue 16, item 1).
//
//   npm run test:readme            (VERBOSE=1 prints each program before it runs)
//
// - `js` blocks are ES modules. The first one is the import block every other one assumes; each
//   other block runs after it, alone, in a file of its own, and then all of them run pasted one
//   after another into one file (a name declared twice, or used and never imported, fails).
// - A block marked `js node>=24` (`using`/`await using`) must be followed by a plain `js` block,
//   the same code for Node.js 20, which stands in for it in the pasted-together file. The marked
//   block runs as written where this Node.js is 24 or later, else compiled by TypeScript (as the
//   README says it may be) and run on this Node.js.
// - `sh` blocks run with bash (-e, -o pipefail), `securetemp` and `npx securetemp` being this
//   checkout's command. A block marked `sh setup` (install and test the checkout) is what
//   .ci/run runs itself: each of its commands must appear there, and it is not run again here.
// - Every program must exit 0 and print nothing on stderr (a warning is a failure).
//
// Everything runs in one private temporary folder (its TMPDIR too), removed at the end, also on
// failure or a signal; the examples' own files (config.json, downloads/, pkg.tgz) land there.
// Needs dist/ (npm run build:ts) and the addon (build/), as npm test does.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const verbose = /^(1|true|yes)$/i.test(process.env.VERBOSE ?? '');
const nodeMajor = Number(process.versions.node.split('.')[0]);

/** The fenced code blocks of a Markdown text: { line, lang, attrs, code }. */
export function codeBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const body = [];
    let j = i + 1;
    const close = new RegExp(`^${fence[0]}{${fence.length},}\\s*$`);
    while (j < lines.length && !close.test(lines[j])) body.push(lines[j++]);
    if (j >= lines.length) throw new Error(`README.md:${i + 1}: code block never closed`);
    blocks.push({ line: i + 1, lang: open[2], attrs: open[3].split(/\s+/).filter(Boolean), code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

let root = null;
function cleanup() {
  if (root) {
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    root = null;
  }
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup();
    process.kill(process.pid, sig);
  });
}

const failures = [];
let passed = 0;

function runProgram(what, cmd, args, { cwd, env, input }) {
  if (verbose) console.log(`---- ${what}\n${input ?? args.join(' ')}\n----`);
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000, input });
  const problems = [];
  if (r.error) problems.push(`could not run: ${r.error.message}`);
  if (r.status !== 0) problems.push(r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`);
  if (r.stderr) problems.push(`stderr:\n${r.stderr.trimEnd()}`);
  if (problems.length) {
    failures.push(what);
    console.log(`not ok  ${what}\n${problems.join('\n').replace(/^/gm, '        ')}`);
    if (r.stdout) console.log(`        stdout:\n${r.stdout.trimEnd().replace(/^/gm, '        ')}`);
  } else {
    passed += 1;
    console.log(`ok      ${what}`);
  }
}

function main() {
  if (!fs.existsSync(path.join(repo, 'dist', 'index.mjs'))) throw new Error('dist/ is missing: run npm run build:ts first');
  const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
  const ciRun = fs.readFileSync(path.join(repo, '.ci', 'run'), 'utf8');
  const blocks = codeBlocks(readme);
  console.log(`README.md: ${blocks.length} code blocks; node ${process.version}`);

  root = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'securetemp-readme-'));
  const tmp = path.join(root, 'tmp');
  const project = path.join(root, 'project');
  const bin = path.join(project, 'node_modules', '.bin');
  fs.mkdirSync(tmp);
  fs.mkdirSync(bin, { recursive: true });
  // a project that has securetemp installed: this checkout, as node_modules/securetemp
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'readme-examples', version: '0.0.0', private: true, type: 'module' }));
  fs.symlinkSync(repo, path.join(project, 'node_modules', 'securetemp'), 'dir');
  fs.symlinkSync(path.join(repo, 'dist', 'cli.js'), path.join(bin, 'securetemp'));
  const env = { ...process.env, TMPDIR: tmp, TEMP: tmp, TMP: tmp, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
  for (const k of Object.keys(env)) if (/^(npm_|NODE_OPTIONS$|SECURETEMP)/i.test(k)) delete env[k];

  let runNo = 0;
  const workdir = () => {
    const d = path.join(root, `run-${++runNo}`);
    fs.mkdirSync(d);
    // resolves 'securetemp' from here as from the project
    fs.symlinkSync(path.join(project, 'node_modules'), path.join(d, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify({ name: 'example', version: '0.0.0', private: true, type: 'module' }));
    return d;
  };
  const runJs = (what, code) => {
    const d = workdir();
    fs.writeFileSync(path.join(d, 'example.mjs'), code);
    runProgram(what, process.execPath, ['example.mjs'], { cwd: d, env });
  };

  const unknown = blocks.filter((b) => !['js', 'sh'].includes(b.lang) || b.attrs.some((a) => !['node>=24', 'setup'].includes(a)));
  for (const b of unknown) {
    failures.push(`README.md:${b.line}`);
    console.log(`not ok  README.md:${b.line}: a \`${[b.lang, ...b.attrs].join(' ')}\` block: only js, js node>=24, sh and sh setup are known here`);
  }

  const js = blocks.filter((b) => b.lang === 'js');
  const [header, ...examples] = js;
  if (!header || header.attrs.length || !/^import /m.test(header.code)) throw new Error('the first js block must be the import block (plain js, with imports)');
  const ts = createRequire(path.join(repo, 'package.json'))('typescript');

  const together20 = [header.code];
  const together24 = [header.code];
  for (const [i, b] of examples.entries()) {
    const where = `README.md:${b.line}`;
    if (b.attrs.includes('node>=24')) {
      const twin = examples[i + 1];
      if (!twin || twin.attrs.length) {
        failures.push(where);
        console.log(`not ok  ${where}: a node>=24 block must be followed by its Node.js 20 form (a plain js block)`);
        continue;
      }
      if (nodeMajor >= 24) runJs(`${where} (node>=24) as written, node ${process.version}`, header.code + b.code);
      else {
        const out = ts.transpileModule(header.code + b.code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
        runJs(`${where} (node>=24) compiled by TypeScript ${ts.version}, node ${process.version}`, out.outputText);
      }
      together24.push(b.code);
      continue;
    }
    runJs(`${where} after the import block, node ${process.version}`, header.code + b.code);
    together20.push(b.code);
    if (!examples[i - 1]?.attrs.includes('node>=24')) together24.push(b.code);
  }
  runJs(`all ${together20.length} Node.js 20 js blocks pasted into one file, node ${process.version}`, together20.join('\n'));
  if (nodeMajor >= 24) runJs(`all ${together24.length} js blocks, node>=24 forms instead of their twins, in one file`, together24.join('\n'));

  for (const b of blocks.filter((x) => x.lang === 'sh')) {
    const where = `README.md:${b.line}`;
    if (b.attrs.includes('setup')) {
      const commands = b.code.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
      const missing = commands.filter((c) => !ciRun.includes(c));
      if (missing.length) {
        failures.push(where);
        console.log(`not ok  ${where} (setup): not run by .ci/run: ${missing.join('; ')}`);
      } else {
        passed += 1;
        console.log(`ok      ${where} (setup): ${commands.join('; ')}: run by .ci/run itself`);
      }
      continue;
    }
    runProgram(`${where} (sh) with bash -e -o pipefail`, 'bash', ['-e', '-o', 'pipefail', '-s'], { cwd: workdir(), env, input: b.code });
  }
}

let code = 0;
try {
  main();
  console.log(`\ntest:readme: ${passed} passed, ${failures.length} failed`);
  if (failures.length) code = 1;
} catch (err) {
  console.error(`test:readme: ${err.stack ?? err}`);
  code = 1;
} finally {
  cleanup();
}
process.exitCode = code;
