#!/usr/bin/env node
// Upload soak (issue 15, "Proof under load"): the same load against three servers of the same
// shape (POST multipart, one file part, JSON answer with the part's size and SHA-256, the file
// gone when the request is done), each in its own child process with a private upload
// directory:
//   securetemp  examples/upload-server.mjs: busboy, SpooledTemporaryFile({maxSize: 1 MiB, maxBytes})
//   multer      multer 2 DiskStorage on plain node:http (multer needs no express), limits.fileSize;
//               the stored file is read back for the hash, then unlinked
//   formidable  formidable 3 defaults + uploadDir, maxFileSize and hashAlgorithm 'sha256'; the
//               file unlinked after the answer
//
//   node bench/upload-soak.mjs                       20,000 uploads on 32 connections per server
//   node bench/upload-soak.mjs --n=2000 --conns=16   a shorter run
//   --rounds=N (default 4): the load in N slices, the servers taking turns (see main())
//   --servers=securetemp,multer  --seed=1  --base=DIR (where the upload directories go; default
//   os.tmpdir())  --json (one JSON object on stdout instead of the table)
//   --max-size=N (the securetemp server's SpooledTemporaryFile maxSize; default 1 MiB)
//   --smaps=PREFIX (each server's /proc/PID/smaps at the end, into PREFIX.<server>)
//   SOAK_NODE_ARGS="--trace-gc ..." (V8/Node flags for the server processes; NODE_OPTIONS
//   refuses most tracing flags)
//   The JSON also has each server's V8 heap spaces at the end: [committed, physical, used] MiB.
//
// Load (the same sequence for every server, from --seed): sizes log-uniform within three bands,
// 70 % 1-64 KiB, 25 % 64 KiB-1 MiB, 5 % 1-8 MiB; 10 % of the requests are aborted by the client
// after a random 10-90 % of the body was written; 2 % are over the cap (maxBytes = 8 MiB) by
// 1 byte to 2 MiB and must get 413 (or a reset after it). Loopback only; the run stops by
// itself.
//
// Figures per server: requests/s (every request, aborted ones included, over the wall time of
// the load), p50/p99 latency of the answered requests, descriptors still open and files left in
// the upload directory 5 s after the last request (after two forced garbage collections;
// descriptors counted in /proc/<pid>/fd against the count before the load), RSS (before, peak,
// after), and every securetemp:leak message the server printed (until its exit). Where the RSS
// growth is, and why it moves from run to run: README, "Uploads under load".
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fork } from 'node:child_process';
import * as v8 from 'node:v8';
import { createHash, randomFillSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { workDirs } from './_common.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_BYTES = 8 * MiB;
const SELF = fileURLToPath(import.meta.url);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? dflt : a.slice(name.length + 3);
};

// --- server side (child process) ----------------------------------------------

