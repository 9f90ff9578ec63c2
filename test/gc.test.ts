// The seed: an unclosed TemporaryFile is closed when garbage-collected (with a warning).
import { describe, expect, it } from 'vitest';
import { isLinux, runNode } from './_helpers';

describe.runIf(isLinux)('garbage collection', () => {
  it('closes an unclosed TempFile, flushes its buffer and warns like ResourceWarning', () => {
    const r = runNode(
      `const fs = require('fs');
       const t = require('securetemp');
       function leak() {
         const f = t.TemporaryFileSync();
         f.writeSync(Buffer.from('buffered'));
         return [f.fd, fs.openSync('/proc/self/fd/' + f.fd, 'r'), fs.fstatSync(f.fd).ino];
       }
       const [fd, dup, ino] = leak();
       let warned = '';
       process.on('warning', (w) => { warned = w.name + ': ' + w.message; });
       (async () => {
         for (let i = 0; i < 20; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
         let closed = false;
         // the number may be reused by then: closed = no longer our file
         try { closed = fs.fstatSync(fd).ino !== ino; } catch (e) { closed = e.code === 'EBADF'; }
         console.log(JSON.stringify({ closed, data: fs.readFileSync(dup, 'utf8'), warned }));
       })();`,
      { args: ['--expose-gc'] },
    );
    const out = JSON.parse(r.stdout);
    expect(out.closed).toBe(true);
    expect(out.data).toBe('buffered');
    expect(out.warned).toMatch(/^ResourceWarning: unclosed TempFile/);
  });
});
