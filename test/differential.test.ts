// Differential test against CPython: seeded random sequences of file operations (write, read(n),
// read(), readinto, readline(), readline(n), seek(offset, whence), tell(), truncate(),
// truncate(n), flush, readlines(hint), writelines, line iteration run to the end or abandoned
// after k lines, peek/read1/readinto1 (binary, buffered), readable/writable/seekable, newlines,
// and a look at the file's bytes) run in Python (test/fixtures/pyfile.py,
// io.open on a real file; a few python3 processes per configuration, each running its share of
// the sequences on fresh files) and in a TempFile (sync methods; async methods awaited one by one;
// async methods all called at once without waiting), compared step by step: every return value,
// every refusal (as "both raised"), and the file's bytes.
//
// Reproduce a failure with what its message prints:
//   SECURETEMP_DIFF_SEED=<seed> npx vitest run test/differential.test.ts -t "<configuration>"
// SECURETEMP_DIFF_SEED=random picks a fresh seed; SECURETEMP_DIFF_SEQS=<n> changes how many
// sequences each configuration runs (default 40; a sequence depends only on the seed, the
// configuration and its number); SECURETEMP_DIFF_DUMP=<dir> writes each failing sequence there
// as JSON (its operations and both sides' results).
//
// What is not compared, or is steered around (none of it is something securetemp promises):
// - Text-mode tell() values are opaque cookies in Python: never compared, only seeked back to
//   (each side to its own), and then what is read is compared. seek(0, 2), truncate(n) and
//   everything read or written are compared; seek(0, 1) and truncate() return cookies.
// - Python text mode writes after a read at the end of its read-ahead, not at the position, and
//   truncate() cuts there (bpo-12215): before a write or truncate that follows a read, the
//   generator inserts tell() + seek(that cookie), which resynchronises Python and is a no-op
//   for us. CPython bugs that need no change to the sequence are stepped around in the driver
//   (see its docstring).
// - Text overwrites in the middle could split a multi-byte character, after which Python
//   (decoding a whole read-ahead chunk) raises earlier than we do. A small model of the file
//   keeps text valid: a write that would end inside a character is preceded by truncate(), and
//   seeks go only to cookies that are still character boundaries.
// - Append mode, with a write still buffered: our tell() is where the buffered bytes would go
//   if they were not appended (the position before the write, plus its length), as in CPython's
//   binary mode; after the flush, and in Python's text mode (its tell() flushes), it is the end
//   of the file. The generator flushes before tell() in that state.
// - Python's newline='' ends lines at '\r' too; ours, like newline='\n', only at '\n'. The
//   configuration with '\r' in its data runs Python with newline='\n'. `newlines` is compared
//   where Python runs with newline='\n' (None, as ours) and in binary mode (no such attribute);
//   with newline='' Python records the newlines it has seen, which ours (newline='\n') does not.
// - peek(n): CPython gives what its buffer holds, which may be fewer bytes than ours (min(n,
//   bytes left)): its bytes must be a prefix of ours, empty only when ours are. read1/readinto1:
//   the driver repeats CPython's read1 to n bytes or end of file (see its docstring); they are
//   not generated with bufsize 0 (CPython's unbuffered FileIO has none of the three).
// - An abandoned iteration in text mode is read in CPython with readline() (its tell() is
//   disabled after next() until a seek; see the driver).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, assert, beforeAll, describe, it } from 'vitest';
import { scratch, tempfile } from './_helpers';
import type { TempFile } from 'securetemp';

const DRIVER = path.join(__dirname, 'fixtures', 'pyfile.py');
const ENV_SEED = process.env.SECURETEMP_DIFF_SEED;
const SEED =
  ENV_SEED === 'random' ? (Math.random() * 2 ** 32) >>> 0 : ENV_SEED ? Number(ENV_SEED) >>> 0 : 0x5ec7e3b;
const SEQS = Number(process.env.SECURETEMP_DIFF_SEQS) || 40;
const OPS = 200;
const DUMP = process.env.SECURETEMP_DIFF_DUMP; // a directory: failing sequences are written there as JSON
const hasPython = spawnSync('python3', ['-c', 'import sys; sys.exit(sys.version_info < (3, 7))']).status === 0;

