// Shared by the attack suite (test/security/): descriptors, another uid, strace.
import * as fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { isLinux, portableBuild, runNode } from '../_helpers';

const require = createRequire(import.meta.url);

/** The package's test switches (not public), typed with all the suite uses. */
export const sw: {
  forceNoTmpfile: boolean;
  forceReopenByPath: boolean;
  beforeAtomicCommit: ((fd: number) => void | Promise<void>) | null;
  tmpfileKnownUnsupported(): boolean;
  dirHandles(): number;
  releaseIdleDirHandles(): number;
} = require('../../dist/_internals.js').internals;

/** The loaded addon takes the macOS/BSD path (npm run test:portable runs the suite so). */
export const portable = portableBuild;

export const NOBODY = 65534;

/** Where each open descriptor of this process leads (Linux /proc). */
export function openTargets(pid: number | 'self' = 'self'): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed while we looked (the readdir's own descriptor among them)
    }
  }
  return out;
}

/** The descriptors a child process has after exec (/bin/sh execs ls): where they lead. */
export function childOpenTargets(): string[] {
  const r = spawnSync('/bin/sh', ['-c', 'exec ls -l /proc/self/fd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' -> ')[1] ?? '')
    .filter(Boolean);
}

/**
 * Runs `code` in a child that loads the package as root, then becomes nobody (65534): the
 * checkout may not be readable by nobody, so the order matters. `t` is the package.
 */
export function runAsNobody(code: string, opts: Parameters<typeof runNode>[1] = {}) {
  return runNode(
    `const t = require('securetemp'); const fs = require('fs'), path = require('path');
     const { internals, setNameGenerator } = require('./dist/_internals.js');
     process.setgid(${NOBODY}); process.setuid(${NOBODY});
     ${code}`,
    opts,
  );
}

/**
 * Starts `argv` as nobody (setpriv), to race the test until stop(): an attacker flipping a link
 * while root works. `running` is false once it has exited on its own (it could not run, or
 * failed): a race against no one proves nothing.
 */
export function startAsNobody(argv: string[]) {
  const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    get running(): boolean {
      return child.exitCode === null && child.signalCode === null;
    },
    async stop(): Promise<void> {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** strace is how the suite watches system calls; CI installs it (.ci/run). Missing it on Linux is a failure, not a skip. */
export function requireStrace(): string {
  const r = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('strace is needed on Linux to watch system calls (apt-get install strace; .ci/run does)');
  return 'strace';
}

export interface Syscall {
  pid: number;
  name: string;
  args: string;
  ret: string;
}

/** Parses `strace -f` output, joining calls interrupted by another thread (<unfinished ...> / resumed). */
export function parseStrace(text: string): Syscall[] {
  const out: Syscall[] = [];
  const pending = new Map<string, { name: string; args: string }>();
  for (const line of text.split('\n')) {
    let m = /^(\d+)\s+(\w+)\((.*) <unfinished \.\.\.>$/.exec(line);
    if (m) {
      pending.set(`${m[1]} ${m[2]}`, { name: m[2]!, args: m[3]! });
      continue;
    }
    m = /^(\d+)\s+<\.\.\. (\w+) resumed>(.*)\)\s+=\s+(.*)$/.exec(line);
    if (m) {
      const p = pending.get(`${m[1]} ${m[2]}`);
      pending.delete(`${m[1]} ${m[2]}`);
      out.push({ pid: Number(m[1]), name: m[2]!, args: (p?.args ?? '') + m[3], ret: m[4]! });
      continue;
    }
    m = /^(\d+)\s+(\w+)\((.*)\)\s+=\s+(.*)$/.exec(line);
    if (m) out.push({ pid: Number(m[1]), name: m[2]!, args: m[3]!, ret: m[4]! });
  }
  return out;
}

export { isLinux };
