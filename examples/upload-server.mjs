#!/usr/bin/env node
// An upload server on node:http + busboy that keeps every uploaded file part in a
// SpooledTemporaryFile: in memory up to 1 MiB, then an unnamed file (O_TMPFILE on Linux) in the
// upload directory, capped at `maxBytes`. Every file a request opened is closed with the request,
// whether it succeeded, was refused or was aborted by the client, so nothing is left behind: no
// file in the directory, no descriptor in the process.
//
//   node examples/upload-server.mjs [--port=8080] [--host=127.0.0.1] [--dir=DIR] [--max-bytes=N] [--max-size=N] [--idle-ms=N]
//   curl -F a=@some.file http://127.0.0.1:8080/upload
//
// POST (any path), multipart/form-data. The answer is JSON:
//   200 {"files": [{"field", "filename", "size", "sha256", "rolledOver"}], "fields": {...}}
//   413 {"error": "..."}   a file part would pass maxBytes (the EFBIG of the file's cap)
//   400 {"error": "..."}   not multipart, or a malformed body
// A client that sends nothing for idleMs (default 30 s) in the middle of a request is cut off and
// its files closed: without it, a stalled upload would hold its files (and its memory) until
// Node's requestTimeout (300 s).
// As a module: createUploadServer(options) returns an http.Server that is not listening yet.
// Runs on Node 20 (no `await using`: files are closed in a finally block).
import * as http from 'node:http';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import busboy from 'busboy';
import { SpooledTemporaryFile } from 'securetemp';

const MiB = 1024 * 1024;

/**
 * @param {object} [options]
 * @param {string} [options.dir] where file parts past `maxSize` go (default: the temporary directory)
 * @param {number} [options.maxBytes] cap on one file part, in bytes (default 64 MiB)
 * @param {number} [options.maxSize] bytes kept in memory before rolling over to a file (default 1 MiB)
 * @param {number} [options.maxFiles] file parts per request (default 16)
 * @param {number} [options.drainMs] after a 413, how long the rest of the body is read and
 *   dropped (so that the client sees the answer) before the connection is cut (default 5000)
 * @param {number} [options.idleMs] how long a request may send nothing before its connection is
 *   cut and its files closed (default 30000)
 * @returns {http.Server}
 */
export function createUploadServer(options = {}) {
  const o = {
    dir: options.dir,
    maxBytes: options.maxBytes ?? 64 * MiB,
    maxSize: options.maxSize ?? MiB,
    maxFiles: options.maxFiles ?? 16,
    drainMs: options.drainMs ?? 5000,
    idleMs: options.idleMs ?? 30_000,
  };
  return http.createServer((req, res) => {
    handleUpload(req, res, o).catch((err) => {
      // a bug in this file, not a client's doing: answer if still possible, never crash
      if (!res.headersSent && !res.destroyed) reply(res, 500, { error: 'internal error' });
      console.error(err);
    });
  });
}

/** The one place where an error becomes an answer: the file's cap (EFBIG) is 413. */
function statusOf(err) {
  if (err.code === 'EFBIG') return 413;
  if (err.code === 'ECONNRESET') return 0; // the client went away: nobody to answer
  if (err.code === 'ETOOMANYPARTS') return 413; // more file parts than maxFiles
  if (err.code === 'EPARSE') return 400; // busboy: malformed body or headers
  return 500;
}