// --- seeded randomness ---

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sequence's own seed from the run seed, the configuration and the sequence number. */
function seqSeed(seed: number, config: number, seq: number): number {
  let h = seed ^ Math.imul(config + 1, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// --- configurations ---

type Enc = 'utf8' | 'utf16le' | 'latin1';
type Flavor = 'sync' | 'async' | 'queued';

interface Config {
  name: string;
  mode: string;
  encoding: Enc | null; // null: binary
  newline: '' | '\n'; // Python's newline argument (text mode)
  bufsizes: number[];
  alphabet: string[]; // text mode
}

const PY_ENCODING: Record<Enc, string> = { utf8: 'utf-8', utf16le: 'utf-16-le', latin1: 'latin-1' };

// Multi-byte characters, newlines, and UTF-16LE code units with 0x0a/0x00 bytes on odd
// offsets ('Ċ' = 0a 01, 'Ā' = 00 01, 'ਊ' = 0a 0a, 'ਁ' = 01 0a) that a misaligned
// newline search would take for '\n'.
const UNICODE = [...'abcxyz  \n\n\n', 'é', 'ß', 'Ω', '中', '文', '字', '😀', '🎉', '𝄞', 'Ċ', 'Ā', 'ਊ', 'ਁ', '\0'];
const LATIN1 = [...'abcxyz  \n\n\n', 'é', 'ß', 'ÿ', '\u0085', '\0'];
const WITH_CR = [...UNICODE, '\r', '\r', '\r\n'];

const CONFIGS: Config[] = [
  { name: "'w+b'", mode: 'w+b', encoding: null, newline: '', bufsizes: [-1, 0, 3, 7], alphabet: [] },
  { name: "'a+b'", mode: 'a+b', encoding: null, newline: '', bufsizes: [-1, 0, 3, 7], alphabet: [] },
  { name: "'w+' utf8", mode: 'w+', encoding: 'utf8', newline: '', bufsizes: [-1, 1, 3, 7], alphabet: UNICODE },
  { name: "'w+' utf16le", mode: 'w+', encoding: 'utf16le', newline: '', bufsizes: [-1, 1, 3, 7], alphabet: UNICODE },
  { name: "'a+' utf8", mode: 'a+', encoding: 'utf8', newline: '', bufsizes: [-1, 1, 3, 7], alphabet: UNICODE },
  { name: "'a+' utf16le", mode: 'a+', encoding: 'utf16le', newline: '', bufsizes: [-1, 1, 3, 7], alphabet: UNICODE },
  { name: "'w+' latin1", mode: 'w+', encoding: 'latin1', newline: '', bufsizes: [-1, 1, 7], alphabet: LATIN1 },
  {
    name: "'w+' utf8 with '\\r' (Python newline='\\n')",
    mode: 'w+',
    encoding: 'utf8',
    newline: '\n',
    bufsizes: [-1, 1, 3],
    alphabet: WITH_CR,
  },
];

// --- operations ---

type Op =
  | ['write', string] // hex in binary mode, the text in text mode
  | ['read', number]
  | ['readinto', number]
  | ['readline', number]
  | ['seek', number, 0 | 1 | 2]
  | ['seekc', number] // seek(the value the tell() at this op index returned)
  | ['tell']
  | ['truncate', number | null]
  | ['flush']
  | ['content'] // flush, then the file's bytes (read by descriptor, position untouched)
  | ['readlines', number]
  | ['writelines', string[]] // each as 'write' gives it
  | ['iter', number] // lines of an iteration abandoned after k (-1: to the end)
  | ['peek', number]
  | ['read1', number]
  | ['readinto1', number]
  | ['readable']
  | ['writable']
  | ['seekable']
  | ['newlines'];

type Value = number | boolean | null | { b: string } | { s: string } | { l: Value[] } | [number, string];
type Result = { v: Value } | { e: string };

/**
 * What the generator knows about the file, to choose sensible offsets and to keep text valid.
 * It only steers the choice of operations; nothing is asserted against it.
 */
class Model {
  bytes = Buffer.alloc(0);
  pos = 0;
  constructor(
    readonly enc: Enc | null,
    readonly append: boolean,
  ) {}

  get size(): number {
    return this.bytes.length;
  }
  #resize(n: number): void {
    if (n < this.size) this.bytes = this.bytes.subarray(0, n);
    else if (n > this.size) this.bytes = Buffer.concat([this.bytes, Buffer.alloc(n - this.size)]);
  }
  write(b: Buffer): void {
    if (b.length === 0) return; // writes nothing, extends nothing, moves nothing
    const at = this.append ? this.size : this.pos;
    if (at + b.length > this.size) this.#resize(at + b.length);
    b.copy(this.bytes, at);
    this.pos = at + b.length;
  }
  /** Code points from pos on (text). */
  #rest(): string[] {
    return this.pos >= this.size ? [] : [...this.bytes.subarray(this.pos).toString(this.enc!)];
  }
  read(n: number): void {
    if (this.pos >= this.size) return;
    if (this.enc === null) this.pos = n < 0 ? this.size : Math.min(this.size, this.pos + n);
    else this.pos += Buffer.byteLength((n < 0 ? this.#rest() : this.#rest().slice(0, n)).join(''), this.enc);
  }
  readline(n: number): void {
    if (this.pos >= this.size) return;
    if (this.enc === null) {
      const i = this.bytes.indexOf(0x0a, this.pos);
      let end = i < 0 ? this.size : i + 1;
      if (n >= 0) end = Math.min(end, this.pos + n);
      this.pos = end;
      return;
    }
    const cps = this.#rest();
    let k = cps.indexOf('\n');
    k = k < 0 ? cps.length : k + 1;
    if (n >= 0) k = Math.min(k, n);
    this.pos += Buffer.byteLength(cps.slice(0, k).join(''), this.enc);
  }
  /** The new position, or null when the seek is refused (negative). */
  seek(offset: number, whence: 0 | 1 | 2): number | null {
    const to = offset + (whence === 0 ? 0 : whence === 1 ? this.pos : this.size);
    if (to < 0) return null;
    this.pos = to;
    return to;
  }
  truncate(n: number | null): void {
    this.#resize(n ?? this.pos);
  }
  /** readlines(hint) / an iteration of k lines (k = -1: all). */
  lines(hint: number, k = -1): void {
    let total = 0;
    for (let n = 0; this.pos < this.size && n !== k; n++) {
      const before = this.pos;
      this.readline(-1);
      const b = this.bytes.subarray(before, this.pos);
      total += this.enc === null ? b.length : [...b.toString(this.enc)].length;
      if (hint > 0 && total > hint) break;
    }
  }
  /** Text mode: is byte offset `at` on a character boundary (or at/after the end)? */
  isBoundary(at: number): boolean {
    if (at >= this.size) return true;
    let off = 0;
    for (const c of this.bytes.toString(this.enc!)) {
      if (off === at) return true;
      if (off > at) return false;
      off += Buffer.byteLength(c, this.enc!);
    }
    return false;
  }
}

function randomBytes(r: Rng): Buffer {
  const n = r.chance(0.7) ? r.int(0, 8) : r.chance(0.67) ? r.int(9, 40) : r.int(41, 200);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r.chance(0.25) ? 0x0a : r.int(0, 255);
  return b;
}

function randomText(r: Rng, alphabet: string[]): string {
  const n = r.chance(0.75) ? r.int(0, 8) : r.chance(0.7) ? r.int(9, 30) : r.int(31, 120);
  let s = '';
  for (let i = 0; i < n; i++) s += r.pick(alphabet);
  return s;
}

interface GenOptions {
  /** Append mode: flush before tell() while a write may be buffered (see the header). */
  appendFlush: boolean;
  /** peek/read1/readinto1 only with a buffer (Python's unbuffered FileIO has none). */
  bufsize: number;
}

function generate(r: Rng, cfg: Config, n: number, opts: GenOptions = { appendFlush: true, bufsize: -1 }): Op[] {
  const binary = cfg.encoding === null;
  const append = cfg.mode.startsWith('a');
  const m = new Model(cfg.encoding, append);
  const ops: Op[] = [];
  const cookies: { at: number; pos: number }[] = []; // text: tell() op index and its byte offset
  let readSinceSeek = false; // text: Python's read-ahead is ahead of the position
  let appendPending = false; // append: a write may still be buffered

  const tell = (): number => {
    if (appendPending && opts.appendFlush) flush();
    ops.push(['tell']);
    if (!binary) cookies.push({ at: ops.length - 1, pos: m.pos });
    return ops.length - 1;
  };
  const flush = (): void => {
    ops.push(['flush']);
    appendPending = false;
  };
  const seekc = (c: { at: number; pos: number }): void => {
    ops.push(['seekc', c.at]);
    m.pos = c.pos;
    readSinceSeek = false;
  };
  /** Text: tell() + seek(that cookie): puts Python's buffer back at the position. */
  const resync = (): void => {
    tell();
    seekc(cookies[cookies.length - 1]!);
  };
  const truncate = (arg: number | null): void => {
    appendPending = false; // truncate flushes
    ops.push(['truncate', arg]);
    m.truncate(arg);
  };

  /** Text: a write of `s` (or writelines of its pieces), keeping Python in step and the text valid. */
  const writeText = (s: string, op: Op): void => {
    const b = Buffer.from(s, cfg.encoding!);
    if (readSinceSeek) resync();
    const end = m.pos + b.length;
    if (!append && end < m.size && !m.isBoundary(end)) truncate(null);
    ops.push(op);
    m.write(b);
  };

  while (ops.length < n) {
    if (r.chance(0.2)) {
      // The rest of the file object (issue 13).
      const y = r.next();
      if (y < 0.2) {
        const hint = r.pick([-1, 0, 1, r.int(1, 12), r.int(1, 60)]);
        ops.push(['readlines', hint]);
        m.lines(hint);
        readSinceSeek = true;
        appendPending = false;
      } else if (y < 0.35) {
        const k = r.chance(0.35) ? -1 : r.int(0, 4);
        ops.push(['iter', k]);
        m.lines(-1, k);
        readSinceSeek = true;
        appendPending = false;
      } else if (y < 0.55) {
        const count = r.int(0, 4);
        if (binary) {
          const items = Array.from({ length: count }, () => randomBytes(r));
          ops.push(['writelines', items.map((b) => b.toString('hex'))]);
          m.write(Buffer.concat(items));
        } else {
          const items = Array.from({ length: count }, () => randomText(r, cfg.alphabet));
          writeText(items.join(''), ['writelines', items]);
        }
        appendPending = append;
      } else if (y < 0.8 && binary && opts.bufsize !== 0) {
        const k = r.int(0, 24);
        const which = r.pick(['peek', 'read1', 'readinto1'] as const);
        if (which === 'peek') ops.push(['peek', Math.max(1, k)]);
        else {
          ops.push([which, k]);
          m.read(k);
        }
        appendPending = false;
      } else {
        ops.push([r.pick(['readable', 'writable', 'seekable', 'newlines'] as const)]);
      }
      continue;
    }
    const x = r.next();
    if (x < 0.25) {
      // write
      if (binary) {
        const b = randomBytes(r);
        ops.push(['write', b.toString('hex')]);
        m.write(b);
      } else {
        // An overwrite that would end inside a character: cut the file at the position first.
        const s = randomText(r, cfg.alphabet);
        writeText(s, ['write', s]);
      }
      appendPending = append;
    } else if (x < 0.38) {
      const k = r.chance(0.8) ? r.int(0, 12) : r.int(13, 300);
      ops.push(['read', k]);
      m.read(k);
      readSinceSeek = true;
      appendPending = false;
    } else if (x < 0.42) {
      ops.push(['read', -1]);
      m.read(-1);
      readSinceSeek = true;
      appendPending = false;
    } else if (x < 0.5) {
      ops.push(['readline', -1]);
      m.readline(-1);
      readSinceSeek = true;
      appendPending = false;
    } else if (x < 0.54) {
      const k = r.int(0, 20);
      ops.push(['readline', k]);
      m.readline(k);
      readSinceSeek = true;
      appendPending = false;
    } else if (x < 0.57 && binary) {
      const k = r.int(0, 40);
      ops.push(['readinto', k]);
      m.read(k);
      appendPending = false;
    } else if (x < 0.73) {
      // seek
      if (binary) {
        const whence = r.pick([0, 0, 1, 2] as const);
        const base = whence === 0 ? 0 : whence === 1 ? m.pos : m.size;
        // Mostly inside the file, sometimes past the end, sometimes before the start (refused).
        const to = r.chance(0.06) ? r.int(-5, -1) : r.chance(0.1) ? r.int(m.size, m.size + 20) : r.int(0, m.size);
        ops.push(['seek', to - base, whence]);
        if (m.seek(to - base, whence) === null) continue; // refused: nothing else changes
      } else {
        const y = r.next();
        const valid = cookies.filter((c) => m.isBoundary(c.pos));
        if (y < 0.3 || (y < 0.6 && valid.length === 0)) {
          ops.push(['seek', 0, 0]);
          m.seek(0, 0);
        } else if (y < 0.6) {
          seekc(r.pick(valid));
        } else if (y < 0.78) {
          ops.push(['seek', 0, 2]);
          m.seek(0, 2);
        } else if (y < 0.9) {
          ops.push(['seek', 0, 1]);
        } else {
          // What text mode refuses in both: a negative offset, a nonzero relative seek.
          // (Refused, so Python's buffer stays where it was: readSinceSeek is unchanged.)
          ops.push(r.pick<Op>([['seek', -1, 0], ['seek', r.int(1, 9), 1], ['seek', -r.int(1, 9), 2], ['seek', 3, 2]]));
          continue;
        }
      }
      readSinceSeek = false;
      appendPending = false; // a seek flushes
    } else if (x < 0.83) {
      tell();
    } else if (x < 0.9) {
      if (binary) truncate(r.chance(0.4) ? null : r.int(0, m.size + 10));
      else {
        if (readSinceSeek) resync();
        truncate(r.chance(0.7) ? null : 0);
      }
    } else if (x < 0.96) {
      flush();
    } else {
      ops.push(['content']);
      appendPending = false;
    }
  }
  if (binary) tell();
  ops.push(['content']);
  return ops;
}

// --- the two sides ---

interface Sequence {
  i: number;
  seed: number;
  bufsize: number;
  flavor: Flavor;
  ops: Op[];
}

/** Runs sequences in one python3 process (each on its own fresh file); their results in order. */
function runPython(cfg: Config, seqs: Sequence[]): Promise<Result[][]> {
  const sequences = seqs.map((q) => ({
    mode: cfg.mode,
    bufsize: q.bufsize,
    encoding: cfg.encoding && PY_ENCODING[cfg.encoding],
    newline: cfg.newline,
    ops: q.ops,
  }));
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-I', DRIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`python3 ${DRIVER} exited ${code}: ${Buffer.concat(err)}`));
      resolve((JSON.parse(Buffer.concat(out).toString('utf8')) as { results: Result[][] }).results);
    });
    p.stdin.end(JSON.stringify({ sequences }));
  });
}

