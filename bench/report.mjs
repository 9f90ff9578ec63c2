// Benchmark report: SVG bar charts from one benchmark run's JSON (creation, atomic writes, I/O,
// cleanup: securetemp against raw fs, tmp, write-file-atomic and Python, all on the same run).
//
//   node bench/report.mjs --run=FILE [--quick] [--out=DIR]
//       runs bench/create.mjs, atomic.mjs, io.mjs and cleanup.mjs with --json (one after the
//       other, about 6 minutes; --quick: a smoke test), writes their results with the machine
//       and the date to FILE, then draws the charts from it
//   node bench/report.mjs --in=FILE [--out=DIR]
//       draws the charts from a FILE written by --run
//
// DIR (default bench/report/) gets creation.svg, atomic.svg, io.svg, cleanup.svg. The drawing
// is deterministic: the same JSON gives the same bytes (no dates but the run's own, no random
// ids, numbers printed with fixed digits). Each bar's figure is the median of the run's rounds,
// the thin line over it the min–max range, and the ratio is to the securetemp case of its panel.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = ['create', 'atomic', 'io', 'cleanup'];
const USAGE = 'usage: node bench/report.mjs (--run=FILE [--quick] | --in=FILE) [--out=DIR]';

// --- running --------------------------------------------------------------------

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function runAll(quick) {
  const run = { date: new Date().toISOString(), machine: machine(), quick };
  for (const b of BENCHES) {
    const args = [path.join(HERE, `${b}.mjs`), '--json', ...(quick ? ['--quick'] : [])];
    process.stderr.write(`running node ${path.relative(process.cwd(), args[0])} ${args.slice(1).join(' ')}\n`);
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`bench/${b}.mjs failed (${r.error?.message ?? `status ${r.status}, signal ${r.signal}`})`);
    run[b] = JSON.parse(r.stdout);
  }
  return run;
}

// --- what is drawn ----------------------------------------------------------------

/**
 * A panel: { title, unit, better: 'lower'|'higher', rows: [{ label, value, min, max, ours, ref }] }.
 * The ratio column is value / (the value of the row named by `ref`: the securetemp case that
 * row is compared with, as the benchmark's own ratios pair them; a securetemp case is 1.00×).
 */
function row(r, ours, scale = 1, key = 'median') {
  const range = key === 'median' ? [r.min, r.max] : r[key.replace('GBs', 'Range')] ?? [null, null];
  return {
    label: r.label,
    value: r[key] * scale,
    min: range[0] == null ? null : range[0] * scale,
    max: range[1] == null ? null : range[1] * scale,
    ours,
  };
}

const OURS = new Set([
  'tfOurs', 'msOurs', 'ntOurs', 'mdOurs', 'aTfOurs', 'aMsOurs', // create
  'oursF', 'aOursF', 'oursN', 'aOursN', // atomic
  'tf', 'tfSync', 'tfAsync', 'tfStream', 'sync', 'async', 'binSync', // io
  'ours', 'oursAsync', // cleanup
]);

/** Each other case → the securetemp case it is measured against (the benches' ratios). */
const REF = {
  // create
  tfFloor: 'tfOurs', tfRaw: 'tfOurs', tmpFile: 'tfOurs', msRaw: 'msOurs', mdNode: 'mdOurs', tmpDir: 'mdOurs',
  aFsp: 'aMsOurs', aFloor: 'aTfOurs',
  // atomic
  rawF: 'oursF', wfaF: 'oursF', aRawF: 'aOursF', aWfaF: 'aOursF', rawN: 'oursN', wfaN: 'oursN', aRawN: 'aOursN', aWfaN: 'aOursN',
  // io
  fsw: 'tf', jsbuf: 'tf', py: 'tf', rawSync: 'tfSync', rawAsync: 'tfAsync', rawStream: 'tfStream',
  readline: 'sync', python: 'sync', pythonBin: 'binSync',
  // cleanup (py: the 'py' of io is another panel)
  rmSync: 'ours', cwalk: 'ours', rmAsync: 'oursAsync',
};

