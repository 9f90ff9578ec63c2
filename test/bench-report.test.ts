// npm run bench:report (bench/report.mjs) on a small fixture run: the four SVG files are
// well-formed XML (parsed by Python's xml.etree, a real XML parser; python3 is already a
// prerequisite of the suite), show each case's label, its figure in the unit of the chart and
// its ratio to the securetemp case it is compared with, name the machine and the date, and the
// same JSON gives the same bytes.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from './_helpers';

const FIXTURE = path.join(ROOT, 'test/fixtures/bench-run.json');
const SCRIPT = path.join(ROOT, 'bench/report.mjs');
const work = scratch();
afterAll(() => work.remove());

function report(out: string) {
  return spawnSync(process.execPath, [SCRIPT, `--in=${FIXTURE}`, `--out=${out}`], { encoding: 'utf8' });
}

interface Parsed {
  root: string;
  title: string;
  texts: string[];
  rows: { label: string; value: string; ratio: string; width: number; ours: boolean }[];
}

const PARSE = String.raw`
import json, sys, xml.etree.ElementTree as ET
NS = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
rows = []
for g in root.iter(NS + 'g'):
    if 'row' not in g.get('class', '').split():
        continue
    t = g.findall(NS + 'text')
    rows.append({
        'label': t[0].text, 'value': t[1].text, 'ratio': t[2].text or '',
        'width': float(g.find(NS + 'rect').get('width')),
        'ours': 'ours' in g.get('class').split(),
    })
print(json.dumps({
    'root': root.tag, 'title': root.find(NS + 'title').text,
    'texts': [''.join(e.itertext()) for e in root.iter(NS + 'text')], 'rows': rows,
}))
`;

function parse(file: string): Parsed {
  const r = spawnSync('python3', ['-c', PARSE, file], { encoding: 'utf8' });
  expect(r.stderr, `python3 could not parse ${file}`).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Parsed;
}

function rowsByLabel(p: Parsed) {
  return Object.fromEntries(p.rows.map((r) => [r.label, r]));
}

describe('bench:report', () => {
  const out = path.join(work.dir, 'a');
  const r = report(out);

  it('writes the four charts', () => {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['atomic.svg', 'cleanup.svg', 'creation.svg', 'io.svg']);
  });

  it('gives well-formed SVG naming the machine and the date (escaped)', () => {
    for (const f of fs.readdirSync(out)) {
      const p = parse(path.join(out, f));
      expect(p.root).toBe('{http://www.w3.org/2000/svg}svg');
      expect(p.title).toMatch(/^securetemp: /);
      expect(p.texts.join('\n')).toContain('2026-01-02 · Fixture CPU <x&y> (2 cores) · Linux 6.1 x64 · Node.js v20.0.0');
    }
  });

  it('creation: figures, ratios to the securetemp case, bars in proportion', () => {
    const rows = rowsByLabel(parse(path.join(out, 'creation.svg')));
    expect(rows['TemporaryFileSync({dir}) + closeSync']).toMatchObject({ value: '100', ratio: '1.00×', ours: true });
    expect(rows["raw fs: openSync(rand,'wx') + unlinkSync + closeSync"]).toMatchObject({ value: '150', ratio: '1.50×', ours: false });
    expect(rows['tmp.fileSync({tmpdir}) + removeCallback()']).toMatchObject({ value: '300', ratio: '3.00×' });
    expect(rows['await TemporaryFile({dir}) + close()']).toMatchObject({ value: '4,000', ratio: '1.00×' });
    expect(rows['floor: fs.open(dir, O_TMPFILE) + fs.close']).toMatchObject({ value: '5,000', ratio: '1.25×' });
    const w = (l: string) => rows[l]!.width;
    expect(w('tmp.fileSync({tmpdir}) + removeCallback()') / w('TemporaryFileSync({dir}) + closeSync')).toBeCloseTo(3, 1);
    const texts = parse(path.join(out, 'creation.svg')).texts.join('\n');
    expect(texts).toContain('Creating and removing, sync, /tmp (ext4)');
    expect(texts).toContain('µs/op, lower is better');
    expect(texts).toContain('ops/s, higher is better');
  });

  it('atomic writes, I/O and cleanup: figures in the chart unit and ratios', () => {
    const atomic = rowsByLabel(parse(path.join(out, 'atomic.svg')));
    expect(atomic['write-file-atomic.sync (fsync)']).toMatchObject({ value: '220', ratio: '5.50×' });
    expect(atomic['writeFileAtomicSync (no fsync)']).toMatchObject({ value: '39.5', ratio: '1.00×' });
    expect(atomic['write-file-atomic.sync (no fsync)']).toMatchObject({ value: '218', ratio: '5.52×' });

    const io = parse(path.join(out, 'io.svg'));
    // 0.0726 s for 1,000,000 writes: 72.6 ns per write; Python 374 ns, 5.15×
    const small = io.rows.slice(0, 2);
    expect(small.map((x) => [x.value, x.ratio])).toEqual([
      ['72.6', '1.00×'],
      ['374', '5.15×'],
    ]);
    expect(io.texts.join('\n')).toContain('Writing 64 MiB, /dev/shm (tmpfs)');
    const bulk = io.rows.slice(2);
    expect(bulk.map((x) => [x.value, x.ratio])).toEqual([
      ['1.50', '0.94×'], // write, raw
      ['1.60', '1.00×'], // write, TempFile
      ['3.20', '1.07×'], // read, raw
      ['3.00', '1.00×'], // read, TempFile
    ]);

    const cleanup = rowsByLabel(parse(path.join(out, 'cleanup.svg')));
    expect(cleanup['fs.rmSync(p, {recursive, force})']).toMatchObject({ value: '25.0', ratio: '2.50×' });
    expect(cleanup['Python 3.11.7 shutil.rmtree, timed in Python']).toMatchObject({ value: '20.0', ratio: '2.00×' });
  });

  it('is deterministic: the same JSON gives the same bytes', () => {
    const again = path.join(work.dir, 'b');
    expect(report(again).status).toBe(0);
    for (const f of fs.readdirSync(out)) {
      expect(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(out, f)))).toBe(true);
    }
  });

  it('refuses a missing or unknown argument with the usage', () => {
    const r2 = spawnSync(process.execPath, [SCRIPT, '--nope'], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('usage: node bench/report.mjs');
    const r3 = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    expect(r3.status).toBe(2);
  });
});