function contentOf(fd: number): string {
  const size = fs.fstatSync(fd).size;
  const b = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const k = fs.readSync(fd, b, got, size - got, got);
    if (k === 0) break;
    got += k;
  }
  return b.subarray(0, got).toString('hex');
}

function toValue(v: unknown): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v;
  if (Buffer.isBuffer(v)) return { b: v.toString('hex') };
  if (typeof v === 'string') return { s: v };
  if (typeof v === 'number' || Array.isArray(v)) return v as Value;
  if (typeof v === 'object' && 'b' in v) return v as { b: string }; // 'content', already hex
  if (typeof v === 'object' && 'l' in v) return { l: (v as { l: unknown[] }).l.map(toValue) };
  throw new Error(`unexpected result ${String(v)}`);
}

function toError(e: unknown): Result {
  const x = e as { name?: string; code?: unknown; message?: string };
  // Every refusal must be one of ours, with a code; anything else is a failure of its own.
  return { e: `${x.name} ${typeof x.code === 'string' ? x.code : '(no code)'}: ${x.message}` };
}

function cookieOf(results: Result[], i: number): number {
  const r = results[i];
  return r && 'v' in r ? (r.v as number) : (undefined as unknown as number);
}

const data = (x: string, binary: boolean) => (binary ? Buffer.from(x, 'hex') : x);
const lines = (l: unknown[]) => ({ l });