function rowsOf(results, keys, scale, key) {
  const present = keys.filter((k) => results[k]);
  return present.map((k) => {
    const ours = OURS.has(k);
    let ref = ours ? k : REF[k];
    if (k === 'py' && results.ours) ref = 'ours'; // cleanup's Python case
    return { ...row(results[k], ours, scale, key), ref: present.indexOf(ref) };
  });
}

function where(d) {
  return `${d.base} (${d.fs})`;
}

function creationPanels(c) {
  const panels = [];
  for (const d of c.dirs) {
    const sync = Object.keys(d.results).filter((k) => d.results[k].unit === 'us/op');
    const async_ = Object.keys(d.results).filter((k) => d.results[k].unit === 'ops/s');
    panels.push({ title: `Creating and removing, sync, ${where(d)}`, unit: 'µs/op', better: 'lower', rows: rowsOf(d.results, sync) });
    panels.push({ title: `Creating and removing, async at concurrency ${c.concurrency}, ${where(d)}`, unit: 'ops/s', better: 'higher', rows: rowsOf(d.results, async_) });
  }
  return panels;
}

function atomicPanels(a) {
  const panels = [];
  for (const d of a.dirs) {
    for (const [suffix, words] of [['F', 'with fsync'], ['N', 'without fsync']]) {
      const keys = Object.keys(d.results).filter((k) => k.endsWith(suffix));
      panels.push({ title: `Replacing a ${a.size}-byte file atomically, ${words}, ${where(d)}`, unit: 'µs/op', better: 'lower', rows: rowsOf(d.results, keys) });
    }
  }
  return panels;
}

function ioPanels(io) {
  const panels = [];
  for (const d of io.small ?? []) {
    panels.push({
      title: `${d.writes.toLocaleString('en-US')} writes of 16 bytes, ${where(d)}`,
      unit: 'ns/write',
      better: 'lower',
      rows: rowsOf(d.results, Object.keys(d.results), 1e9 / d.writes),
    });
  }
  if (io.bulk) {
    const d = io.bulk;
    for (const [key, verb] of [['writeGBs', 'Writing'], ['readGBs', 'Reading']]) {
      panels.push({ title: `${verb} ${d.mib} MiB, ${where(d)}`, unit: 'GB/s', better: 'higher', rows: rowsOf(d.results, Object.keys(d.results), 1, key) });
    }
  }
  if (io.lines) {
    const d = io.lines;
    panels.push({
      title: `Iterating ${d.lines.toLocaleString('en-US')} lines of 80 bytes, ${where(d)}`,
      unit: 'ns/line',
      better: 'lower',
      rows: rowsOf(d.results, Object.keys(d.results), 1e9 / d.lines),
    });
  }
  return panels;
}

function cleanupPanels(c) {
  const panels = [];
  for (const b of c.bases) {
    for (const x of Object.values(b.shapes)) {
      panels.push({ title: `Removing ${x.describe}, ${where(b)}`, unit: 'ms', better: 'lower', rows: rowsOf(x.results, Object.keys(x.results)) });
    }
  }
  return panels;
}

// --- drawing ----------------------------------------------------------------------

