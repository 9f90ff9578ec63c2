// Each file operation is written once, as a generator that yields system
// calls; runSync performs them with fs.*Sync, runAsync on the thread pool.
// This keeps the sync and async forms from being two copies of the logic.
import * as fs from 'node:fs';

export type Op =
  | { op: 'pread'; buf: Uint8Array; off: number; len: number; pos: number }
  | { op: 'pwrite'; buf: Uint8Array; off: number; len: number; pos: number }
  | { op: 'size' }
  | { op: 'ftruncate'; len: number }
  | { op: 'fsync' }
  | { op: 'close' };

/** A generator that yields system calls and receives their results (numbers). */
export type Io<T> = Generator<Op, T, number>;

function doSync(fd: number, o: Op): number {
  switch (o.op) {
    case 'pread':
      return fs.readSync(fd, o.buf, o.off, o.len, o.pos);
    case 'pwrite':
      return fs.writeSync(fd, o.buf, o.off, o.len, o.pos);
    case 'size':
      return fs.fstatSync(fd).size;
    case 'ftruncate':
      fs.ftruncateSync(fd, o.len);
      return 0;
    case 'fsync':
      fs.fsyncSync(fd);
      return 0;
    case 'close':
      fs.closeSync(fd);
      return 0;
  }
}

function doAsync(fd: number, o: Op): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (err: NodeJS.ErrnoException | null, n?: number) => (err ? reject(err) : resolve(n ?? 0));
    switch (o.op) {
      case 'pread':
        return fs.read(fd, o.buf, o.off, o.len, o.pos, done);
      case 'pwrite':
        return fs.write(fd, o.buf, o.off, o.len, o.pos, done);
      case 'size':
        return fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size)));
      case 'ftruncate':
        return fs.ftruncate(fd, o.len, (err) => done(err, 0));
      case 'fsync':
        return fs.fsync(fd, (err) => done(err, 0));
      case 'close':
        return fs.close(fd, (err) => done(err, 0));
    }
  });
}

export function runSync<T>(fd: number, g: Io<T>): T {
  let r = g.next();
  while (!r.done) {
    let v: number;
    try {
      v = doSync(fd, r.value);
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}

export async function runAsync<T>(fd: number, g: Io<T>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    let v: number;
    try {
      v = await doAsync(fd, r.value);
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}
