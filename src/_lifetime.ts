/// <reference types="node" preserve="true" />
// What must be removed at exit: named files with delete=true and TemporaryDirectory
// objects not yet cleaned up. The exit hook is installed when the first such object
// is registered (no side effects at import).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { addonNow, native } from './_binding';
import { invalidArgValue } from './_errors';
import { isMainThread } from 'node:worker_threads';

/** Why the exit hook runs: the process's (or a worker's) exit, or a signal (cleanupOnSignals). */
export type ExitReason = 'exit' | 'signal';

/** Something to remove; `remove` is synchronous, for process.on('exit'). */
export interface Removable {
  removeAtExit(reason: ExitReason): void;
  /**
   * In a worker thread, instead of removeAtExit: a worker's exit is not the process's, and
   * the rest of the process may still use the path (a worker pool hands paths back): removing
   * it then frees a name for anyone to take. The object is handed to the addon, which removes
   * it when the process exits; descriptors are still closed at the worker's exit.
   */
  handOver?(): void;
}

/** removeAtProcessExit's kinds (native/core.h st_exit_kind). */
export const EXIT_FILE = 0;
export const EXIT_TREE = 1;
export const EXIT_EMPTY_DIR = 2;

const live = new Set<Removable>();
let exitHookInstalled = false;

function cleanupAll(reason: ExitReason): void {
  // A worker hands its named objects over first, before its descriptors are closed (a named
  // file's close would remove it).
  const handOver = !isMainThread;
  for (const r of [...live]) {
    if (!handOver || r.handOver === undefined) continue;
    live.delete(r);
    try {
      r.handOver();
    } catch (e) {
      warnAtExit(e);
    }
  }
  for (const r of [...live]) {
    live.delete(r);
    try {
      r.removeAtExit(reason);
    } catch (e) {
      warnAtExit(e);
    }
  }
}

/** @internal Says that a cleanup at exit failed; `who` names the entry point (securetemp/tmp). */
export function warnAtExit(e: unknown, who = 'securetemp'): void {
  // At exit there is no caller left to throw to: say what was left behind. Written at
  // once: process.emitWarning prints on a later tick, which never comes at exit.
  try {
    fs.writeSync(2, `(node:${process.pid}) CleanupWarning: ${who}: cleanup at exit failed: ${(e as Error).message}\n`);
  } catch {
    // stderr is gone (closed or a broken pipe): there is nowhere left to say it
  }
}

export function track(r: Removable): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => cleanupAll('exit'));
  }
  live.add(r);
}

export function untrack(r: Removable): void {
  live.delete(r);
}

const DEFAULT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/**
 * The signals cleanupOnSignals() accepts: those whose default action ends a Node.js process
 * and that a listener may take. Not the ones ignored by default (SIGCHLD, SIGCONT, SIGURG,
 * SIGWINCH) or by Node (SIGPIPE, SIGXFSZ), the stop signals, SIGUSR1 (Node's inspector),
 * SIGPROF (CPU profilers), the synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL: a listener
 * replaces V8's WebAssembly trap handler and a crash becomes a hang), SIGTRAP, SIGABRT, SIGSYS,
 * SIGKILL and SIGSTOP. SIGBREAK is Windows' Ctrl+Break.
 */
const FATAL = new Set([
  'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGXCPU',
  'SIGPWR', 'SIGIO', 'SIGPOLL', 'SIGSTKFLT', 'SIGLOST', 'SIGBREAK',
]);
const signalHandlers = new Map<NodeJS.Signals, () => void>();
let keepFirstInstalled = false;

/**
 * 'newListener': a listener prepended for one of our signals after ours would run first, and a
 * `once` one would be gone when ours looks; ours is moved back in front right after (a
 * microtask: before any signal can be dispatched). The application's listener stays in place,
 * so the signal is still there for it, and it counts for ours.
 */
function keepFirst(event: string | symbol, listener: unknown): void {
  const sig = event as NodeJS.Signals;
  const h = signalHandlers.get(sig);
  // Another copy of securetemp (a dependency's own install) does the same: its handler is left
  // where it is, or the two would move theirs in front of each other forever (second outside
  // review, 2026-12-03: the event loop never ran again).
  if (h === undefined || listener === h || isOurs(listener)) return;
  queueMicrotask(() => {
    const list = process.listeners(sig);
    if (signalHandlers.get(sig) !== h || list[0] === h || !list.includes(h)) return;
    // Any other library that keeps its listener first the same way: a few moves, not a loop.
    if (moves >= MAX_MOVES) return;
    if (moves++ === 0) setImmediate(() => (moves = 0)).unref();
    process.removeListener(sig, h); // the other listener remains: the signal stays caught
    process.prependListener(sig, h);
  });
}

