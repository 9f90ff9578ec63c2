// Attack class: a descriptor closed while something still uses it. The kernel gives the next
// open() in the process the lowest free number, so a number closed under a stream or under an
// async operation's pending system call is soon another file: a log, a key, a socket. The
// stream or the operation then reads, writes, truncates or names that file instead.
// Findings 5 (garbage collection under a stream) and 8 (a worker's exit hook under an async
// operation). Each runs in a child process, where a stray close cannot hit the test runner.
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ls, runNode, scratch } from '../_helpers';
import { isLinux, portable, requireStrace } from './_security';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

const STREAM_GC = 'test/security/fixtures/stream-gc.cjs';
const WORKER_EXIT = 'test/security/fixtures/worker-exit-race.cjs';
const DELAY_US = 300_000; // how long strace holds the system call at its entry

/** `node args…` in the repo root, under strace holding `syscall` when given; its JSON line. */
function run(args: string[], syscall?: string) {
  const cmd = syscall
    ? [requireStrace(), ['-f', '-qq', '-o', '/dev/null', '-e', `trace=${syscall}`, '-e', `inject=${syscall}:delay_enter=${DELAY_US}`, process.execPath, ...args]]
    : [process.execPath, args];
  const r = spawnSync(cmd[0] as string, cmd[1] as string[], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout.trim().split('\n').pop()!), stderr: r.stderr };
}

describe.runIf(isLinux)('finding 5: a stream keeps its file open while it runs', () => {
  // The stream is all the program keeps (TemporaryFileSync().createReadStream().pipe(res)):
  // the collector runs many times while it waits, then other files are opened.
  it('createReadStream of a dropped TempFile delivers only that file, to the end, with no error', () => {
    const { out, stderr } = run(['--expose-gc', STREAM_GC, 'read', s.dir]);
    expect(out.warnedBeforeEnd, 'the file was collected under its stream').toBe(0);
    expect(out.reused, 'the stream\'s number was given to another open()').toBe(false);
    expect(out.onlyOurs, 'the stream delivered another file\'s bytes').toBe(true);
    expect(out.bytes).toBe(16 * 16384);
    expect(out.error).toBe(null);
    expect(out.hit).toEqual([]);
    // and nothing leaks: once the stream is gone, the file is collected, closed, and says so
    expect(out.closedAfter).toBe(true);
    expect(out.warned).toBe(1);
    expect(stderr).toMatch(/ResourceWarning: unclosed TempFile/);
  });

  it('createWriteStream of a dropped TempFile writes only into that file', () => {
    const { out } = run(['--expose-gc', STREAM_GC, 'write', s.dir]);
    expect(out.warnedBeforeEnd, 'the file was collected under its stream').toBe(0);
    expect(out.hit, 'the stream wrote into files opened later').toEqual([]);
    expect(out.reused).toBe(false);
    expect(out.bytes).toBe(16 * 16384);
    expect(out.onlyOurs).toBe(true);
    expect(out.error).toBe(null);
    expect(out.closedAfter).toBe(true);
  });

  it('closeSync() while a stream\'s read is in flight: the read finishes on this file, the stream then fails cleanly', () => {
    const { out } = run(['--expose-gc', STREAM_GC, 'close-read', s.dir], 'pread64');
    expect(out.reused, 'the number was closed while the read still had to use it').toBe(false);
    expect(out.onlyOurs, 'the read delivered another file\'s bytes').toBe(true);
    expect(out.bytes).toBeLessThan(16 * 16384); // the stream stops at close, not at the end
    expect(out.error).toBe('ERR_FILE_CLOSED');
    expect(out.closedAfter).toBe(true);
  });

  it('leaves nothing in its directory', () => {
    expect(ls(s.dir)).toEqual([]);
  });
});

// A worker's exit hook closes what it left open. An async operation whose system call is still
// to run (strace holds it; on a loaded machine the thread pool does) then runs on whatever the
// main thread opened meanwhile: the worker's data in the main thread's 0644 log, a truncate of
// the log, a persist that names the log.
describe.runIf(isLinux)('finding 8: a worker that exits during an async operation', () => {
  const CASES: [string, string][] = [
    ['write', 'pwrite64'],
    ['truncate', 'ftruncate'],
    ...(portable ? [] : ([['persist', 'linkat']] as [string, string][])), // the portable build cannot link an unnamed file
  ];
  for (const [op, syscall] of CASES) {
    it(`${op}: the operation's ${syscall} reaches none of the main thread's files (3 rounds)`, () => {
      const { out } = run([WORKER_EXIT, op, s.dir, '3'], syscall);
      expect(out.rounds).toHaveLength(3);
      for (const r of out.rounds) {
        expect(r.hit, `${op} reached the main thread's files`).toEqual([]);
        expect(r.reused, 'the worker\'s number was closed while its operation was in flight').toBe(false);
      }
      expect(ls(s.dir)).toEqual([]);
    });
  }

  it('a native async call in flight when a worker exits does not abort the whole process', () => {
    // node-addon-api aborted (FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw) when the
    // call completed into the worker's torn-down environment: any thread could kill the process.
    const dir = path.join(s.dir, 'native');
    const r = runNode(
      `const { Worker } = require('worker_threads');
       require('fs').mkdirSync(${JSON.stringify(dir)});
       let exits = 0;
       for (let i = 0; i < 5; i++) {
         const w = new Worker(\`
           const t = require('securetemp');
           t.mkstemp({ dir: ${JSON.stringify(dir)} }).catch(() => {});
           t.TemporaryFile({ dir: ${JSON.stringify(dir)} }).catch(() => {});
           setImmediate(() => process.exit(0));\`, { eval: true });
         w.on('exit', () => { if (++exits === 5) console.log('alive'); });
       }`,
    );
    expect(r.stderr).not.toMatch(/FATAL ERROR/);
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('alive\n');
  });
});