/** The other methods of the file object: the same call in both flavors but for the I/O ones. */
function stepCommon(f: TempFile, op: Op): unknown {
  switch (op[0]) {
    case 'readable':
      return f.readable();
    case 'writable':
      return f.writable();
    case 'seekable':
      return f.seekable();
    case 'newlines':
      return f.newlines === undefined ? '<absent>' : f.newlines;
  }
  throw new Error(`not a common op: ${op[0]}`);
}

/** One operation through the synchronous methods. */
function stepSync(f: TempFile, op: Op, binary: boolean, results: Result[]): unknown {
  switch (op[0]) {
    case 'readlines':
      return lines(f.readlinesSync(op[1]));
    case 'writelines':
      return f.writelinesSync(op[1].map((x) => data(x, binary)));
    case 'iter': {
      const out: unknown[] = [];
      if (op[1] !== 0) {
        for (const l of f) {
          out.push(l);
          if (out.length === op[1]) break;
        }
      }
      return lines(out);
    }
    case 'peek':
      return f.peekSync(op[1]);
    case 'read1':
      return f.read1Sync(op[1]);
    case 'readinto1': {
      const b = new Uint8Array(op[1]);
      const k = f.readinto1Sync(b);
      return [k, Buffer.from(b.subarray(0, k)).toString('hex')];
    }
    case 'readable':
    case 'writable':
    case 'seekable':
    case 'newlines':
      return stepCommon(f, op);
    case 'write':
      return f.writeSync(binary ? Buffer.from(op[1], 'hex') : op[1]);
    case 'read':
      return f.readSync(op[1]);
    case 'readinto': {
      const b = new Uint8Array(op[1]);
      const k = f.readintoSync(b);
      return [k, Buffer.from(b.subarray(0, k)).toString('hex')];
    }
    case 'readline':
      return f.readlineSync(op[1]);
    case 'seek':
      return f.seekSync(op[1], op[2]);
    case 'seekc':
      return f.seekSync(cookieOf(results, op[1]));
    case 'tell':
      return f.tellSync();
    case 'truncate':
      return op[1] === null ? f.truncateSync() : f.truncateSync(op[1]);
    case 'flush':
      return f.flushSync();
    case 'content':
      f.flushSync();
      return { b: contentOf(f.fd) };
  }
}