/** Handlers of every copy of securetemp in the process carry this (a registry symbol). */
const MARK = Symbol.for('securetemp.signalHandler');
const MAX_MOVES = 16;
let moves = 0;

function isOurs(listener: unknown): boolean {
  return typeof listener === 'function' && (listener as unknown as Record<symbol, unknown>)[MARK] === true;
}

/**
 * Opt in to cleaning up on these signals too: the handler removes everything registered,
 * then re-raises the signal with the default action, so the process dies as it would have.
 * Returns a function that removes the handlers again.
 *
 * Only when the signal is really going to end the process: if the application (or another
 * library) listens for it too, the process survives it (SIGHUP to reload, SIGTERM to drain),
 * and removing its directories and named files would free names it still uses, for anyone to
 * plant a link at before its next write. Then the handler does nothing; if the application
 * exits later, the 'exit' hook removes everything as usual. Whether anyone else listens is
 * asked when the signal comes (listeners come and go), and ours is kept first so that a `once`
 * listener, which removes itself before it runs, is still seen (see keepFirst).
 */
export function cleanupOnSignals(signals: readonly NodeJS.Signals[] = DEFAULT_SIGNALS): () => void {
  if (!Array.isArray(signals)) {
    throw Object.assign(new TypeError('The "signals" argument must be an array of signal names'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  }
  const valid = Object.keys(os.constants.signals);
  for (const s of signals) {
    if (typeof s !== 'string' || !valid.includes(s) || !FATAL.has(s)) {
      // describe() never calls the value's own toString: a hostile object gets the TypeError too.
      throw invalidArgValue('signals', s, 'must hold names of signals that end the process by default');
    }
  }
  const mine: NodeJS.Signals[] = [];
  for (const sig of signals) {
    if (signalHandlers.has(sig)) continue;
    const handler = () => {
      // Someone else handles it: the process does not die of it, so nothing is removed.
      // Another copy of securetemp's handler is not someone else: it cleans up its own too.
      if (process.listeners(sig).some((l) => l !== handler && !isOurs(l))) return;
      cleanupAll('signal');
      // What workers handed over: the re-raised signal ends the process without atexit.
      // (A worker may have loaded the addon when this thread never did: loaded here then; if it
      // cannot be loaded, nobody can have handed anything over.)
      try {
        native.removeHandedOverNow();
      } catch {
        // no addon for this platform: nothing was handed over
      }
      for (const [s, h] of signalHandlers) process.removeListener(s, h);
      signalHandlers.clear();
      // No listener left: the signal's default action applies, and the process dies of it.
      process.kill(process.pid, sig);
    };
    Object.defineProperty(handler, MARK, { value: true });
    signalHandlers.set(sig, handler);
    process.prependListener(sig, handler);
    if (!keepFirstInstalled) {
      keepFirstInstalled = true;
      process.on('newListener', keepFirst);
    }
    mine.push(sig);
  }
  return () => {
    for (const sig of mine) {
      const h = signalHandlers.get(sig);
      if (h) process.removeListener(sig, h);
      signalHandlers.delete(sig);
    }
  };
}

/** A directory handle held in the addon's table (0: none, the platform has no table) and a name in it. */
export interface DirRef {
  handle: number;
  name: string;
}

/** Gives back the object's reference to its directory handle (once). */
export function releaseDir(s: { dir: DirRef | null }): void {
  const d = s.dir;
  s.dir = null;
  if (d !== null && d.handle !== 0) addonNow().dirRelease(d.handle);
}

/** Unlinks `path` if it is still the file `fd` refers to / was (dev+ino), so a replacement is left alone. */
export function unlinkIfSame(path: string, dev: number, ino: number): void {
  // Any failure but ENOENT is reported: taken for "already gone", it left the file in place
  // while close() said all was well (test/faults: lstat failing with EIO or EACCES).
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return; // already gone
  if (st.dev !== dev || st.ino !== ino) return; // not ours any more
  try {
    fs.unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export function removeTreeSync(path: string): void {
  native.removeTreeSync(path);
}

export function removeTree(path: string): Promise<void> {
  return native.removeTree(path);
}