async function serve(kind, dir, maxBytes) {
  const reply = (res, status, body) => {
    const data = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
    res.end(data);
  };
  let server;
  if (kind === 'securetemp') {
    const dc = await import('node:diagnostics_channel');
    dc.subscribe('securetemp:leak', (msg) => {
      fs.writeSync(2, `securetemp:leak ${JSON.stringify(msg)}\n`);
    });
    const { createUploadServer } = await import('../examples/upload-server.mjs');
    const maxSize = opt('max-size', null);
    server = createUploadServer({ dir, maxBytes, maxSize: maxSize === null ? undefined : Number(maxSize) });
  } else if (kind === 'multer') {
    const { default: multer } = await import('multer');
    const upload = multer({ storage: multer.diskStorage({ destination: dir }), limits: { fileSize: maxBytes, files: 16 } }).any();
    const hashFile = async (p) => {
      const h = createHash('sha256');
      for await (const c of fs.createReadStream(p)) h.update(c);
      return h.digest('hex');
    };
    server = http.createServer((req, res) => {
      upload(req, res, async (err) => {
        const files = req.files ?? [];
        try {
          if (err) {
            if (!res.destroyed) reply(res, err.code === 'LIMIT_FILE_SIZE' ? 413 : 400, { error: err.message });
            return;
          }
          const out = [];
          for (const f of files) out.push({ field: f.fieldname, filename: f.originalname, size: f.size, sha256: await hashFile(f.path) });
          reply(res, 200, { files: out });
        } catch (e) {
          if (!res.headersSent && !res.destroyed) reply(res, 500, { error: String(e) });
        } finally {
          await Promise.allSettled(files.map((f) => fsp.unlink(f.path)));
        }
      });
    });
  } else if (kind === 'formidable') {
    const { default: formidable } = await import('formidable');
    server = http.createServer((req, res) => {
      const form = formidable({ uploadDir: dir, maxFileSize: maxBytes, hashAlgorithm: 'sha256' });
      form.parse(req, async (err, _fields, files) => {
        const list = err ? [] : Object.values(files ?? {}).flat();
        try {
          if (err) {
            if (!res.destroyed) reply(res, err.httpCode === 413 ? 413 : (err.httpCode ?? 400), { error: err.message });
            return;
          }
          reply(res, 200, {
            files: list.map((f) => ({ field: null, filename: f.originalFilename, size: f.size, sha256: f.hash })),
          });
        } finally {
          await Promise.allSettled(list.map((f) => fsp.unlink(f.filepath)));
        }
      });
    });
  } else {
    throw new Error(`unknown server ${kind}`);
  }
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, pid: process.pid }));
  process.on('message', (m) => {
    if (m === 'gc') {
      globalThis.gc?.();
      globalThis.gc?.();
      process.send('gc-done');
    } else if (m === 'mem') {
      const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((x) => [x.space_name, [+(x.space_size / 1048576).toFixed(1), +(x.physical_space_size / 1048576).toFixed(1), +(x.space_used_size / 1048576).toFixed(1)]]));
      process.send({ mem: process.memoryUsage(), spaces });
    } else if (m === 'stop') {
      server.close();
      server.closeAllConnections();
      process.disconnect();
    }
  });
}

// --- client side ----------------------------------------------------------------

