// `securetemp --cleanup-after`: the path must stay until the command has really exited (the CLI
// has reaped it), whatever passing a signal on to it did. A command that switched user (sudo,
// su) cannot be signalled by an unprivileged securetemp: kill() fails with EPERM. Taking that
// for "the command could not be run" removed the path while the command still used it, and
// another user could plant a link at the freed name for the command to write through.
//
// The EPERM is injected into securetemp's own kill() with strace (no -f: only securetemp is
// traced, its command runs untouched), which reproduces what a user switch does to it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLinux, ROOT, scratch } from '../_helpers';
import { requireStrace } from './_security';

const CLI = process.env.SECURETEMP_CLI ?? path.join(ROOT, 'dist', 'cli.js');

let s: ReturnType<typeof scratch>;
beforeAll(() => {
  s = scratch();
});
afterAll(() => s.remove());

function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() > end) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe.runIf(isLinux)('--cleanup-after when passing a signal on fails (EPERM)', () => {
  it.each(['SIGTERM', 'SIGHUP'] as const)(
    '%s: the path stays while the command runs, is removed once it has exited, and the status is its own',
    async (sig) => {
      const strace = requireStrace();
      const work = fs.mkdtempSync(path.join(s.dir, 'run-'));
      const log = path.join(work, 'strace.log');
      // The command prints the path, securetemp's pid and its own, then waits for a line on
      // stdin (inherited from securetemp), writes into the directory and exits 7.
      const script = `echo "$SECURETEMP_PATH $PPID $$"; read go; echo written > "$SECURETEMP_PATH/f" && exit 7; exit 99`;
      const child = spawn(
        strace,
        ['-qq', '-o', log, '-e', 'trace=kill', '-e', 'inject=kill:error=EPERM', process.execPath, CLI, '-d', '-p', work,
          '--cleanup-after', '/bin/sh', '-c', script],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const closed = new Promise<void>((resolve) =>
        child.on('close', (code, signal) => {
          ended = { code, signal };
          resolve();
        }),
      );
      try {
        await until('the command to start', () => out.includes('\n') || ended !== undefined);
        const [dir, cliPid, cmdPid] = out.split('\n')[0]!.split(' ');
        expect(fs.statSync(dir!).isDirectory()).toBe(true);

        process.kill(Number(cliPid), sig);
        // securetemp says something on stderr once the forward has failed (or exits)
        await until('securetemp to react to the signal', () => err !== '' || ended !== undefined);
        await new Promise((r) => setTimeout(r, 300));
        expect(ended).toBeUndefined(); // still waiting for the command
        expect(fs.statSync(dir!).isDirectory()).toBe(true); // and the path is still there
        expect(err).toMatch(new RegExp(`could not pass ${sig} on to '/bin/sh'.*Operation not permitted`));

        child.stdin.end('go\n');
        await closed;
        expect(ended).toEqual({ code: 7, signal: null }); // the command's status, not 126
        expect(fs.existsSync(dir!)).toBe(false);
        // the forward really was attempted and refused
        expect(fs.readFileSync(log, 'utf8')).toMatch(new RegExp(`kill\\(${cmdPid}, ${sig}\\)\\s+= -1 EPERM .*\\(INJECTED\\)`));
      } finally {
        child.stdin.end();
        if (ended === undefined) child.kill('SIGKILL');
        await closed;
      }
    },
  );
});
