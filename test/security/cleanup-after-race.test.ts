// `securetemp --cleanup-after`: the path must stay until the command has really exited (the CLI
// has reaped it), whatever passing a signal on to it did. A command that switched user (sudo,
// su) cannot be signalled by an unprivileged securetemp: kill() fails with EPERM. Taking that
// for "the command could not be run" removed the path while the command still used it, and
// another user could plant a link at the freed name for the command to write through.
//
// Reproduced twice: the EPERM injected into securetemp's own kill() with strace, and for real,
// with securetemp as nobody and its command made root by a setuid helper.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLinux, isRoot, ROOT, scratch } from '../_helpers';
import { NOBODY, requireStrace } from './_security';

const require = createRequire(import.meta.url);

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

/**
 * Runs securetemp through `launch` (the command line that starts it, up to the node binary
 * and cli.js) with -d in `work` and a command that prints the path, securetemp's pid, its own
 * and its uid, then waits for a line on stdin (inherited from securetemp), writes into the
 * directory and exits 7. Sends `sig` to securetemp, whose forward fails; checks that the path
 * stays while the command runs and goes once it has exited, with the command's status.
 */
async function forwardFails(
  launch: string[],
  work: string,
  sig: NodeJS.Signals,
  commandPrefix: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
) {
  const script = `echo "$SECURETEMP_PATH $PPID $$ $(id -u)"; read go; echo written > "$SECURETEMP_PATH/f" && exit 7; exit 99`;
  const child = spawn(launch[0]!, [...launch.slice(1), '-d', '-p', work, '--cleanup-after', ...commandPrefix, '/bin/sh', '-c', script], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)),
  });
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
    expect(ended, err).toBeUndefined();
    const [dir, cliPid, cmdPid, cmdUid] = out.split('\n')[0]!.split(' ');
    expect(fs.statSync(dir!).isDirectory()).toBe(true);

    process.kill(Number(cliPid), sig);
    // securetemp says something on stderr once the forward has failed (or exits)
    await until('securetemp to react to the signal', () => err !== '' || ended !== undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(ended).toBeUndefined(); // still waiting for the command
    expect(fs.statSync(dir!).isDirectory()).toBe(true); // and the path is still there
    expect(err).toMatch(new RegExp(`could not pass ${sig} on to '.*' \\(pid ${cmdPid}\\): Operation not permitted`));

    child.stdin.end('go\n');
    await closed;
    expect(ended).toEqual({ code: 7, signal: null }); // the command's status, not 126
    expect(fs.existsSync(dir!)).toBe(false);
    return { cliPid: Number(cliPid), cmdPid: Number(cmdPid), cmdUid: Number(cmdUid) };
  } finally {
    child.stdin.end();
    if (ended === undefined) child.kill('SIGKILL');
    await closed;
  }
}

describe.runIf(isLinux)('--cleanup-after when passing a signal on fails (EPERM)', () => {
  it.each(['SIGTERM', 'SIGHUP'] as const)(
    '%s: the path stays while the command runs, is removed once it has exited, and the status is its own',
    async (sig) => {
      // The EPERM injected into securetemp's own kill() (strace without -f: its command runs untraced).
      const work = fs.mkdtempSync(path.join(s.dir, 'run-'));
      const log = path.join(work, 'strace.log');
      const strace = requireStrace();
      const r = await forwardFails(
        [strace, '-qq', '-o', log, '-e', 'trace=kill', '-e', 'inject=kill:error=EPERM', process.execPath, CLI],
        work,
        sig,
      );
      // the forward really was attempted and refused
      expect(fs.readFileSync(log, 'utf8')).toMatch(new RegExp(`kill\\(${r.cmdPid}, ${sig}\\)\\s+= -1 EPERM .*\\(INJECTED\\)`));
    },
  );

  // The real thing: securetemp as nobody, its command made root by a setuid-root helper that
  // sets all its uids to 0, as sudo does. Needs root to set that up (CI runs as root) and a C
  // compiler (the addon's build needs one too).
  it.runIf(isRoot)('SIGTERM to an unprivileged securetemp whose command became root (as with sudo)', async () => {
    const base = fs.mkdtempSync(path.join(s.dir, 'real-'));
    for (let d = base; d !== path.dirname(s.dir); d = path.dirname(d)) fs.chmodSync(d, 0o755);
    // a copy of the package nobody can read: the checkout may not be
    const pkg = path.join(base, 'pkg');
    fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
    // the addon under test: the regular build, or the one SECURETEMP_ADDON names (npm run test:asan)
    const addon = process.env.SECURETEMP_ADDON ?? path.join(ROOT, 'build', 'Release', 'securetemp.node');
    fs.cpSync(addon, path.join(pkg, 'build', 'Release', 'securetemp.node'));
    fs.cpSync(path.dirname(require.resolve('node-gyp-build/package.json')), path.join(pkg, 'node_modules', 'node-gyp-build'), {
      recursive: true,
    });
    const helper = path.join(base, 'become-root');
    fs.writeFileSync(
      `${helper}.c`,
      `#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 2 || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) { perror("become-root"); return 125; }
  execv(argv[1], argv + 1);
  perror("become-root: exec");
  return 126;
}
`,
    );
    const cc = spawnSync('cc', ['-o', helper, `${helper}.c`], { encoding: 'utf8' });
    expect(cc.status, `cc is needed to build the setuid helper: ${cc.error ?? cc.stderr}`).toBe(0);
    fs.chmodSync(helper, 0o4755);
    const work = path.join(base, 'work');
    fs.mkdirSync(work);
    fs.chownSync(work, NOBODY, NOBODY);
    const r = await forwardFails(
      ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, path.join(pkg, 'dist', 'cli.js')],
      work,
      'SIGTERM',
      [helper],
      { ...process.env, SECURETEMP_ADDON: undefined },
    );
    expect(r.cmdUid).toBe(0); // the command really was root
  });
});