const W = 900;
const LABEL_W = 390;
const BAR_X = LABEL_W + 10;
const BAR_W = 330;
const ROW_H = 20;
const FONT = 'font-family="DejaVu Sans, Verdana, sans-serif"';

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Three significant digits, no exponent: 0.00123, 1.23, 12.3, 1,234. */
export function num(x) {
  if (x === null || !Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a || 1)));
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function drawPanel(p, y) {
  const out = [];
  const top = Math.max(...p.rows.map((r) => Math.max(r.value, r.max ?? 0)).filter(Number.isFinite), 0) || 1;
  out.push(`<text x="10" y="${y + 16}" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  out.push(
    `<text x="10" y="${y + 31}" font-size="11" fill="#555">${esc(p.unit)}, ${p.better} is better; right: ratio to the securetemp case it is compared with</text>`,
  );
  y += 38;
  for (const r of p.rows) {
    const w = Number.isFinite(r.value) ? Math.max(1, (r.value / top) * BAR_W) : 0;
    const ref = r.ref >= 0 ? p.rows[r.ref] : null;
    const ratio = ref && Number.isFinite(r.value) && ref.value > 0 ? `${(r.value / ref.value).toFixed(2)}×` : '';
    const cls = r.ours ? 'ours' : 'other';
    out.push(`<g class="row ${cls}" data-label="${esc(r.label)}" data-value="${r.value}">`);
    out.push(`<text x="${LABEL_W}" y="${y + 14}" font-size="11" text-anchor="end"${r.ours ? ' font-weight="bold"' : ''}>${esc(r.label)}</text>`);
    out.push(`<rect x="${BAR_X}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW_H - 6}" fill="${r.ours ? '#2b6cb0' : '#a0aec0'}"/>`);
    if (r.min !== null && r.max !== null && Number.isFinite(r.min) && Number.isFinite(r.max)) {
      const x1 = BAR_X + (r.min / top) * BAR_W;
      const x2 = BAR_X + (r.max / top) * BAR_W;
      out.push(`<line x1="${x1.toFixed(1)}" y1="${y + 10}" x2="${x2.toFixed(1)}" y2="${y + 10}" stroke="#1a202c" stroke-width="1"/>`);
    }
    out.push(`<text x="${BAR_X + BAR_W + 8}" y="${y + 14}" font-size="11" class="value">${esc(num(r.value))}</text>`);
    out.push(`<text x="${W - 10}" y="${y + 14}" font-size="11" text-anchor="end" class="ratio">${esc(ratio)}</text>`);
    out.push('</g>');
    y += ROW_H;
  }
  return { svg: out.join('\n'), y: y + 14 };
}

/** One SVG document: a title, a line naming the machine and date, and its panels one under another. */
export function chart(title, run, panels) {
  const m = run.machine ?? {};
  const sub = `${run.date ? run.date.slice(0, 10) : 'undated'} · ${m.cpu ?? '?'} (${m.cores ?? '?'} cores) · ${m.os ?? '?'} · Node.js ${m.node ?? '?'}${
    run.quick ? ' · --quick run' : ''
  } · bar: median of rounds, line: min–max · securetemp in blue`;
  const parts = [];
  let y = 58;
  for (const p of panels.filter((q) => q.rows.length > 0)) {
    const d = drawPanel(p, y);
    parts.push(d.svg);
    y = d.y;
  }
  const h = y + 6;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" ${FONT}>`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${h}" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="18" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="42" font-size="11" fill="#555">${esc(sub)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

export function charts(run) {
  const out = {};
  if (run.create) out['creation.svg'] = chart('securetemp: creating temporary files and directories', run, creationPanels(run.create));
  if (run.atomic) out['atomic.svg'] = chart('securetemp: atomic writes', run, atomicPanels(run.atomic));
  if (run.io) out['io.svg'] = chart('securetemp: file I/O', run, ioPanels(run.io));
  if (run.cleanup) out['cleanup.svg'] = chart('securetemp: removing directory trees', run, cleanupPanels(run.cleanup));
  return out;
}

// --- command line -----------------------------------------------------------------

function main(argv) {
  const opt = {};
  for (const a of argv) {
    const m = /^--(run|in|out)=(.+)$/.exec(a);
    if (m) opt[m[1]] = m[2];
    else if (a === '--quick') opt.quick = true;
    else {
      console.error(`unknown argument: ${a}\n${USAGE}`);
      return 2;
    }
  }
  if (!opt.run === !opt.in) {
    console.error(USAGE);
    return 2;
  }
  let run;
  if (opt.run) {
    run = runAll(Boolean(opt.quick));
    fs.writeFileSync(opt.run, `${JSON.stringify(run, null, 1)}\n`);
    console.error(`wrote ${opt.run}`);
  } else {
    run = JSON.parse(fs.readFileSync(opt.in, 'utf8'));
  }
  const outDir = opt.out ?? path.join(HERE, 'report');
  fs.mkdirSync(outDir, { recursive: true });
  const svgs = charts(run);
  if (Object.keys(svgs).length === 0) {
    console.error('nothing to draw: the JSON has none of create, atomic, io, cleanup');
    return 1;
  }
  for (const [name, svg] of Object.entries(svgs)) {
    fs.writeFileSync(path.join(outDir, name), svg);
    console.log(`wrote ${path.join(outDir, name)}`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