/** One operation through the asynchronous methods (the returned promise is the method's own). */
function stepAsync(f: TempFile, op: Op, binary: boolean, results: Result[]): Promise<unknown> {
  switch (op[0]) {
    case 'readlines':
      return f.readlines(op[1]).then(lines);
    case 'writelines':
      // An async iterable, so the async form's own loop is what is tested.
      return f.writelines(
        (async function* () {
          for (const x of op[1]) yield data(x, binary);
        })(),
      );
    case 'iter':
      return (async () => {
        const out: unknown[] = [];
        if (op[1] !== 0) {
          for await (const l of f) {
            out.push(l);
            if (out.length === op[1]) break;
          }
        }
        return lines(out);
      })();
    case 'peek':
      return f.peek(op[1]);
    case 'read1':
      return f.read1(op[1]);
    case 'readinto1': {
      const b = new Uint8Array(op[1]);
      return f.readinto1(b).then((k) => [k, Buffer.from(b.subarray(0, k)).toString('hex')]);
    }
    case 'readable':
    case 'writable':
    case 'seekable':
    case 'newlines':
      return new Promise((resolve) => resolve(stepCommon(f, op)));
    case 'write':
      return f.write(binary ? Buffer.from(op[1], 'hex') : op[1]);
    case 'read':
      return f.read(op[1]);
    case 'readinto': {
      const b = new Uint8Array(op[1]);
      return f.readinto(b).then((k) => [k, Buffer.from(b.subarray(0, k)).toString('hex')]);
    }
    case 'readline':
      return f.readline(op[1]);
    case 'seek':
      return f.seek(op[1], op[2]);
    case 'seekc':
      return f.seek(cookieOf(results, op[1]));
    case 'tell':
      return f.tell();
    case 'truncate':
      return op[1] === null ? f.truncate() : f.truncate(op[1]);
    case 'flush':
      return f.flush();
    case 'content':
      return f.flush().then(() => ({ b: contentOf(f.fd) }));
  }
}

