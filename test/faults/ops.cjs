'use strict';
// The operations of test/faults: every public operation, sync and async. Each one is
//   setup(dir) -> state        (not armed: what the operation needs, made without faults)
//   run(state) -> value        (armed: the operation itself, sync or returning a promise)
//   verify(state, r) -> [...]  (not armed: what is wrong; r = {ok, value, error})
//   teardown(state, r)         (not armed: closes what the case opened; a throw is a problem)
// The calls each one makes are not listed anywhere: worker.cjs traces run() once.
const fs = require('node:fs');
const path = require('node:path');
const t = require('../../dist/index.js');
const { internals } = require('../../dist/_internals.js');

const PREFIX = 'ft-';
const OLD = Buffer.alloc(12000, 'o');
const NEW = Buffer.alloc(20000, 'n');
const LINES = Buffer.from(Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}\n`).join(''));

const ops = [];
function pair(name, spec) {
  ops.push({ name: `${name} (sync)`, ...spec, run: spec.sync });
  ops.push({ name: `${name} (async)`, ...spec, run: spec.async });
}

const bytes = (f) => { f.seekSync(0); const b = f.readSync(-1); return b; };
const eq = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
function closeQuiet(f) { try { if (f && !f.closed) f.closeSync(); } catch { /* reported by the fd check */ } }

// A TempFile that saw a failed operation must tell the truth: tell() is where the next write
// lands, the file holds exactly what size says, every byte is old or new data, and it closes.
function truthful(f, oldBuf, newBuf, at, problems) {
  let pos;
  try {
    f.flushSync();
    pos = f.tellSync();
    const size = fs.fstatSync(f.fd).size;
    const raw = fs.readFileSync(`/proc/self/fd/${f.fd}`);
    if (raw.length !== size) problems.push(`size ${size} but ${raw.length} bytes readable`);
    for (let i = 0; i < raw.length; i++) {
      const o = i < oldBuf.length ? oldBuf[i] : undefined;
      const n = i >= at && i < at + newBuf.length ? newBuf[i - at] : undefined;
      if (raw[i] !== o && raw[i] !== n) { problems.push(`byte ${i} is ${raw[i]}: neither old nor new data`); break; }
    }
    f.writeSync(Buffer.from('Z'));
    f.flushSync();
    const after = fs.readFileSync(`/proc/self/fd/${f.fd}`);
    if (after[pos] !== 0x5a) problems.push(`tell() said ${pos} but the next write did not land there`);
    if (pos > raw.length) problems.push(`tell() ${pos} past the end ${raw.length}`);
  } catch (e) {
    problems.push(`file unusable after the failure: ${e.code ?? ''} ${e.message}`);
  }
}

// ---- creation of every kind ----
const create = (kind, sync, async, check, extra = {}) => pair(kind, {
  setup: (dir) => { extra.before?.(); return { dir }; },
  sync: (s) => sync(s.dir), async: (s) => async(s.dir),
  verify: (s, r) => (r.ok ? check(r.value, s) : []),
  teardown: (s, r) => { extra.after?.(); if (r.ok) extra.dispose(r.value); },
});
const fileCheck = (f) => {
  const p = [];
  const st = fs.fstatSync(f.fd);
  if (!st.isFile()) p.push('not a file');
  f.writeSync(Buffer.from('abc'));
  if (!eq(bytes(f), 'abc')) p.push('round trip failed');
  return p;
};
create('mkstemp', (dir) => t.mkstempSync({ dir, prefix: PREFIX }), (dir) => t.mkstemp({ dir, prefix: PREFIX }),
  (v) => (fs.fstatSync(v.fd).ino === fs.lstatSync(v.path).ino ? [] : ['fd and path differ']),
  { dispose: (v) => { fs.closeSync(v.fd); fs.unlinkSync(v.path); } });
create('mkdtemp', (dir) => t.mkdtempSync({ dir, prefix: PREFIX }), (dir) => t.mkdtemp({ dir, prefix: PREFIX }),
  (v) => (fs.lstatSync(v).isDirectory() ? [] : ['not a directory']), { dispose: (v) => fs.rmdirSync(v) });
create('TemporaryFile O_TMPFILE', (dir) => t.TemporaryFileSync({ dir, prefix: PREFIX }), (dir) => t.TemporaryFile({ dir, prefix: PREFIX }),
  fileCheck, { dispose: (f) => f.closeSync() });
create('TemporaryFile fallback', (dir) => t.TemporaryFileSync({ dir, prefix: PREFIX }), (dir) => t.TemporaryFile({ dir, prefix: PREFIX }),
  fileCheck, { before: () => { internals.forceNoTmpfile = true; }, after: () => { internals.forceNoTmpfile = false; }, dispose: (f) => f.closeSync() });
create('NamedTemporaryFile', (dir) => t.NamedTemporaryFileSync({ dir, prefix: PREFIX }), (dir) => t.NamedTemporaryFile({ dir, prefix: PREFIX }),
  (f) => [...fileCheck(f), ...(fs.lstatSync(f.path).ino === fs.fstatSync(f.fd).ino ? [] : ['path is another file'])],
  { dispose: (f) => f.closeSync() });
create('TemporaryDirectory', (dir) => t.TemporaryDirectorySync({ dir, prefix: PREFIX }), (dir) => t.TemporaryDirectory({ dir, prefix: PREFIX }),
  (d) => (fs.lstatSync(d.path).isDirectory() ? [] : ['not a directory']), { dispose: (d) => d.cleanupSync() });
create('SpooledTemporaryFile', (dir) => t.SpooledTemporaryFile({ dir, prefix: PREFIX, maxSize: 100 }), async (dir) => t.SpooledTemporaryFile({ dir, prefix: PREFIX, maxSize: 100 }),
  () => [], { dispose: (f) => f.closeSync() });
ops.at(-1).noCalls = ops.at(-2).noCalls = true;  // in memory until rollover: no system call at all

// mktemp (an existence check, nothing created) and gettempdir (a probe file created, written,
// closed and removed in each candidate until one works): sync only, as in the API
for (const [name, run, check] of [
  ['mktemp', (s) => t.mktemp({ dir: s.dir, prefix: PREFIX }), (s, v) => path.dirname(v) === s.dir && !fs.existsSync(v)],
  ['gettempdir', () => t.gettempdir(), (s, v) => v === s.dir],
]) {
  ops.push({
    name: `${name} (sync)`,
    setup: (dir) => {
      const saved = { tempdir: t.tempdir, env: ['TMPDIR', 'TEMP', 'TMP'].map((k) => process.env[k]) };
      t.tempdir = null;
      for (const k of ['TMPDIR', 'TEMP', 'TMP']) process.env[k] = dir;  // a failed probe moves on to the same directory
      return { dir, saved };
    },
    run,
    verify: (s, r) => (r.ok && !check(s, r.value) ? [`returned ${r.value}`] : []),
    teardown: (s) => {
      t.tempdir = s.saved.tempdir;
      ['TMPDIR', 'TEMP', 'TMP'].forEach((k, i) => { if (s.saved.env[i] === undefined) delete process.env[k]; else process.env[k] = s.saved.env[i]; });
    },
  });
}

// ---- a buffered file: write, read, readline, seek, truncate, flush, sync ----
function buffered(dir, pending) {
  const f = t.TemporaryFileSync({ dir, prefix: PREFIX, bufsize: 4096 });
  f.writeSync(OLD);
  f.flushSync();
  f.seekSync(3000);
  if (pending) f.writeSync(pending);  // stays in the buffer (smaller than bufsize)
  return { f, dir };
}
const SMALL = Buffer.alloc(1000, 'p');
const afterFailure = (oldBuf, newBuf, at) => (s, r) => {
  const p = [];
  if (!r.ok) truthful(s.f, oldBuf, newBuf, at, p);
  return p;
};
const withPending = OLD.subarray(0, 3000);
pair('write', {
  setup: (dir) => buffered(dir),
  sync: (s) => s.f.writeSync(NEW), async: (s) => s.f.write(NEW),
  verify: (s, r) => {
    if (!r.ok) return afterFailure(OLD, NEW, 3000)(s, r);
    const want = Buffer.concat([OLD.subarray(0, 3000), NEW]);
    return r.value === NEW.length && eq(bytes(s.f), want) && s.f.tellSync() === want.length ? [] : ['wrong contents or position after write'];
  },
  teardown: (s) => s.f.closeSync(),
});
for (const [name, sync, async, want] of [
  ['flush', (s) => s.f.flushSync(), (s) => s.f.flush()],
  ['sync', (s) => s.f.syncSync(), (s) => s.f.sync()],
  ['seek', (s) => s.f.seekSync(0), (s) => s.f.seek(0)],
]) {
  pair(name, {
    setup: (dir) => buffered(dir, SMALL),
    sync, async,
    verify: (s, r) => {
      if (!r.ok) return afterFailure(OLD, SMALL, 3000)(s, r);
      const wantBytes = Buffer.concat([OLD.subarray(0, 3000), SMALL, OLD.subarray(4000)]);
      return eq(fs.readFileSync(`/proc/self/fd/${s.f.fd}`), wantBytes) ? [] : ['data not on disk after ' + name];
    },
    teardown: (s) => s.f.closeSync(),
  });
}
pair('truncate', {
  setup: (dir) => buffered(dir, SMALL),
  sync: (s) => s.f.truncateSync(2000), async: (s) => s.f.truncate(2000),
  verify: (s, r) => {
    if (!r.ok) return afterFailure(OLD, SMALL, 3000)(s, r);
    const st = fs.fstatSync(s.f.fd);
    return st.size === 2000 && s.f.tellSync() === 4000 ? [] : [`size ${st.size} tell ${s.f.tellSync()} after truncate`];
  },
  teardown: (s) => s.f.closeSync(),
});
pair('read', {
  setup: (dir) => { const s = buffered(dir); s.f.seekSync(0); return s; },
  sync: (s) => s.f.readSync(9000), async: (s) => s.f.read(9000),
  verify: (s, r) => {
    const p = [];
    if (r.ok) { if (!eq(r.value, OLD.subarray(0, 9000)) || s.f.tellSync() !== 9000) p.push('wrong data or position after read'); return p; }
    const pos = s.f.tellSync();
    const rest = s.f.readSync(-1);
    if (!eq(rest, OLD.subarray(pos))) p.push(`tell() ${pos} does not match what read() returns next`);
    return p;
  },
  teardown: (s) => s.f.closeSync(),
});
pair('readline', {
  setup: (dir) => { const f = t.TemporaryFileSync({ dir, prefix: PREFIX, mode: 'w+', bufsize: 4096 }); f.writeSync(LINES.toString()); f.seekSync(0); f.readlineSync(); f.readlineSync(); return { f }; },
  sync: (s) => [s.f.readlineSync(), ...Array.from({ length: 300 }, () => s.f.readlineSync())], async: async (s) => { const out = [await s.f.readline()]; for (let i = 0; i < 300; i++) out.push(await s.f.readline()); return out; },
  verify: (s, r) => {
    const all = LINES.toString().split(/(?<=\n)/);
    if (r.ok) return r.value.join('') === all.slice(2, 303).join('') ? [] : ['wrong lines'];
    const pos = s.f.tellSync();
    s.f.seekSync(pos);
    const rest = s.f.readSync(-1);
    return LINES.toString().endsWith(rest) && all.slice(0).join('').length >= rest.length && rest.length > 0 && (rest === LINES.toString().slice(LINES.length - Buffer.byteLength(rest))) ? [] : [`tell() ${pos} does not match what read() returns next`];
  },
  teardown: (s) => s.f.closeSync(),
});

pair('readinto', {
  setup: (dir) => { const s = buffered(dir); s.f.seekSync(0); s.buf = Buffer.alloc(9000); return s; },
  sync: (s) => s.f.readintoSync(s.buf), async: (s) => s.f.readinto(s.buf),
  verify: (s, r) => {
    if (r.ok) return r.value === 9000 && eq(s.buf, OLD.subarray(0, 9000)) && s.f.tellSync() === 9000 ? [] : ['wrong data or position after readinto'];
    const pos = s.f.tellSync();
    return eq(s.f.readSync(-1), OLD.subarray(pos)) ? [] : [`tell() ${pos} does not match what read() returns next`];
  },
  teardown: (s) => s.f.closeSync(),
});

// ---- a directory's dispose (cleanup through Symbol.dispose / asyncDispose) ----
pair('directory dispose', {
  setup: (dir) => {
    const d = t.TemporaryDirectorySync({ dir, prefix: PREFIX });
    fs.mkdirSync(path.join(d.path, 'a'));
    fs.writeFileSync(path.join(d.path, 'a', 'f'), 'x');
    return { d };
  },
  sync: (s) => s.d[Symbol.dispose](), async: (s) => s.d[Symbol.asyncDispose](),
  verify: (s, r) => (r.ok && fs.existsSync(s.d.path) ? ['directory left after dispose'] : []),
  teardown: (s) => fs.rmSync(s.d.path, { recursive: true, force: true }),
});

// ---- streams on a file (async only: they are streams) ----
ops.push({
  name: 'write stream (async)',
  setup: (dir) => buffered(dir),
  run: (s) => new Promise((res, rej) => {
    const ws = s.f.createWriteStream();
    ws.on('error', rej);
    ws.write(NEW.subarray(0, 9000));
    ws.end(NEW.subarray(9000), (err) => (err ? rej(err) : res()));
  }),
  verify: (s, r) => {
    const want = Buffer.concat([OLD.subarray(0, 3000), NEW]);
    const got = fs.readFileSync(`/proc/self/fd/${s.f.fd}`);
    if (r.ok) return eq(got, want) ? [] : ['wrong contents after the stream finished'];
    return got.length >= OLD.length && got.every((b, i) => b === OLD[i] || b === want[i]) ? [] : ['bytes neither old nor the stream\'s'];
  },
  teardown: (s) => s.f.closeSync(),
});
ops.push({
  name: 'read stream (async)',
  setup: (dir) => buffered(dir),
  run: (s) => new Promise((res, rej) => {
    const chunks = [];
    const rs = s.f.createReadStream({ start: 0, highWaterMark: 4096 });
    rs.on('error', rej);
    rs.on('data', (c) => chunks.push(c));
    rs.on('end', () => res(Buffer.concat(chunks)));
  }),
  verify: (s, r) => (r.ok && !eq(r.value, OLD) ? ['read stream gave other data'] : []),
  teardown: (s) => s.f.closeSync(),
});

// ---- close and dispose (a named file with buffered data), named-file deletion ----
for (const [name, sync, async, pending] of [
  ['close', (s) => s.f.closeSync(), (s) => s.f.close(), true],
  ['dispose', (s) => s.f[Symbol.dispose](), (s) => s.f[Symbol.asyncDispose](), true],
  ['named-file deletion', (s) => s.f.closeSync(), (s) => s.f.close(), false],
]) {
  pair(name, {
    setup: (dir) => { const f = t.NamedTemporaryFileSync({ dir, prefix: PREFIX, bufsize: 4096 }); f.writeSync(OLD); f.flushSync(); if (pending) f.writeSync(SMALL); return { f }; },
    sync, async,
    verify: (s, r) => {
      const p = [];
      if (!s.f.closed) p.push('still open after close()');
      if (r.ok && fs.existsSync(s.f.path)) p.push('named file left after close()');
      try { s.f.closeSync(); } catch (e) { p.push(`second close() threw ${e.code}`); }
      return p;
    },
    teardown: () => {},
  });
}

// ---- rollover ----
pair('rollover', {
  setup: (dir) => { const f = t.SpooledTemporaryFile({ dir, prefix: PREFIX }); f.writeSync(NEW); f.seekSync(5); return { f }; },
  sync: (s) => s.f.rolloverSync(), async: (s) => s.f.rollover(),
  verify: (s, r) => {
    const p = [];
    try {
      if (s.f.tellSync() !== 5) p.push(`position ${s.f.tellSync()} after rollover`);
      s.f.seekSync(0);
      if (!eq(s.f.readSync(-1), NEW)) p.push('data lost by rollover');
      if (r.ok && !s.f.rolledOver) p.push('not rolled over');
    } catch (e) { p.push(`unusable after rollover: ${e.code} ${e.message}`); }
    return p;
  },
  teardown: (s) => s.f.closeSync(),
});

pair('rollover fallback', {
  setup: (dir) => { internals.forceNoTmpfile = true; const f = t.SpooledTemporaryFile({ dir, prefix: PREFIX }); f.writeSync(NEW); f.seekSync(5); return { f }; },
  sync: (s) => s.f.rolloverSync(), async: (s) => s.f.rollover(),
  verify: (s, r) => ops.find((o) => o.name === 'rollover (sync)').verify(s, r),
  teardown: (s) => { internals.forceNoTmpfile = false; s.f.closeSync(); },
});

// ---- directory cleanup of a small tree ----
pair('directory cleanup', {
  setup: (dir) => {
    const d = t.TemporaryDirectorySync({ dir, prefix: PREFIX });
    fs.mkdirSync(path.join(d.path, 'a', 'b'), { recursive: true });
    for (const f of ['f1', 'a/f2', 'a/b/f3', 'a/b/f4']) fs.writeFileSync(path.join(d.path, f), 'x');
    fs.symlinkSync('/', path.join(d.path, 'a', 'root-link'));
    return { d };
  },
  sync: (s) => s.d.cleanupSync(), async: (s) => s.d.cleanup(),
  verify: (s, r) => (r.ok && fs.existsSync(s.d.path) ? ['directory left after cleanup'] : []),
  teardown: (s) => fs.rmSync(s.d.path, { recursive: true, force: true }),
});

// ---- persist, reopen ----
const contentIs = (file, ...wants) => { let b; try { b = fs.readFileSync(file); } catch { b = undefined; } return wants.some((w) => (w === undefined ? b === undefined : b !== undefined && eq(b, w))); };
for (const [name, make, opts, targetOld] of [
  ['persist overwrite', 'named', {}, OLD],
  ['persist no overwrite', 'named', { overwrite: false }, undefined],
  // an unnamed file gets a name only on Linux (O_TMPFILE + linkat); the portable build says ENOTSUP
  ...(internals.portableBuild ? [] : [['persist unnamed', 'unnamed', {}, OLD]]),
]) {
  pair(name, {
    setup: (dir) => {
      const f = make === 'named' ? t.NamedTemporaryFileSync({ dir, prefix: PREFIX }) : t.TemporaryFileSync({ dir, prefix: PREFIX });
      f.writeSync(NEW);
      const target = path.join(dir, 'target');
      if (targetOld) fs.writeFileSync(target, targetOld);
      return { f, target };
    },
    sync: (s) => s.f.persistSync(s.target, opts), async: (s) => s.f.persist(s.target, opts),
    verify: (s, r) => {
      const p = [];
      if (r.ok ? !contentIs(s.target, NEW) : !contentIs(s.target, targetOld, NEW)) p.push('target neither whole old nor whole new');
      return p;
    },
    teardown: (s) => s.f.closeSync(),
  });
}
pair('reopen', {
  setup: (dir) => { const f = t.NamedTemporaryFileSync({ dir, prefix: PREFIX }); f.writeSync(NEW); f.flushSync(); return { f }; },
  sync: (s) => s.f.reopenSync(), async: (s) => s.f.reopen(),
  verify: (s, r) => (r.ok && !eq(r.value.readSync(-1), NEW) ? ['reopened file reads other data'] : []),
  teardown: (s, r) => { if (r.ok) r.value.closeSync(); s.f.closeSync(); },
});

// ---- writeFileAtomic ----
for (const fsync of [true, false]) {
  for (const streamed of [false, true]) {
    const data = () => (streamed ? [NEW.subarray(0, 7000), NEW.subarray(7000, 14000), NEW.subarray(14000)] : NEW);
    pair(`writeFileAtomic ${streamed ? 'streamed' : 'whole'}${fsync ? '' : ' no-fsync'}`, {
      setup: (dir) => { const target = path.join(dir, 'target'); fs.writeFileSync(target, OLD, { mode: 0o640 }); return { target }; },
      sync: (s) => t.writeFileAtomicSync(s.target, streamed ? data()[Symbol.iterator]() : data(), { fsync }),
      async: (s) => t.writeFileAtomic(s.target, streamed ? (async function* () { yield* data(); })() : data(), { fsync }),
      verify: (s, r) => {
        const p = [];
        if (r.ok ? !contentIs(s.target, NEW) : !contentIs(s.target, OLD, NEW)) p.push('target neither whole old nor whole new');
        if ((fs.statSync(s.target).mode & 0o777) !== 0o640) p.push('target mode changed');
        return p;
      },
      teardown: () => {},
    });
  }
}

// the fallback (a named temp file, O_EXCL, then link or rename), as without O_TMPFILE
for (const streamed of [false, true]) {
  const data = () => (streamed ? [NEW.subarray(0, 7000), NEW.subarray(7000, 14000), NEW.subarray(14000)] : NEW);
  pair(`writeFileAtomic ${streamed ? 'streamed' : 'whole'} fallback`, {
    setup: (dir) => { internals.forceNoTmpfile = true; const target = path.join(dir, 'target'); fs.writeFileSync(target, OLD, { mode: 0o640 }); return { target }; },
    sync: (s) => t.writeFileAtomicSync(s.target, streamed ? data()[Symbol.iterator]() : data()),
    async: (s) => t.writeFileAtomic(s.target, streamed ? (async function* () { yield* data(); })() : data()),
    verify: (s, r) => (r.ok ? !contentIs(s.target, NEW) : !contentIs(s.target, OLD, NEW)) ? ['target neither whole old nor whole new'] : [],
    teardown: () => { internals.forceNoTmpfile = false; },
  });
}
// a target that does not exist yet: after a failure there is still none
pair('writeFileAtomic new target', {
  setup: (dir) => ({ target: path.join(dir, 'target') }),
  sync: (s) => t.writeFileAtomicSync(s.target, NEW), async: (s) => t.writeFileAtomic(s.target, NEW),
  verify: (s, r) => (r.ok ? !contentIs(s.target, NEW) : !contentIs(s.target, undefined, NEW)) ? ['target neither absent nor whole new'] : [],
  teardown: () => {},
});
// reopen by path, then device and inode, as off Linux
pair('reopen by path', {
  setup: (dir) => { internals.forceReopenByPath = true; const f = t.NamedTemporaryFileSync({ dir, prefix: PREFIX }); f.writeSync(NEW); f.flushSync(); return { f }; },
  sync: (s) => s.f.reopenSync(), async: (s) => s.f.reopen(),
  verify: (s, r) => (r.ok && !eq(r.value.readSync(-1), NEW) ? ['reopened file reads other data'] : []),
  teardown: (s, r) => { internals.forceReopenByPath = false; if (r.ok) r.value.closeSync(); s.f.closeSync(); },
});
// a spooled file rolled over by a write past maxSize
pair('spooled write past maxSize', {
  setup: (dir) => { const f = t.SpooledTemporaryFile({ dir, prefix: PREFIX, maxSize: 8000 }); f.writeSync(OLD.subarray(0, 5000)); return { f }; },
  sync: (s) => s.f.writeSync(NEW), async: (s) => s.f.write(NEW),
  verify: (s, r) => {
    const p = [];
    try {
      const pos = s.f.tellSync();
      s.f.seekSync(0);
      const all = s.f.readSync(-1);
      if (r.ok && (!eq(all, Buffer.concat([OLD.subarray(0, 5000), NEW])) || pos !== 25000)) p.push('wrong contents or position after the write');
      if (!r.ok) {
        if (!eq(all.subarray(0, 5000), OLD.subarray(0, 5000))) p.push('data before the failed write lost');
        if (pos !== all.length) p.push(`tell() ${pos} but ${all.length} bytes`);
        if (!eq(all.subarray(5000), NEW.subarray(0, all.length - 5000))) p.push('bytes past the old data are not the new data');
      }
    } catch (e) { p.push(`unusable after the failure: ${e.code} ${e.message}`); }
    return p;
  },
  teardown: (s) => s.f.closeSync(),
});

// ---- issue 15: memory-only files, sealing, a write capped by maxBytes ----
// memfd_create on Linux (not in the portable build, where memory: true is refused)
if (!internals.portableBuild) {
  create('TemporaryFile memory', () => t.TemporaryFileSync({ memory: true }), async () => t.TemporaryFile({ memory: true }),
    (f) => [...fileCheck(f), ...(f.memory ? [] : ['not a memory file']), ...(fs.fstatSync(f.fd).nlink === 0 ? [] : ['has a link'])],
    { dispose: (f) => f.closeSync() });
  // buffered bytes flushed, then F_ADD_SEALS: on failure nothing is sealed and the file works on
  pair('seal', {
    setup: () => { const f = t.TemporaryFileSync({ memory: true, bufsize: 4096 }); f.writeSync(OLD); f.flushSync(); f.seekSync(3000); f.writeSync(SMALL); return { f }; },
    sync: (s) => s.f.sealSync(), async: (s) => s.f.seal(),
    verify: (s, r) => {
      const p = [];
      if (!r.ok) {
        if (s.f.sealed) p.push('sealed after a failed seal()');
        truthful(s.f, OLD, SMALL, 3000, p);
        return p;
      }
      if (!s.f.sealed) p.push('not sealed after seal()');
      const want = Buffer.concat([OLD.subarray(0, 3000), SMALL, OLD.subarray(4000)]);
      if (!eq(fs.readFileSync(`/proc/self/fd/${s.f.fd}`), want)) p.push('buffered bytes not written before the seal');
      try { s.f.writeSync(Buffer.from('X')); p.push('writable after seal()'); } catch (e) { if (e.code !== 'EPERM') p.push(`write after seal: ${e.code}`); }
      return p;
    },
    teardown: (s) => s.f.closeSync(),
  });
}
// a buffered write that lands exactly on maxBytes: allowed, and a failure leaves the file truthful
pair('capped write', {
  setup: (dir) => { const f = t.TemporaryFileSync({ dir, prefix: PREFIX, bufsize: 4096, maxBytes: 3000 + NEW.length }); f.writeSync(OLD); f.flushSync(); f.seekSync(3000); return { f, dir }; },
  sync: (s) => s.f.writeSync(NEW), async: (s) => s.f.write(NEW),
  verify: (s, r) => {
    if (!r.ok) return afterFailure(OLD, NEW, 3000)(s, r);
    const want = Buffer.concat([OLD.subarray(0, 3000), NEW]);
    const p = r.value === NEW.length && eq(bytes(s.f), want) ? [] : ['wrong contents after a write onto the cap'];
    try { s.f.writeSync(Buffer.from('X')); p.push('a write past the cap succeeded'); } catch (e) { if (e.code !== 'EFBIG') p.push(`past the cap: ${e.code}`); }
    return p;
  },
  teardown: (s) => s.f.closeSync(),
});

module.exports = { ops, PREFIX };
