// Observability (issue 15): what securetemp creates and removes, published on
// node:diagnostics_channel (the convention undici and fastify follow), and cheap counters for
// stats(). With no subscriber a publish costs one hasSubscribers read: no message is built.
// Every creator and every removal path calls the small functions below, so a new kind of object
// (a memory file) needs only a kind name and two calls.
import * as dc from 'node:diagnostics_channel';

/** The objects securetemp removes itself (close, dispose, cleanup, gc, exit, signal). */
export type TrackedKind = 'TemporaryFile' | 'NamedTemporaryFile' | 'SpooledTemporaryFile' | 'TemporaryDirectory';
/** Every kind a `securetemp:create` message names: mkstemp and mkdtemp hand what they make to the caller. */
export type TempKind = TrackedKind | 'mkstemp' | 'mkdtemp';
/** Why an object went: close()/closeSync(), a `using` block, cleanup(), the garbage collector, the process's (or a worker's) exit, a signal (cleanupOnSignals). */
export type RemoveReason = 'close' | 'dispose' | 'cleanup' | 'gc' | 'exit' | 'signal';

/** `securetemp:create`: an object was made. */
export interface CreateMessage {
  /** What was made. */
  kind: TempKind;
  /** The path, or null for a file that has none (unnamed, or in memory). */
  path: string | null;
  /** The descriptor, or null where there is none (a directory, a spooled file still in memory). */
  fd: number | null;
}

/** `securetemp:remove`: an object is gone (closed, removed), and why. */
export interface RemoveMessage {
  /** What was removed. */
  kind: TrackedKind;
  /** Its path, or null (an unnamed or memory file). */
  path: string | null;
  /** The descriptor it had (now closed), or null (a directory, a file that never left memory). */
  fd: number | null;
  /** Why it went. */
  reason: RemoveReason;
}

/** `securetemp:leak`: the garbage collector or the exit hook removed what the code never closed or cleaned up. */
export interface LeakMessage {
  /** What was left for securetemp to remove. */
  kind: TrackedKind;
  /** Its path, or null (an unnamed or memory file). */
  path: string | null;
  /** The descriptor it had, or null (a directory, a file that never left memory). */
  fd: number | null;
  /** Who removed it: the garbage collector or the exit hook. */
  reason: 'gc' | 'exit';
}

/** `securetemp:cleanup-error`: a removal failed (also one that ignoreCleanupErrors hides, or one at exit or in a finalizer). */
export interface CleanupErrorMessage {
  /** What could not be removed. */
  kind: TrackedKind;
  /** Its path, or null (an unnamed or memory file). */
  path: string | null;
  /** The descriptor it had, or null (a directory, a file that never left memory). */
  fd: number | null;
  /** Which removal failed. */
  reason: RemoveReason;
  /** What the removal threw (an fs-style error). */
  error: unknown;
}

/** What stats() returns: a snapshot of counters kept since the package was loaded (this copy of it). */
export interface Stats {
  /** Objects made and not yet removed, per kind. */
  live: Record<TrackedKind, number>;
  /** Totals over the tracked kinds: created - removed is the sum of `live`. */
  created: number;
  /** Objects removed (closed, cleaned up, or by the garbage collector or exit). */
  removed: number;
  /** Of the removed, those the garbage collector or exit removed (a `securetemp:leak` each). */
  leaked: number;
}

export const createChannel = dc.channel('securetemp:create');
export const removeChannel = dc.channel('securetemp:remove');
export const leakChannel = dc.channel('securetemp:leak');
export const cleanupErrorChannel = dc.channel('securetemp:cleanup-error');

const live: Record<TrackedKind, number> = { TemporaryFile: 0, NamedTemporaryFile: 0, SpooledTemporaryFile: 0, TemporaryDirectory: 0 };
let created = 0;
let removed = 0;
let leaked = 0;

const fdOrNull = (fd: number): number | null => (fd >= 0 ? fd : null);

/** A tracked object was made (fd -1: none). */
export function publishCreate(kind: TrackedKind, path: string | null, fd: number): void {
  live[kind]++;
  created++;
  if (createChannel.hasSubscribers) createChannel.publish({ kind, path, fd: fdOrNull(fd) } satisfies CreateMessage);
}

/** mkstemp/mkdtemp made something the caller owns: published, not counted (nothing removes it for them). */
export function publishUntracked(kind: 'mkstemp' | 'mkdtemp', path: string, fd: number): void {
  if (createChannel.hasSubscribers) createChannel.publish({ kind, path, fd: fdOrNull(fd) } satisfies CreateMessage);
}

/** A tracked object is gone (call once per object); `gc` and `exit` also count and publish a leak. */
export function publishRemove(kind: TrackedKind, path: string | null, fd: number, reason: RemoveReason): void {
  live[kind]--;
  removed++;
  if (reason === 'gc' || reason === 'exit') {
    leaked++;
    if (leakChannel.hasSubscribers) leakChannel.publish({ kind, path, fd: fdOrNull(fd), reason } satisfies LeakMessage);
  }
  if (removeChannel.hasSubscribers) removeChannel.publish({ kind, path, fd: fdOrNull(fd), reason } satisfies RemoveMessage);
}

/** A removal failed (thrown to the caller or not). */
export function publishCleanupError(kind: TrackedKind, path: string | null, fd: number, reason: RemoveReason, error: unknown): void {
  if (cleanupErrorChannel.hasSubscribers)
    cleanupErrorChannel.publish({ kind, path, fd: fdOrNull(fd), reason, error } satisfies CleanupErrorMessage);
}

/** The counters, copied. */
export function stats(): Stats {
  return { live: { ...live }, created, removed, leaked };
}