const stepsNotQueued = new Set(['readable', 'writable', 'seekable', 'newlines']);

const settle = (p: Promise<unknown>): Promise<Result> => p.then((v) => ({ v: toValue(v) }), toError);

async function runOurs(f: TempFile, ops: Op[], binary: boolean, flavor: Flavor): Promise<Result[]> {
  const results: Result[] = [];
  if (flavor === 'sync') {
    for (const op of ops) {
      try {
        results.push({ v: toValue(stepSync(f, op, binary, results)) });
      } catch (e) {
        results.push(toError(e));
      }
    }
    return results;
  }
  if (flavor === 'async') {
    for (const op of ops) results.push(await settle(stepAsync(f, op, binary, results)));
    return results;
  }
  // 'queued': every call made at once, in order, without waiting; the file's own queue must
  // run them in call order. A seek to a cookie (it needs the tell() result) and a content
  // check (it reads the descriptor directly) wait for everything before them.
  let pending: Promise<Result>[] = [];
  const drain = async () => {
    results.push(...(await Promise.all(pending)));
    pending = [];
  };
  for (const op of ops) {
    // An iteration awaits each line, and the capabilities are sync calls: they wait too.
    if (op[0] === 'seekc' || op[0] === 'content' || op[0] === 'iter' || stepsNotQueued.has(op[0])) {
      await drain();
      results.push(await settle(stepAsync(f, op, binary, results)));
    } else {
      pending.push(settle(stepAsync(f, op, binary, results)));
    }
  }
  await drain();
  return results;
}