/** mulberry32: the same load for every server. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeLoad(n, seed) {
  const r = prng(seed);
  const logUniform = (lo, hi) => Math.round(Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo))));
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const k = r();
    const kind = k < 0.1 ? 'abort' : k < 0.12 ? 'over' : 'ok';
    const b = r();
    let size =
      kind === 'over'
        ? MAX_BYTES + 1 + Math.floor(r() * 2 * MiB)
        : b < 0.7
          ? logUniform(KiB, 64 * KiB)
          : b < 0.95
            ? logUniform(64 * KiB, MiB)
            : logUniform(MiB, 8 * MiB);
    const offset = Math.floor(r() * MiB);
    const cut = kind === 'abort' ? 0.1 + 0.8 * r() : 1;
    const check = r() < 0.02; // compare the SHA-256 for 2 % (the size for all)
    jobs.push({ kind, size, offset, cut, check });
  }
  return jobs;
}

const BOUNDARY = '----securetemp-soak-7d1f3a';
const HEAD = Buffer.from(
  `--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="upload.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`,
);
const TAIL = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

function once(job, port, agent, data) {
  const body = data.subarray(job.offset, job.offset + job.size);
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const end = (r) => {
      if (done) return;
      done = true;
      resolve({ ...r, ms: performance.now() - t0 });
    };
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/upload',
      agent,
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': HEAD.length + body.length + TAIL.length },
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => end({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      res.on('error', () => end({ status: res.statusCode, text: '' }));
    });
    req.on('error', (e) => end({ status: 0, error: e.code ?? String(e) }));
    req.write(HEAD);
    if (job.kind === 'abort') {
      const part = body.subarray(0, Math.floor(body.length * job.cut));
      req.write(part, () => {
        // the bytes are in the socket: cut the connection mid-body
        setImmediate(() => {
          req.destroy();
          end({ status: -1 });
        });
      });
    } else {
      req.write(body);
      req.end(TAIL);
    }
  });
}

function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}
function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
/** RSS of the brk heap (glibc's main arena): where freed but kept memory shows. */
function brkHeapMiB(pid) {
  const m = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
function countFiles(dir) {
  return fs.readdirSync(dir, { recursive: true }).length;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);

/** Starts one server in its own child process, with its own upload directory. */
async function startServer(kind, base, dirs) {
  const dir = dirs.add(fs.mkdtempSync(path.join(base, `upload-soak-${kind}-`)));
  const maxSize = opt('max-size', null);
  const child = fork(SELF, [`--serve=${kind}`, `--dir=${dir}`, `--max-bytes=${MAX_BYTES}`, ...(maxSize === null ? [] : [`--max-size=${maxSize}`])], {
    execArgv: ['--expose-gc', ...(process.env.SOAK_NODE_ARGS ? process.env.SOAK_NODE_ARGS.split(' ') : [])],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  const S = { kind, dir, child, stderr: '', wall: 0, requests: 0, lat: [], otherSamples: [] };
  S.counts = { ok: 0, s413: 0, aborted: 0, other: 0, wrong: 0, errors: 0 };
  child.stderr.on('data', (c) => (S.stderr += c));
  S.exited = new Promise((r) => child.once('exit', (code, sig) => r({ code, sig })));
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', () => reject(new Error(`${kind} server exited: ${S.stderr}`)));
  });
  S.port = ready.port;
  S.pid = ready.pid;
  await sleep(200);
  S.fd0 = fdCount(S.pid);
  S.rss0 = rssMiB(S.pid);
  S.rssPeak = S.rss0;
  S.sampler = setInterval(() => {
    try {
      S.rssPeak = Math.max(S.rssPeak, rssMiB(S.pid));
    } catch {}
  }, 100);
  return S;
}

/** Sends one slice of the load to a server; its counts, latencies and wall time add up. */
async function runSlice(S, jobs, conns, data) {
  const { counts, lat, otherSamples } = S;
  // an agent per slice: between two slices the server closes the idle keep-alive connections
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const r = await once(job, S.port, agent, data);
      if (job.kind === 'abort') {
        counts.aborted++;
        continue;
      }
      if (r.status > 0) lat.push(r.ms);
      if (job.kind === 'over') {
        // 413, or a reset once the server stopped reading (a client that keeps sending)
        if (r.status === 413 || (r.status === 0 && r.error === 'ECONNRESET')) counts.s413++;
        else {
          counts.other++;
          if (otherSamples.length < 3) otherSamples.push(`over: ${r.status} ${r.error ?? r.text?.slice(0, 80)}`);
        }
        continue;
      }
      if (r.status !== 200) {
        counts.other++;
        if (r.status === 0) counts.errors++;
        if (otherSamples.length < 3) otherSamples.push(`${r.status} ${r.error ?? r.text?.slice(0, 80)}`);
        continue;
      }
      counts.ok++;
      const f = JSON.parse(r.text).files[0];
      let good = f && f.size === job.size;
      if (good && job.check) {
        const want = createHash('sha256').update(data.subarray(job.offset, job.offset + job.size)).digest('hex');
        good = f.sha256 === want;
      }
      if (!good) counts.wrong++;
    }
  };
  await Promise.all(Array.from({ length: conns }, worker));
  S.wall += (performance.now() - t0) / 1000;
  S.requests += jobs.length;
  agent.destroy();
}

