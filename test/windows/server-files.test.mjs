// Issue 15 on Windows: no memory-only files (ERR_UNSUPPORTED_OPERATION, or with memory: 'prefer'
// an unnamed delete-on-close file), no seal(); maxBytes works as on POSIX (EFBIG, errno from
// libuv's table, nothing past the cap written).
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { ls, rejected, scratch, t, thrown } from './_helpers.mjs';

let s;
before(() => {
  s = scratch();
});
after(() => s.remove());

it("memory: true is ERR_UNSUPPORTED_OPERATION; 'prefer' gives an unnamed file, which cannot be sealed", async () => {
  assert.equal(thrown(() => t.TemporaryFileSync({ dir: s.dir, memory: true })).code, 'ERR_UNSUPPORTED_OPERATION');
  assert.equal((await rejected(t.TemporaryFile({ dir: s.dir, memory: true }))).code, 'ERR_UNSUPPORTED_OPERATION');
  const f = t.TemporaryFileSync({ dir: s.dir, memory: 'prefer' });
  assert.equal(f.memory, false);
  assert.equal(f.sealed, false);
  assert.equal(f.path, null);
  assert.equal(thrown(() => f.sealSync()).code, 'ERR_UNSUPPORTED_OPERATION');
  f.closeSync();
  assert.deepEqual(ls(s.dir), []);
});

it('maxBytes: on the cap is fine, one byte past is EFBIG and writes nothing', () => {
  const f = t.TemporaryFileSync({ dir: s.dir, maxBytes: 10 });
  f.writeSync(Buffer.alloc(10, 1));
  const e = thrown(() => f.writeSync(Buffer.alloc(1)));
  assert.equal(e.code, 'EFBIG');
  assert.equal(e.syscall, 'write');
  assert.equal(typeof e.errno, 'number');
  assert.equal(thrown(() => f.truncateSync(11)).code, 'EFBIG');
  f.flushSync();
  assert.equal(fs.fstatSync(f.fd).size, 10);
  f.closeSync();
  assert.ok(os.constants.errno.EFBIG > 0);
});