// --- comparison ---

/** Whether this step's values are comparable (text-mode positions are opaque cookies). */
function comparable(op: Op, binary: boolean, pyNewline: '' | '\n'): boolean {
  if (binary) return true;
  switch (op[0]) {
    case 'newlines':
      return pyNewline === '\n'; // with newline='' Python records what it saw (see the header)
    case 'tell':
    case 'seekc':
      return false;
    case 'seek':
      return !(op[1] === 0 && op[2] === 1);
    case 'truncate':
      return op[1] !== null;
    default:
      return true;
  }
}

const show = (r: Result | undefined, max = Infinity): string => {
  const t = r === undefined ? '(missing)' : JSON.stringify(r);
  return t.length > max ? `${t.slice(0, max)}…` : t;
};

/** peek: Python's bytes are a prefix of ours, empty only when ours are (see the header). */
function samePeek(a: Value, b: Value): boolean {
  const x = (a as { b: string }).b;
  const y = (b as { b: string }).b;
  return x.startsWith(y) && (y.length > 0) === (x.length > 0);
}

/** The first difference, described for the assertion message; undefined when none. */
function compare(ops: Op[], ours: Result[], py: Result[], binary: boolean, pyNewline: '' | '\n' = ''): string | undefined {
  for (let i = 0; i < ops.length; i++) {
    const a = ours[i];
    const b = py[i];
    let bad = a === undefined || b === undefined;
    if (!bad) {
      if ('e' in a! || 'e' in b!) bad = !('e' in a! && 'e' in b!) || a!.e.includes('(no code)');
      else if (ops[i]![0] === 'peek') bad = !samePeek(a!.v, b!.v);
      else bad = comparable(ops[i]!, binary, pyNewline) && JSON.stringify(a!.v) !== JSON.stringify(b!.v);
    }
    if (bad) {
      const from = Math.max(0, i - 12);
      const history = ops
        .slice(from, i)
        .map((op, k) => `    #${from + k} ${JSON.stringify(op)} -> ours ${show(ours[from + k], 300)} / python ${show(py[from + k], 300)}`)
        .join('\n');
      return (
        `step #${i}: ${JSON.stringify(ops[i])}\n  ours:   ${show(a)}\n  python: ${show(b)}\n` +
        `  the steps before it:\n${history}`
      );
    }
  }
  return undefined;
}

// --- the tests ---

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

const FLAVORS: Flavor[] = ['sync', 'sync', 'async', 'queued'];

async function runOursOnNewFile(cfg: Config, bufsize: number, ops: Op[], flavor: Flavor): Promise<Result[]> {
  const f = tempfile.TemporaryFileSync({
    dir: s.dir,
    mode: cfg.mode,
    bufsize,
    ...(cfg.encoding ? { encoding: cfg.encoding } : {}),
  });
  try {
    return await runOurs(f, ops, cfg.encoding === null, flavor);
  } finally {
    await f.close();
  }
}

const config = (name: string): Config => CONFIGS.find((c) => c.name === name)!;
const hex = (t: string): string => Buffer.from(t).toString('hex');

