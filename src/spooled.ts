// SpooledTemporaryFile: a TempFile that keeps its data in memory until it grows past
// maxSize, its descriptor is asked for, or rollover() is called; then it moves to a
// real TemporaryFile, with position and data as they were, made with the settings in force at
// rollover (tempfile.tempdir, tempfile.template), as Python's TemporaryFile(**args) runs then.
import * as fs from 'node:fs';
import { native, KIND_UNNAMED } from './_binding';
import { checkOptionsObject, resolveNameOptions } from './_options';
import { fileClosed, invalidArgType, invalidArgValue } from './_errors';
import { fileArgs, nativeArgs, FILE_KEYS, type TemporaryFileOptions } from './create';
import { fdBackend, MemoryBackend, type Spiller } from './_io';
import { TempFile, writeBufferCap, type FileState, type TempFileInit } from './tempfile';
import { closeNativeFd, closeNativeFdSync } from './_close';

export interface SpooledTemporaryFileOptions extends TemporaryFileOptions {
  /** Past this many bytes the data moves to a real file; 0 (default) = only when asked. */
  maxSize?: number;
}

const KEYS = [...FILE_KEYS, 'maxSize'] as const;

/** Links the spiller to the state without a reference to the file object (which must stay collectable). */
interface Spool {
  s: FileState | null;
  rolled: boolean;
}

type UnnamedArgs = ReturnType<typeof nativeArgs<typeof KIND_UNNAMED>>;

function spiller(spool: Spool, mem: MemoryBackend, argsNow: () => UnnamedArgs, cap: number): Spiller {
  const done = (fd: number) => {
    const st = spool.s!;
    if (st.closed) {
      // Closed while the file was being made (a worker's exit hook): the new descriptor is
      // nobody's, and the state must not take a number again after its close.
      closeNativeFdSync(fd);
      throw fileClosed();
    }
    spool.rolled = true;
    st.fd = fd;
    st.io = fdBackend(fd);
    st.spill = null;
    st.cap = cap;
    mem.release(); // on disk now: the memory is given back at once, not when the object goes
  };
  return {
    sync(): void {
      const fd = native.createSync(...argsNow());
      const views = mem.views();
      try {
        let pos = 0;
        for (const data of views) {
          for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off, pos + off);
          pos += data.length;
        }
      } catch (e) {
        closeNativeFdSync(fd);
        throw e;
      } finally {
        mem.unlend();
      }
      done(fd);
    },
    async async(): Promise<void> {
      const fd = await native.create(...argsNow());
      // each write is awaited: when the loop is left, none is in flight (see views())
      const views = mem.views();
      try {
        let pos = 0;
        for (const data of views) {
          for (let off = 0; off < data.length; ) {
            const at = pos + off;
            off += await new Promise<number>((resolve, reject) =>
              fs.write(fd, data, off, data.length - off, at, (err, n) => (err ? reject(err) : resolve(n))),
            );
          }
          pos += data.length;
        }
      } catch (e) {
        await new Promise<void>((resolve) => closeNativeFd(fd, () => resolve()));
        throw e;
      } finally {
        mem.unlend();
      }
      done(fd);
    },
  };
}

/** A TempFile that starts in memory; see SpooledTemporaryFile(). */
export class SpooledTempFile extends TempFile {
  readonly #spool: Spool;

  /** @internal */
  constructor(init: TempFileInit, spool: Spool) {
    super(init);
    this.#spool = spool;
    spool.s = this._state;
  }

  /** True once the data lives in a real file. */
  get rolledOver(): boolean {
    return this.#spool.rolled;
  }

  /** Moves the data to a real TemporaryFile now (nothing happens if it already is). */
  rolloverSync(): void {
    this._rolloverSync();
  }

  /** As {@link SpooledTempFile.rolloverSync}, asynchronously. */
  rollover(): Promise<void> {
    return this._rollover();
  }
}

/**
 * Python's SpooledTemporaryFile: no file and no system call until the data grows past
 * `maxSize` (0 = never by itself), `fd` is asked for, or `rollover()` is called.
 * Behaves the same before and after.
 */
export function SpooledTemporaryFile(options?: SpooledTemporaryFileOptions): SpooledTempFile {
  const o = checkOptionsObject('options', options, KEYS);
  let maxSize = 0;
  if (o.maxSize !== undefined) {
    if (typeof o.maxSize !== 'number') throw invalidArgType('maxSize', 'of type number', o.maxSize);
    if (!Number.isSafeInteger(o.maxSize) || o.maxSize < 0)
      throw invalidArgValue('maxSize', o.maxSize, 'must be an integer >= 0');
    maxSize = o.maxSize;
  }
  const f = fileArgs(o);
  const mem = new MemoryBackend();
  const cap = writeBufferCap(f.bufsize, f.info.append, f.maxBytes); // after rollover
  const spool: Spool = { s: null, rolled: false };
  // The options were checked above (fileArgs resolved them once); at rollover they are resolved
  // again, so a default directory or prefix is the one in force then.
  const spill = spiller(spool, mem, () => nativeArgs(resolveNameOptions(f.o), KIND_UNNAMED, 0o600), cap);
  return new SpooledTempFile(
    {
      fd: -1,
      kind: 'SpooledTemporaryFile',
      io: mem,
      spill,
      maxSize,
      maxBytes: f.maxBytes,
      path: null,
      mode: f.mode,
      info: f.info,
      bufsize: f.bufsize,
      encoding: f.encoding,
    },
    spool,
  );
}
