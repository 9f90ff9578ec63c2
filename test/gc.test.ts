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

  it('a stream keeps its TempFile from being collected while the stream is reachable, and only that long', () => {
    const r = runNode(
      `const fs = require('fs');
       const t = require('securetemp');
       const collect = async () => { for (let i = 0; i < 20; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); } };
       let rs, ws, ref, fds;
       (function () {
         const f = t.TemporaryFileSync();
         f.writeSync(Buffer.from('kept'));
         rs = f.createReadStream({ start: 0 });
         ws = f.createWriteStream();
         ref = new WeakRef(f);
         fds = [f.fd, fs.fstatSync(f.fd).ino];
       })();
       const open = () => { try { return fs.fstatSync(fds[0]).ino === fds[1]; } catch { return false; } };
       (async () => {
         await collect();
         const withStreams = { alive: ref.deref() !== undefined, open: open() };
         rs = null;
         await collect();
         const withWriteStream = { alive: ref.deref() !== undefined, open: open() };
         ws = null;
         await collect();
         console.log(JSON.stringify({ withStreams, withWriteStream, after: { alive: ref.deref() !== undefined, open: open() } }));
       })();`,
      { args: ['--expose-gc'] },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.withStreams).toEqual({ alive: true, open: true });
    expect(out.withWriteStream).toEqual({ alive: true, open: true });
    expect(out.after).toEqual({ alive: false, open: false });
    expect(r.stderr).toMatch(/ResourceWarning: unclosed TempFile/);
  });
});
