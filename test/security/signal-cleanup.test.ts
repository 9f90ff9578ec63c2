// cleanupOnSignals() must clean up only when the signal is going to end the process. An
// application with its own listener (SIGHUP to reload, SIGTERM to drain) survives the signal:
// removing its temp directory and named files then would free names it still uses, another
// user could plant a link at one, and the application's next write would follow it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from '../_helpers';

const FIXTURE = path.join(ROOT, 'test/security/fixtures/signal-app.cjs');
const posix = process.platform !== 'win32';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

interface Event {
  event: string;
  dir?: string;
  named?: string;
}

/** The fixture, with a queue of the JSON lines it prints. */
function app(dir: string, sig: NodeJS.Signals, how: string) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [FIXTURE, dir, sig, how], { cwd: ROOT });
  const events: Event[] = [];
  let buf = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      events.push(JSON.parse(buf.slice(0, nl)) as Event);
      buf = buf.slice(nl + 1);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const closed = new Promise<void>((resolve) =>
    child.on('close', (code, signal) => {
      ended = { code, signal };
      resolve();
    }),
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  void closed.then(() => clearTimeout(timer));
  /** Waits for the next event named `name` (or the end of the process: then fails). */
  async function next(name: string): Promise<Event> {
    for (;;) {
      const i = events.findIndex((e) => e.event === name);
      if (i !== -1) return events.splice(i, 1)[0]!;
      if (ended) throw new Error(`the application ended (${JSON.stringify(ended)}) before '${name}': ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return { child, next, closed, ended: () => ended, stderr: () => stderr };
}

describe.skipIf(!posix)('cleanupOnSignals() with a listener of the application', () => {
  it.each([
    ['on-after', 'SIGHUP'], // a reload listener added after cleanupOnSignals()
    ['on-before', 'SIGHUP'], // ... or before
    ['prepend-on-after', 'SIGHUP'], // put in front of ours
    ['prepend-once-after', 'SIGTERM'], // in front of ours, and gone once it has run
    ['once-after', 'SIGTERM'], // a graceful drain
    ['once-before', 'SIGTERM'], // once, added before ours: gone by the time a later listener runs
  ] as const)('%s (%s): the process survives, so nothing is removed and no freed name can be planted', async (how, sig) => {
    const dir = fs.mkdtempSync(path.join(s.dir, `${how}-`));
    const victim = fs.mkdtempSync(path.join(s.dir, 'victim-'));
    fs.writeFileSync(path.join(victim, 'data'), 'precious');
    fs.writeFileSync(path.join(victim, 'file'), 'precious');
    const a = app(dir, sig, how);
    try {
      const ready = await a.next('ready');
      a.child.kill(sig);
      await a.next('signal'); // the application's listener ran...
      await new Promise((r) => setTimeout(r, 100)); // ...and ours, in the same emit
      expect(a.ended()).toBeUndefined();
      expect(fs.lstatSync(ready.dir!).isDirectory()).toBe(true);
      expect(fs.lstatSync(ready.named!).isFile()).toBe(true);

      // Another user plants links at the names; they are taken, so this fails...
      for (const [name, target] of [
        [ready.dir!, victim],
        [ready.named!, path.join(victim, 'file')],
      ] as const) {
        try {
          fs.symlinkSync(target, name);
        } catch (e) {
          expect((e as NodeJS.ErrnoException).code).toBe('EEXIST');
        }
      }
      // ...and the application's next writes land in its own objects.
      a.child.stdin.write('write\n');
      await a.next('written');
      expect(fs.readFileSync(path.join(victim, 'data'), 'utf8')).toBe('precious');
      expect(fs.readFileSync(path.join(victim, 'file'), 'utf8')).toBe('precious');
      expect(fs.readFileSync(path.join(ready.dir!, 'data'), 'utf8')).toBe('after the signal');

      // The application exits its own way: the 'exit' hook removes everything.
      a.child.stdin.write('exit\n');
      await a.closed;
      expect(a.ended()).toEqual({ code: 0, signal: null });
      expect(a.stderr()).toBe('');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      if (!a.ended()) a.child.kill('SIGKILL');
      await a.closed;
    }
  });

  it.each([
    ['once-after', 'SIGTERM'], // its once listener is used up by the first signal
    ['on-after', 'SIGHUP'], // it removed its listener
  ] as const)('%s: once the application has no listener left, the next %s cleans up and kills', async (how, sig) => {
    const dir = fs.mkdtempSync(path.join(s.dir, `${how}-again-`));
    const a = app(dir, sig, how);
    try {
      const ready = await a.next('ready');
      a.child.kill(sig);
      await a.next('signal');
      if (how === 'on-after') {
        a.child.stdin.write('drop\n');
        await a.next('dropped');
      } else {
        a.child.stdin.write('write\n'); // round trip: the first signal has been handled
        await a.next('written');
      }
      expect(fs.lstatSync(ready.dir!).isDirectory()).toBe(true);
      a.child.kill(sig);
      await a.closed;
      expect(a.ended()).toEqual({ code: null, signal: sig });
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      if (!a.ended()) a.child.kill('SIGKILL');
      await a.closed;
    }
  });

  it('without a listener of its own: cleans up and dies of the signal', async () => {
    const dir = fs.mkdtempSync(path.join(s.dir, 'none-'));
    const a = app(dir, 'SIGTERM', 'none');
    await a.next('ready');
    a.child.kill('SIGTERM');
    await a.closed;
    expect(a.ended()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('signals that do not end the process are refused (outside review, 2026-12-03)', () => {
  // The review's reproducer: cleanupOnSignals(['SIGWINCH']) then a terminal resize removed
  // every directory and named file, the re-raised SIGWINCH was ignored, and the process went
  // on with its names free for anyone to take.
  // The second review: SIGXFSZ (Node ignores it: a write past ulimit -f then ended the
  // process), SIGPROF (a CPU profiler's timer ended it), the synchronous faults (a listener
  // replaces V8's WebAssembly trap handler: an out-of-bounds access hung instead of throwing).
  it.each(['SIGWINCH', 'SIGCHLD', 'SIGCONT', 'SIGURG', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGPIPE', 'SIGUSR1', 'SIGKILL', 'SIGSTOP',
    'SIGXFSZ', 'SIGPROF', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGSYS'])(
    '%s: ERR_INVALID_ARG_VALUE, no handler installed, nothing removed',
    async (sig) => {
      const { cleanupOnSignals } = await import('securetemp');
      const before = process.listenerCount(sig as NodeJS.Signals);
      expect(() => cleanupOnSignals(['SIGTERM', sig as NodeJS.Signals])).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
      );
      expect(process.listenerCount(sig as NodeJS.Signals)).toBe(before);
    },
  );

  it.skipIf(!posix)('SIGWINCH sent to an application that asked for it: refused at the call, the directory stays', async () => {
    const code = `const st = require('./dist/index.js'); const fs = require('fs');
      let refused = null;
      try { st.cleanupOnSignals(['SIGTERM', 'SIGWINCH']); } catch (e) { refused = e.code; }
      const d = st.TemporaryDirectorySync({ dir: process.argv[1] });
      process.kill(process.pid, 'SIGWINCH');
      setTimeout(() => { console.log(JSON.stringify({ refused, exists: fs.existsSync(d.path) })); d.cleanupSync(); }, 200);`;
    const child = spawn(process.execPath, ['-e', code, s.dir], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const status = await new Promise<number | null>((r) => child.on('close', r));
    expect(status).toBe(0);
    expect(JSON.parse(out)).toEqual({ refused: 'ERR_INVALID_ARG_VALUE', exists: true });
  });
});

describe('two copies of securetemp in one process (second outside review, 2026-12-03)', () => {
  // An application and a dependency with its own install: each copy kept its handler first on
  // every new listener, the two moved theirs in front of each other forever (in microtasks),
  // the event loop never ran again, and SIGTERM no longer ended the process.
  it.skipIf(!posix)('both call cleanupOnSignals(): the event loop runs, SIGTERM ends the process, both copies clean up', async () => {
    const code = `const path = require('path'); const fs = require('fs');
      const a = require('./dist/index.js');
      for (const k of Object.keys(require.cache)) if (k.includes(path.join('main', 'dist')) || k.includes('/dist/')) delete require.cache[k];
      const b = require('./dist/index.js');
      if (a === b) throw new Error('one copy');
      a.cleanupOnSignals(); const da = a.TemporaryDirectorySync({ dir: process.argv[1] });
      b.cleanupOnSignals(); const db = b.TemporaryDirectorySync({ dir: process.argv[1] });
      process.once('SIGUSR2', () => {}); // a listener of the application's, on another signal
      setTimeout(() => console.log(JSON.stringify({ timer: true, dirs: [da.path, db.path] })), 100);
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', code, s.dir], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const [code_, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('close', (c, sg) => r([c, sg])));
    clearTimeout(killer);
    expect(err).toBe('');
    expect([code_, signal]).toEqual([null, 'SIGTERM']);
    const { timer, dirs } = JSON.parse(out) as { timer: boolean; dirs: string[] };
    expect(timer).toBe(true);
    for (const d of dirs) expect(fs.existsSync(d)).toBe(false);
  });
});
