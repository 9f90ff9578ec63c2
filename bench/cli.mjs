#!/usr/bin/env node
// Command-line start-up: `securetemp -d` as an installed package runs it (node_modules/.bin,
// through its #!/usr/bin/env node line) against `node -e 0`, Node's own start-up, in the same
// run. Goal (issue 16, item 10): securetemp -d takes at most 1.3 times node -e 0's wall time.
// GNU mktemp -d is shown for scale.
//
//   node bench/cli.mjs              default run (about 20 s)
//   node bench/cli.mjs --runs=N     N runs of each command (default 60)
//   node bench/cli.mjs --json       machine-readable results on stdout
//
// The commands run interleaved (one of each in turn, after warm-up runs), so that a load
// change on the machine hits them alike; the figures are medians. The package is this
// checkout (dist/ must be built), linked as node_modules/securetemp of a project in a private
// temporary folder, where the directories securetemp -d makes also go; it is removed at the end.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './_common.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const runs = arg('runs', 60);
const json = process.argv.includes('--json');
const GOAL = 1.3;

if (!fs.existsSync(path.join(repo, 'dist', 'cli.js'))) {
  console.error('dist/cli.js is missing: run npm run build:ts first');
  process.exit(1);
}

const root = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'securetemp-bench-cli-'));
const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const project = path.join(root, 'project');
const made = path.join(root, 'made');
fs.mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
fs.mkdirSync(made);
fs.symlinkSync(repo, path.join(project, 'node_modules', 'securetemp'), 'dir');
const bin = path.join(project, 'node_modules', '.bin', 'securetemp');
fs.symlinkSync('../securetemp/dist/cli.js', bin);
// as npm runs a package's bin: `node` found on PATH by /usr/bin/env
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, TMPDIR: made };
for (const k of Object.keys(env)) if (/^(NODE_OPTIONS|SECURETEMP_ADDON)$/.test(k)) delete env[k];

const mktemp = spawnSync('mktemp', ['--version'], { encoding: 'utf8' }).status === 0 ? 'mktemp' : null;
const commands = [
  { name: 'node -e 0', file: process.execPath, args: ['-e', '0'] },
  { name: 'node_modules/.bin/securetemp -d', file: bin, args: ['-d'], makes: true },
  ...(mktemp ? [{ name: 'GNU mktemp -d', file: mktemp, args: ['-d'], makes: true }] : []),
];

/**
 * CPU time (user + system, ms) of the children this process has waited for, from
 * /proc/self/stat (cutime, cstime; clock ticks of 10 ms): the per-run mean over many runs is a
 * figure a busy machine disturbs less than wall time. null off Linux.
 */
function childCpuMs() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) * 10; // fields 16 and 17, USER_HZ = 100
  } catch {
    return null;
  }
}

function once(c, k) {
  const cpu0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.file, c.args, { cwd: project, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (cpu0 !== null && k !== undefined) cpu[k] += childCpuMs() - cpu0;
  if (r.status !== 0) throw new Error(`${c.name} failed (${r.status ?? r.signal}): ${r.stderr}`);
  if (c.makes) fs.rmdirSync(r.stdout.trim());
  return ms;
}

for (let i = 0; i < 5; i++) for (const c of commands) once(c); // warm-up (page cache), not counted
const times = commands.map(() => []);
const cpu = commands.map(() => 0);
for (let i = 0; i < runs; i++) for (const [k, c] of commands.entries()) times[k].push(once(c, k));
const hasCpu = childCpuMs() !== null;

const med = times.map(median);
const ratio = med[1] / med[0];
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
  runs,
  loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
  commands: commands.map((c, k) => ({
    name: c.name,
    medianMs: Number(med[k].toFixed(2)),
    minMs: Number(Math.min(...times[k]).toFixed(2)),
    cpuMsPerRun: hasCpu ? Number((cpu[k] / runs).toFixed(1)) : null,
  })),
  ratio: Number(ratio.toFixed(3)),
  cpuRatio: hasCpu ? Number((cpu[1] / cpu[0]).toFixed(3)) : null,
  goal: GOAL,
  met: ratio <= GOAL,
};
if (json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`CLI start-up, ${runs} runs each, interleaved; node ${process.version}, ${result.cpus}, load average ${result.loadavg.join(' ')}`);
  for (const c of result.commands)
    console.log(
      `  ${c.name.padEnd(34)} wall: median ${c.medianMs.toFixed(1).padStart(6)} ms, min ${c.minMs.toFixed(1).padStart(6)} ms` +
        (c.cpuMsPerRun === null ? '' : `   CPU (user+sys) ${c.cpuMsPerRun.toFixed(1).padStart(5)} ms per run`),
    );
  console.log(`  securetemp -d / node -e 0, wall (median): ${ratio.toFixed(2)}× (goal ≤ ${GOAL}×: ${result.met ? 'met' : 'NOT met'})`);
  if (result.cpuRatio !== null) console.log(`  securetemp -d / node -e 0, CPU time: ${result.cpuRatio.toFixed(2)}×`);
}
