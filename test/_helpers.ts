// Shared by the tests: the package as users load it, scratch directories, child processes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import type Tempfile from 'securetemp';

const require = createRequire(import.meta.url);

/** The package through its own name (its exports map), as users get it with require(). */
export const tempfile: typeof Tempfile = require('securetemp');

/** Test switches (not public): same module instance as the package's. */
export const internals: {
  internals: { forceNoTmpfile: boolean; tmpfileKnownUnsupported(): boolean; portableBuild: boolean };
  setNameGenerator(g: (() => string) | null): void;
} = require('../dist/_internals.js');

export const ROOT = path.resolve(__dirname, '..');

/** A private scratch directory (0700) under os.tmpdir() (the run's root, test/_tmproot.ts), removed by the returned function. */
export function scratch(base = os.tmpdir()): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(base, 'securetemp-test-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `node -e code` (CommonJS) in the repo root; returns status, stdout, stderr. */
export function runNode(code: string, opts: SpawnSyncOptions & { args?: string[] } = {}) {
  const r = spawnSync(process.execPath, [...(opts.args ?? []), '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    ...opts,
  });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Directory entries, sorted. */
export function ls(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
export const isLinux = process.platform === 'linux';

/**
 * The loaded addon was built with st_posix_portable=1 (npm run test:portable): the POSIX
 * path of macOS and the BSDs (no O_TMPFILE, getrandom, O_PATH, renameat2, /proc/self/fd),
 * running on Linux. Tests of those Linux extras assert that path's behaviour instead.
 */
export const portableBuild = internals.internals.portableBuild;

/** The Linux extras are compiled in and in use: Linux, and not the portable build. */
export const linuxExtras = isLinux && !portableBuild;

/** Which system call reports EEXIST when a rename must not replace: renameat2 (Linux), renamex_np (macOS), else link(). */
export const noReplaceSyscall = linuxExtras || process.platform === 'darwin' ? 'rename' : 'link';
