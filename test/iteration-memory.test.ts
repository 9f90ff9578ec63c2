// Iterating over a 1 GiB file of 80-byte lines runs in bounded memory (issue 13): the iterator
// reads ahead in 64 KiB chunks and keeps no line it has given. The file is an unnamed
// TemporaryFile in a private scratch directory under the run's root, on /tmp's file system
// (test/_tmproot.ts), so nothing is left behind; the RSS growth is printed.
// SECURETEMP_ITER_MIB=<n> changes the size (default 1024).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scratch, tempfile } from './_helpers';

const MIB = Number(process.env.SECURETEMP_ITER_MIB) || 1024;
const LINE = 80;
let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

const rss = () => process.memoryUsage().rss;
const mib = (n: number) => (n / 2 ** 20).toFixed(1);

it(`iterates ${MIB} MiB of ${LINE}-byte lines in bounded memory (sync, then async abandoned half-way)`, async () => {
  const block = Buffer.alloc(LINE * 8192, 'y');
  for (let i = 0; i < 8192; i++) block.write(`${String(i).padStart(8, '0')}\n`, i * LINE + LINE - 9);
  const size = Math.floor((MIB * 2 ** 20) / block.length) * block.length;
  const f = tempfile.TemporaryFileSync({ dir: s.dir });
  try {
    for (let at = 0; at < size; at += block.length) f.writeSync(block);
    f.seekSync(0);
    const before = rss();
    let peak = before;
    let lines = 0;
    let bytes = 0;
    let t0 = Date.now();
    for (const line of f) {
      lines++;
      bytes += line.length;
      if ((lines & 0x3ffff) === 0) peak = Math.max(peak, rss());
      if (line.length !== LINE || line[LINE - 1] !== 0x0a) throw new Error(`line ${lines}: ${line.length} bytes`);
    }
    peak = Math.max(peak, rss());
    const syncMs = Date.now() - t0;
    expect(lines).toBe(size / LINE);
    expect(bytes).toBe(size);
    expect(f.tellSync()).toBe(size);

    // Async, abandoned half-way: bounded too, and the position is after the last line given.
    f.seekSync(0);
    let n = 0;
    t0 = Date.now();
    for await (const line of f) {
      if ((++n & 0x3ffff) === 0) peak = Math.max(peak, rss());
      if (line.length !== LINE) throw new Error(`line ${n}: ${line.length} bytes`);
      if (n === lines / 2) break;
    }
    const asyncMs = Date.now() - t0;
    expect(f.tellSync()).toBe(size / 2);
    const growth = peak - before;
    console.log(
      `iteration over ${mib(size)} MiB (${lines} lines): sync ${syncMs} ms, async (half) ${asyncMs} ms; ` +
        `RSS ${mib(before)} MiB before, peak ${mib(peak)} MiB, growth ${mib(growth)} MiB`,
    );
    expect(growth).toBeLessThan(128 * 2 ** 20); // the file is 8 times that, or more
  } finally {
    f.closeSync();
  }
}, 300_000);