/** Hand-written sequences: what the random ones found, kept whatever the generator becomes. */
const DIRECTED: [string, Config, number, Op[]][] = [
  [
    'append mode, unbuffered: an empty write does not move the position to the end',
    config("'a+b'"),
    0,
    [['write', hex('hello')], ['seek', 1, 0], ['write', ''], ['tell'], ['read', 2], ['write', ''], ['content']],
  ],
  [
    'a refused seek leaves the position where it was',
    config("'w+b'"),
    -1,
    [
      ['write', hex('x'.repeat(100))],
      ['seek', 26, 0],
      ['read', 9],
      ['write', hex('abcd')],
      ['seek', -2, 0],
      ['seek', 0, 1],
      ['seek', -7, 1],
      ['read', 3],
      ['seek', -50, 2],
      ['seek', -51, 1],
      ['tell'],
      ['content'],
    ],
  ],
  [
    "utf16le: readline() does not take 0a 00 across two characters for '\\n'",
    config("'w+' utf16le"),
    -1,
    [['write', 'ਁĀ\nĊĀਊ\n'], ['seek', 0, 0], ['readline', -1], ['readline', 1], ['readline', -1], ['content']],
  ],
  [
    'text: read(n) and readline(n) count code points, never split a character',
    config("'w+' utf8"),
    3,
    [
      ['write', '😀é中\n𝄞x😀\n'],
      ['seek', 0, 0],
      ['read', 1],
      ['read', 2],
      ['readline', 1],
      ['readline', 2],
      ['readline', 5],
      ['read', -1],
    ],
  ],
];

describe.skipIf(!hasPython)(`differential test against CPython (SECURETEMP_DIFF_SEED=${SEED})`, () => {
  it.each(CONFIGS.map((cfg, i) => [cfg.name, cfg, i] as const))('%s', async (_, cfg, ci) => {
    const binary = cfg.encoding === null;
    const seqs: Sequence[] = Array.from({ length: SEQS }, (_, i) => {
      const seed = seqSeed(SEED, ci, i);
      return {
        i,
        seed,
        bufsize: cfg.bufsizes[Math.floor(i / FLAVORS.length) % cfg.bufsizes.length]!,
        flavor: FLAVORS[i % FLAVORS.length]!,
        ops: generate(new Rng(seed), cfg, OPS, {
          appendFlush: true,
          bufsize: cfg.bufsizes[Math.floor(i / FLAVORS.length) % cfg.bufsizes.length]!,
        }),
      };
    });
    // Python starts slowly (~0.1 s): a few processes per configuration, each running a share
    // of the sequences (every sequence on a fresh file), in parallel with our side.
    const procs = Math.max(1, Math.min(4, os.availableParallelism()));
    const shares = Array.from({ length: procs }, (_, k) => seqs.filter((q) => q.i % procs === k));
    const python = Promise.all(shares.map((share) => runPython(cfg, share))).then((rs) => {
      const byIndex: Result[][] = [];
      rs.forEach((r, k) => r.forEach((res, j) => (byIndex[shares[k]![j]!.i] = res)));
      return byIndex;
    });
    const oursAll: Result[][] = [];
    for (const q of seqs) oursAll[q.i] = await runOursOnNewFile(cfg, q.bufsize, q.ops, q.flavor);
    const pyAll = await python;
    for (const q of seqs) {
      const diff = compare(q.ops, oursAll[q.i]!, pyAll[q.i]!, binary, cfg.newline);
      if (diff !== undefined) {
        if (DUMP) {
          const file = path.join(DUMP, `diff-${SEED}-${ci}-${q.i}.json`);
          fs.writeFileSync(file, JSON.stringify({ config: cfg, ...q, ours: oursAll[q.i], python: pyAll[q.i] }, null, 1));
        }
        const more = SEQS === 40 ? '' : ` SECURETEMP_DIFF_SEQS=${SEQS}`;
        const pattern = JSON.stringify(cfg.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')); // for -t, in "" in sh
        assert.fail(
          `securetemp and CPython differ: ${cfg.name}, sequence ${q.i} (its seed ${q.seed}), ` +
            `bufsize ${q.bufsize}, ${q.flavor} methods\n` +
            `reproduce: SECURETEMP_DIFF_SEED=${SEED}${more} npx vitest run test/differential.test.ts -t ${pattern}\n` +
            diff,
        );
      }
    }
  });

  it.each(DIRECTED)('%s', async (_, cfg, bufsize, ops) => {
    const [py] = await runPython(cfg, [{ i: 0, seed: 0, bufsize, flavor: 'sync', ops }]);
    for (const flavor of ['sync', 'async', 'queued'] as const) {
      const ours = await runOursOnNewFile(cfg, bufsize, ops, flavor);
      const diff = compare(ops, ours, py!, cfg.encoding === null, cfg.newline);
      if (diff !== undefined) assert.fail(`securetemp and CPython differ (${flavor} methods)\n${diff}`);
    }
  });
});