/** After a server's last request: the figures 5 s later, then the server stops. */
async function finishServer(S, dirs) {
  const { kind, child, pid, dir } = S;
  const ask = (m, answer) =>
    new Promise((r) => {
      const on = (x) => {
        if (x === answer) {
          child.off('message', on);
          r();
        }
      };
      child.on('message', on);
      child.send(m);
    });
  const memNow = () =>
    new Promise((r) => {
      const on = (x) => {
        if (x && x.mem) {
          child.off('message', on);
          r({ ...x.mem, spaces: x.spaces });
        }
      };
      child.on('message', on);
      child.send('mem');
    });
  // 5 s after the last request, after two forced collections (finalizers get their chance)
  await sleep(1000);
  await ask('gc', 'gc-done');
  await sleep(1000);
  await ask('gc', 'gc-done');
  await sleep(3000);
  clearInterval(S.sampler);
  const mem = await memNow();
  const fd1 = fdCount(pid);
  const rss1 = rssMiB(pid);
  const left = countFiles(dir);
  const brk = brkHeapMiB(pid);
  const smaps = opt('smaps', null);
  if (smaps !== null) fs.writeFileSync(`${smaps}.${kind}`, fs.readFileSync(`/proc/${pid}/smaps`));
  child.send('stop');
  const ex = await Promise.race([S.exited, sleep(10_000).then(() => null)]);
  if (!ex) child.kill('SIGKILL');
  await S.exited;
  dirs.remove(dir, false);
  const lat = S.lat.sort((a, b) => a - b);
  const leaks = S.stderr.split('\n').filter((l) => l.startsWith('securetemp:leak'));
  const errText = S.stderr.split('\n').filter((l) => l && !l.startsWith('securetemp:leak'));
  const { rss0, fd0 } = S;
  return {
    server: kind,
    requests: S.requests,
    wallS: +S.wall.toFixed(2),
    reqPerS: +(S.requests / S.wall).toFixed(1),
    p50ms: +pct(lat, 50).toFixed(1),
    p99ms: +pct(lat, 99).toFixed(1),
    ...S.counts,
    fdsLeft: fd1 - fd0,
    filesLeft: left,
    rssStartMiB: +rss0.toFixed(1),
    rssPeakMiB: +S.rssPeak.toFixed(1),
    rssEndMiB: +rss1.toFixed(1),
    rssGrowthMiB: +(rss1 - rss0).toFixed(1),
    heapUsedMiB: +(mem.heapUsed / MiB).toFixed(1),
    heapTotalMiB: +(mem.heapTotal / MiB).toFixed(1),
    externalMiB: +(mem.external / MiB).toFixed(1),
    brkHeapMiB: +brk.toFixed(1),
    v8SpacesMiB: mem.spaces,
    leaks,
    otherSamples: S.otherSamples,
    stderr: errText.slice(0, 5),
  };
}

