// gettempdir/gettempprefix/tempdir/template, TMPDIR handling in child processes, and mktemp.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internals, isRoot, ls, runNode, scratch, tempfile } from './_helpers';

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

/** gettempdir() in a fresh process with the given environment. */
function childTempdir(env: Record<string, string | undefined>, cwd?: string) {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  delete clean.TMPDIR;
  delete clean.TEMP;
  delete clean.TMP;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const r = runNode(
    `const t = require(${JSON.stringify(path.resolve('dist/index.js'))});
     try { const d = t.gettempdir(); console.log(JSON.stringify({ d, cached: t.tempdir })); }
     catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall })); }`,
    { env: clean, ...(cwd ? { cwd } : {}) },
  );
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { d?: string; cached?: string; code?: string; syscall?: string };
}

describe('gettempdir', () => {
  it('uses $TMPDIR, then $TEMP, then $TMP, and stores the result in tempdir', () => {
    const a = path.join(s.dir, 'a');
    const b = path.join(s.dir, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    expect(childTempdir({ TMPDIR: a, TEMP: b })).toEqual({ d: a, cached: a });
    expect(childTempdir({ TEMP: b, TMP: a })).toEqual({ d: b, cached: b });
    expect(childTempdir({ TMP: a })).toEqual({ d: a, cached: a });
    expect(childTempdir({})).toEqual({ d: '/tmp', cached: '/tmp' });
    expect(ls(a)).toEqual([]); // the probe leaves nothing
  });

  it('skips candidates that do not exist, are files, or are not writable', () => {
    const file = path.join(s.dir, 'file');
    fs.writeFileSync(file, '');
    expect(childTempdir({ TMPDIR: path.join(s.dir, 'missing'), TEMP: file })).toEqual({ d: '/tmp', cached: '/tmp' });
  });

  it.runIf(isRoot)('skips a directory the user cannot write (checked as nobody, so root needed)', () => {
    const ro = path.join(s.dir, 'ro');
    fs.mkdirSync(ro, { mode: 0o555 });
    fs.chmodSync(s.dir, 0o755);
    const r = runNode(
      `const t = require(${JSON.stringify(path.resolve('dist/index.js'))});
       process.setgid(65534); process.setuid(65534);
       console.log(t.gettempdir());`,
      { env: { ...process.env, TMPDIR: ro, TEMP: undefined, TMP: undefined } },
    );
    fs.chmodSync(s.dir, 0o700);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('/tmp');
  });

  it('resolves a relative $TMPDIR to an absolute path', () => {
    fs.mkdirSync(path.join(s.dir, 'rel'));
    expect(childTempdir({ TMPDIR: 'rel' }, s.dir).d).toBe(path.join(s.dir, 'rel'));
  });

  it('a set tempdir is used as is and by every creator', () => {
    tempfile.tempdir = s.dir;
    try {
      expect(tempfile.gettempdir()).toBe(s.dir);
      const { fd, path: p } = tempfile.mkstempSync();
      fs.closeSync(fd);
      expect(path.dirname(p)).toBe(s.dir);
      expect(path.dirname(tempfile.mkdtempSync())).toBe(s.dir);
      expect(path.dirname(tempfile.mktemp())).toBe(s.dir);
    } finally {
      tempfile.tempdir = null;
    }
  });
});

describe('gettempprefix and template', () => {
  it("is 'tmp' by default and follows the deprecated template variable", () => {
    expect(tempfile.gettempprefix()).toBe('tmp');
    tempfile.template = 'app-';
    try {
      expect(tempfile.gettempprefix()).toBe('app-');
      const p = tempfile.mkdtempSync({ dir: s.dir });
      expect(path.basename(p)).toMatch(/^app-[a-z0-9]{12}$/);
      expect(path.basename(tempfile.mkdtempSync({ dir: s.dir, prefix: 'own-' }))).toMatch(/^own-/);
    } finally {
      tempfile.template = null;
    }
    expect(tempfile.gettempprefix()).toBe('tmp');
  });
});

describe('mktemp', () => {
  it('returns an absolute path that does not exist, and creates nothing', () => {
    const before = ls(s.dir);
    const p = tempfile.mktemp({ dir: s.dir, suffix: '.x' });
    expect(path.isAbsolute(p)).toBe(true);
    expect(path.basename(p)).toMatch(/^tmp[a-z0-9]{12}\.x$/);
    expect(fs.existsSync(p)).toBe(false);
    expect(ls(s.dir)).toEqual(before);
  });

  it('takes the seed positional suffix', () => {
    tempfile.tempdir = s.dir;
    try {
      expect(tempfile.mktemp('.seed')).toMatch(/\.seed$/);
    } finally {
      tempfile.tempdir = null;
    }
  });

  it('never returns the same name twice in a process, even when the generator repeats', () => {
    const seq = ['AAA', 'AAA', 'BBB', 'AAA', 'BBB', 'CCC'];
    internals.setNameGenerator(() => seq.shift() ?? 'ZZZ');
    try {
      const a = tempfile.mktemp({ dir: s.dir });
      const b = tempfile.mktemp({ dir: s.dir });
      const c = tempfile.mktemp({ dir: s.dir });
      expect([a, b, c].map((p) => path.basename(p))).toEqual(['tmpAAA', 'tmpBBB', 'tmpCCC']);
    } finally {
      internals.setNameGenerator(null);
    }
  });

  it('skips names that exist (files, dangling links)', () => {
    fs.symlinkSync('/nonexistent', path.join(s.dir, 'tmpLNK'));
    const seq = ['LNK', 'NEW'];
    internals.setNameGenerator(() => seq.shift() ?? 'ZZZ');
    try {
      expect(path.basename(tempfile.mktemp({ dir: s.dir }))).toBe('tmpNEW');
    } finally {
      internals.setNameGenerator(null);
    }
  });

  it('throws EEXIST when every name is taken', () => {
    internals.setNameGenerator(() => 'LNK');
    try {
      expect(() => tempfile.mktemp({ dir: s.dir })).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'mktemp' }));
    } finally {
      internals.setNameGenerator(null);
    }
  });
});

describe('generated names', () => {
  it('are 12+ characters of [a-z0-9], uniform enough, and all different', () => {
    const counts = new Map<string, number>();
    const names = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const p = path.basename(tempfile.mktemp({ dir: s.dir, prefix: '' }));
      expect(p).toMatch(/^[a-z0-9]{12}$/);
      names.add(p);
      for (const c of p) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(names.size).toBe(3000);
    expect(counts.size).toBe(36);
    // 36,000 characters: 1000 expected per symbol; a chi-square over 35 degrees of freedom
    // above 80 would happen by chance with probability < 1e-5.
    let chi = 0;
    for (const n of counts.values()) chi += (n - 1000) ** 2 / 1000;
    expect(chi).toBeLessThan(80);
  });
});
