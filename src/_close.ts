// Closing a descriptor the addon opened. In a worker thread Node tracks the descriptors that
// thread's fs opened and warns ("File descriptor N closed but not opened in unmanaged mode")
// when its fs closes any other, so there the addon closes it (libuv's close, as fs would).
// Only for the addon's descriptors: one fs opened must be closed by fs, or the worker would
// still count it as its own and close that number again when it exits.
import * as fs from 'node:fs';
import { native } from './_binding';

// node:worker_threads loaded at the first close, not with the package (the command line never
// closes one of these)
let mainThread: boolean | undefined;
function isMainThread(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (mainThread ??= (require('node:worker_threads') as typeof import('node:worker_threads')).isMainThread);
}

export function closeNativeFdSync(fd: number): void {
  if (isMainThread()) fs.closeSync(fd);
  else native.closeSync(fd);
}

/** The callback form; in a worker the close itself is synchronous (close(2) does not wait for I/O). */
export function closeNativeFd(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
  if (isMainThread()) return fs.close(fd, cb);
  let err: NodeJS.ErrnoException | null = null;
  try {
    native.closeSync(fd);
  } catch (e) {
    err = e as NodeJS.ErrnoException;
  }
  process.nextTick(cb, err);
}

export function closeNativeFdAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => closeNativeFd(fd, (err) => (err ? reject(err) : resolve())));
}