async function main() {
  const n = Number(opt('n', '20000'));
  const conns = Number(opt('conns', '32'));
  const seed = Number(opt('seed', '1'));
  const servers = opt('servers', 'securetemp,multer,formidable').split(',');
  const base = opt('base', os.tmpdir());
  const json = argv.includes('--json');
  const jobs = makeLoad(n, seed);
  const data = randomFillSync(Buffer.allocUnsafe(MAX_BYTES + 2 * MiB + MiB + 1));
  const bytes = jobs.reduce((s, j) => s + Math.floor(j.size * j.cut), 0);
  const dirs = workDirs();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  if (!json) {
    console.log(`upload soak: ${n} uploads on ${conns} connections, seed ${seed}, ${(bytes / MiB).toFixed(0)} MiB sent per server,`);
    console.log(`  ${jobs.filter((j) => j.kind === 'abort').length} aborted mid-body, ${jobs.filter((j) => j.kind === 'over').length} over the ${MAX_BYTES / MiB} MiB cap; node ${process.version}, ${os.cpus().length} CPUs, load ${load}`);
  }
  // Round robin: every server runs, its upload directory on the same file system, while the
  // others wait; the load is cut into --rounds slices and each round starts with the next server
  // (this machine's disk slows down as deletions pile up, and the load of the machine moves:
  // run one after the other, the ratios moved from 0.86x to 1.20x between identical runs).
  // Each server is measured 5 s after its own last request, while the others go on.
  const rounds = Math.max(1, Math.min(Number(opt('rounds', '4')), jobs.length));
  const started = [];
  for (const kind of servers) started.push(await startServer(kind, base, dirs));
  const finishing = [];
  for (let r = 0; r < rounds; r++) {
    const slice = jobs.slice(Math.floor((r * jobs.length) / rounds), Math.floor(((r + 1) * jobs.length) / rounds));
    for (let k = 0; k < started.length; k++) {
      const S = started[(r + k) % started.length];
      await runSlice(S, slice, conns, data);
      if (r === rounds - 1) {
        if (!json) console.error(`  ${S.kind}: done, ${S.wall.toFixed(1)} s under load`);
        finishing[(r + k) % started.length] = finishServer(S, dirs);
      }
    }
    if (!json && r < rounds - 1) console.error(`  round ${r + 1} of ${rounds} done`);
  }
  const results = await Promise.all(finishing);
  const loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  if (json) {
    console.log(JSON.stringify({ n, conns, seed, node: process.version, load, loadAfter, date: new Date().toISOString(), results }, null, 2));
    return;
  }
  const multer = results.find((r) => r.server === 'multer');
  const rows = [
    ['server', 'req/s', 'vs multer', 'p50 ms', 'p99 ms', '200', '413', 'aborted', 'other', 'wrong', 'fds left', 'files left', 'RSS start/peak/end MiB', 'RSS growth', 'JS heap/total/ext MiB', 'malloc heap MiB', 'leaks'],
    ...results.map((r) => [
      r.server,
      r.reqPerS.toFixed(1),
      multer ? `${(r.reqPerS / multer.reqPerS).toFixed(2)}x` : '-',
      r.p50ms.toFixed(1),
      r.p99ms.toFixed(1),
      r.ok,
      r.s413,
      r.aborted,
      r.other,
      r.wrong,
      r.fdsLeft,
      r.filesLeft,
      `${r.rssStartMiB.toFixed(0)}/${r.rssPeakMiB.toFixed(0)}/${r.rssEndMiB.toFixed(0)}`,
      `${r.rssGrowthMiB.toFixed(1)} MiB`,
      `${r.heapUsedMiB.toFixed(0)}/${r.heapTotalMiB.toFixed(0)}/${r.externalMiB.toFixed(0)}`,
      r.brkHeapMiB.toFixed(0),
      r.leaks.length,
    ]),
  ];
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  for (const row of rows) console.log(row.map((c, i) => String(c).padStart(w[i])).join('  '));
  console.log(`load average after: ${loadAfter}`);
  for (const r of results) {
    for (const l of r.leaks) console.log(`${r.server}: ${l}`);
    for (const s of r.otherSamples) console.log(`${r.server}: unexpected answer: ${s}`);
    for (const s of r.stderr) console.log(`${r.server} stderr: ${s}`);
  }
  const st = results.find((r) => r.server === 'securetemp');
  if (st) {
    const goals = [
      ['0 files left', st.filesLeft === 0],
      ['0 descriptors left', st.fdsLeft <= 0],
      ['0 leaks', st.leaks.length === 0],
      ['RSS growth < 64 MiB', st.rssGrowthMiB < 64],
      ...(multer ? [['throughput >= 1.0x multer', st.reqPerS >= multer.reqPerS]] : []),
      ['every answer right', st.wrong === 0 && st.other === 0],
    ];
    console.log(`securetemp goals: ${goals.map(([g, ok]) => `${g}: ${ok ? 'yes' : 'NO'}`).join('; ')}`);
  }
}

const serveKind = opt('serve', null);
if (serveKind) await serve(serveKind, opt('dir', null), Number(opt('max-bytes', String(MAX_BYTES))));
else await main();
