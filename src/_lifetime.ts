// What must be removed at exit: named files with delete=true and TemporaryDirectory
// objects not yet cleaned up. The exit hook is installed when the first such object
// is registered (no side effects at import).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { native } from './_binding';

/** Something to remove; `remove` is synchronous, for process.on('exit'). */
export interface Removable {
  removeAtExit(): void;
}

const live = new Set<Removable>();
let exitHookInstalled = false;

function cleanupAll(): void {
  for (const r of [...live]) {
    live.delete(r);
    try {
      r.removeAtExit();
    } catch (e) {
      // At exit there is no caller left to throw to: say what was left behind. Written at
      // once: process.emitWarning prints on a later tick, which never comes at exit.
      try {
        fs.writeSync(2, `(node:${process.pid}) CleanupWarning: securetemp: cleanup at exit failed: ${(e as Error).message}\n`);
      } catch {
        // stderr is gone (closed or a broken pipe): there is nowhere left to say it
      }
    }
  }
}

export function track(r: Removable): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', cleanupAll);
  }
  live.add(r);
}

export function untrack(r: Removable): void {
  live.delete(r);
}

const DEFAULT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const signalHandlers = new Map<NodeJS.Signals, () => void>();

/**
 * Opt in to cleaning up on these signals too: the handler removes everything registered,
 * then re-raises the signal with the default action, so the process dies as it would have.
 * Returns a function that removes the handlers again.
 */
export function cleanupOnSignals(signals: readonly NodeJS.Signals[] = DEFAULT_SIGNALS): () => void {
  if (!Array.isArray(signals)) {
    throw Object.assign(new TypeError('The "signals" argument must be an array of signal names'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  }
  const valid = Object.keys(os.constants.signals);
  for (const s of signals) {
    if (typeof s !== 'string' || !valid.includes(s) || s === 'SIGKILL' || s === 'SIGSTOP') {
      throw Object.assign(new TypeError(`The "signals" argument has an invalid signal: ${String(s)}`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
  }
  const mine: NodeJS.Signals[] = [];
  for (const sig of signals) {
    if (signalHandlers.has(sig)) continue;
    const handler = () => {
      cleanupAll();
      for (const [s, h] of signalHandlers) process.removeListener(s, h);
      signalHandlers.clear();
      // With no listener left, the signal's default action applies: the process dies of it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    signalHandlers.set(sig, handler);
    process.on(sig, handler);
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

/** Unlinks `path` if it is still the file `fd` refers to / was (dev+ino), so a replacement is left alone. */
export function unlinkIfSame(path: string, dev: number, ino: number): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(path, { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
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