function reply(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function coded(message, code) {
  return Object.assign(new Error(message), { code });
}

async function handleUpload(req, res, o) {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    reply(res, 405, { error: 'POST multipart/form-data' });
    return;
  }
  let bb;
  try {
    bb = busboy({ headers: req.headers, limits: { files: o.maxFiles, fields: 64, fieldSize: 64 * 1024 } });
  } catch (e) {
    req.resume();
    reply(res, 400, { error: e.message });
    return;
  }

  /** Every file this request opened: all closed in the finally below, whatever happens. */
  const open = new Set();
  /** Part streams being read now: destroyed if the request fails. */
  const reading = new Set();
  const parts = [];
  const fields = {};
  const saving = [];
  let failure = null;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));

  const fail = (err) => {
    if (failure) return;
    failure = err;
    req.unpipe(bb);
    // with the error: a part stream that has ended but not yet emitted 'end', destroyed without
    // one, neither ends nor fails its pipeline, and the request would wait (holding its files)
    // for as long as the client keeps the connection (fourth outside review: 17 parts)
    for (const s of reading) s.destroy(err);
    // the rest of the body is read and dropped: the client gets its answer instead of a reset
    if (!req.destroyed) req.resume();
    finish();
  };

  async function savePart(index, field, stream, info) {
    const f = SpooledTemporaryFile({ maxSize: o.maxSize, maxBytes: o.maxBytes, dir: o.dir });
    open.add(f);
    reading.add(stream);
    const hash = createHash('sha256');
    let size = 0;
    // what arrives while a write is running is written next, in one call (writev)
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      writev(chunks, callback) {
        const data = chunks.map((c) => c.chunk);
        f.writelines(data).then(() => {
          // past maxBytes the write fails with EFBIG and nothing past the cap is written
          for (const d of data) {
            hash.update(d);
            size += d.length;
          }
          callback();
        }, callback);
      },
    });
    try {
      await pipeline(stream, sink);
    } catch (e) {
      fail(failure ?? e);
      return;
    } finally {
      reading.delete(stream);
    }
    // a real server would use the file here (scan it, store it); it is closed with the request
    parts[index] = { field, filename: info.filename ?? null, size, sha256: hash.digest('hex'), rolledOver: f.rolledOver };
  }

  bb.on('file', (field, stream, info) => {
    if (failure) stream.resume();
    else saving.push(savePart(saving.length, field, stream, info));
  });
  bb.on('field', (name, value) => {
    fields[name] = value;
  });
  bb.on('filesLimit', () => fail(coded(`more than ${o.maxFiles} file parts`, 'ETOOMANYPARTS')));
  bb.on('error', (e) => fail(Object.assign(e, { code: e.code ?? 'EPARSE' })));
  bb.on('close', () => finish());
  // the client went away mid-body (or the socket failed): stop and close everything
  req.on('close', () => {
    if (!req.complete) fail(coded('request aborted', 'ECONNRESET'));
  });
  req.on('error', () => {}); // reported through 'close' above
  // a client that stalls mid-body: the connection is cut, and 'close' above closes its files
  const idle = () => req.destroy(coded(`no data for ${o.idleMs} ms`, 'ETIMEDOUT'));
  req.setTimeout(o.idleMs, idle);

  try {
    req.pipe(bb);
    await finished;
    await Promise.all(saving);
  } finally {
    // the connection's own timeouts (keep-alive) apply again once the answer is sent
    req.off('timeout', idle);
    req.setTimeout(0);
    await Promise.allSettled([...open].map((f) => f.close()));
  }

  if (failure) {
    const status = statusOf(failure);
    if (status === 0 || res.destroyed) return;
    if (status === 500) console.error(failure);
    reply(res, status, { error: status === 500 ? 'internal error' : failure.message });
    if (!req.complete) {
      // a client that keeps sending after its 413 is cut off after drainMs
      const t = setTimeout(() => req.socket?.destroy(), o.drainMs);
      t.unref();
      req.once('end', () => clearTimeout(t));
      req.once('close', () => clearTimeout(t));
    }
    return;
  }
  reply(res, 200, { files: parts, fields });
}

// --- run as a program -------------------------------------------------------

function isMain() {
  return process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
}

if (isMain()) {
  const arg = (name, dflt) => {
    const a = process.argv.slice(2).find((x) => x.startsWith(`--${name}=`));
    return a === undefined ? dflt : a.slice(name.length + 3);
  };
  const port = Number(arg('port', '8080'));
  const host = arg('host', '127.0.0.1');
  const maxBytes = Number(arg('max-bytes', String(64 * MiB)));
  const maxSize = Number(arg('max-size', String(MiB)));
  const dir = arg('dir', undefined);
  const idleMs = Number(arg('idle-ms', '30000'));
  // what the garbage collector or the exit had to clean up: printed, one JSON line each
  diagnosticsChannel.subscribe('securetemp:leak', (msg) => {
    process.stderr.write(`securetemp:leak ${JSON.stringify(msg)}\n`);
  });
  const server = createUploadServer({ dir, maxBytes, maxSize, idleMs });
  server.listen(port, host, () => {
    const a = server.address();
    // one JSON line on stdout: tests and bench/upload-soak.mjs read the port from it
    process.stdout.write(`${JSON.stringify({ listening: `http://${a.address}:${a.port}/upload`, port: a.port, pid: process.pid })}\n`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
