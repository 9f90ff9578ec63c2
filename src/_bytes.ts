/// <reference types="node" preserve="true" />
// The bytes a caller hands in, as the typed array's internal slots say, never as its properties
// say. A Uint8Array subclass (or an own property, or a Proxy) can make `length` claim more than
// it holds: the file then grew by the claim while set() copied only the real bytes, and the gap
// was what the write buffer or a pooled chunk held before, another file's bytes (sixth outside
// review). The getters below are the built-in ones, read once at load; they read the slots.
import { types } from 'node:util';
import { invalidArgValue } from './_errors';

type Getter = (this: unknown) => unknown;

function getter(o: object, key: PropertyKey): Getter {
  return Object.getOwnPropertyDescriptor(o, key)!.get! as Getter;
}

const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array.prototype) as object;
const taTag = getter(TYPED_ARRAY, Symbol.toStringTag); // undefined for anything else, Proxies too
const taBuffer = getter(TYPED_ARRAY, 'buffer');
const taOffset = getter(TYPED_ARRAY, 'byteOffset');
const taByteLength = getter(TYPED_ARRAY, 'byteLength');
const taLength = getter(TYPED_ARRAY, 'length');
const dvBuffer = getter(DataView.prototype, 'buffer');
const dvOffset = getter(DataView.prototype, 'byteOffset');
const dvByteLength = getter(DataView.prototype, 'byteLength');

/** The length of a Uint8Array (a Buffer) from its internal slot; -1 when `d` is not one. */
export function u8Length(d: unknown): number {
  return taTag.call(d) === 'Uint8Array' ? (taLength.call(d) as number) : -1;
}

/**
 * A Uint8Array of ours over the bytes of a TypedArray, DataView, ArrayBuffer or
 * SharedArrayBuffer (the same memory, not a copy), its extent from the internal slots; null for
 * anything else.
 */
export function plainBytes(d: unknown, name = 'data'): Uint8Array | null {
  try {
    if (taTag.call(d) !== undefined) {
      return new Uint8Array(taBuffer.call(d) as ArrayBufferLike, taOffset.call(d) as number, taByteLength.call(d) as number);
    }
    if (types.isDataView(d)) {
      return new Uint8Array(dvBuffer.call(d) as ArrayBufferLike, dvOffset.call(d) as number, dvByteLength.call(d) as number);
    }
    if (types.isAnyArrayBuffer(d)) return new Uint8Array(d);
  } catch {
    // a detached ArrayBuffer (transferred away): V8's TypeError has no code
    throw invalidArgValue(name, d, 'is detached (its ArrayBuffer was transferred)');
  }
  return null;
}

/** How many bytes `u` has now: less than before once its ArrayBuffer was detached or shrunk. */
export function byteLengthNow(u: Uint8Array): number {
  return taByteLength.call(u) as number;
}

/**
 * A buffer of its own (not a view of Node's shared 8 KiB pool, where Buffer.allocUnsafe puts
 * small ones next to other live and freed data): what a read returns must carry nothing but its
 * own bytes behind it (sixth outside review: a 1-byte read's backing store held another file's
 * freed read).
 */
export function ownBuffer(n: number): Buffer {
  return Buffer.allocUnsafeSlow(n);
}

/** Buffer.concat into a buffer of its own (see ownBuffer), every byte of it written. */
export function concatOwn(list: readonly Uint8Array[]): Buffer {
  let n = 0;
  for (const c of list) n += c.length;
  const out = ownBuffer(n);
  let at = 0;
  for (const c of list) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * A copy of `b` in memory of our own, for a write that runs on the thread pool: the caller may
 * transfer (detach) its ArrayBuffer while the write is in flight, and the memory the pool thread
 * reads from would be freed and reused (seventh outside review: another file's bytes written).
 */
export function ownCopy(b: Uint8Array): Buffer {
  return concatOwn([b]);
}

/** ERR_INVALID_STATE: the caller's buffer was transferred away or shrunk during a call on it. */
export function bufferGone(message: string): NodeJS.ErrnoException {
  const e = new Error(message) as NodeJS.ErrnoException;
  e.code = 'ERR_INVALID_STATE';
  return e;
}
