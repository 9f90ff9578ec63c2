#!/usr/bin/env node
// `securetemp`: GNU coreutils mktemp's command line on the package's creation (O_EXCL and
// no links followed, relative to a handle of the directory). Options are parsed as GNU
// getopt_long does (clusters, abbreviations, permutation, POSIXLY_CORRECT, `--`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getSystemErrorMap } from 'node:util';
import type { Template } from './_template';

// Start-up (issue 16, item 10): what a run does not need is not loaded. _template brings the
// addon and node:crypto, needed once there is a template to resolve (not for --help, --version
// or a usage error); node:child_process and _lifetime only for --cleanup-after or a failed write.
type TemplateModule = typeof import('./_template');
let templateModule: TemplateModule | undefined;
function tpl(): TemplateModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (templateModule ??= require('./_template') as TemplateModule);
}
function removeTreeSync(p: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./_lifetime') as typeof import('./_lifetime')).removeTreeSync(p);
}

const NAME = 'securetemp';

const HELP = `Usage: ${NAME} [OPTION]... [TEMPLATE]
  or:  ${NAME} [OPTION]... [TEMPLATE] --cleanup-after COMMAND [ARG]...
Create a temporary file or directory securely, and print its name: GNU mktemp's
interface, with creation that is exclusive and never follows a link.

TEMPLATE must end in at least 3 consecutive 'X's in its last component; each X
becomes a random character from [A-Za-z0-9] (from the OS's CSPRNG). Without
TEMPLATE, tmp.XXXXXXXXXX is used, and --tmpdir is implied.
Files are created u+rw (0600), directories u+rwx (0700), minus the umask.

  -d, --directory     create a directory, not a file
  -u, --dry-run       create nothing; only print a name that did not exist
                        (UNSAFE: anyone can create that name before you do)
  -q, --quiet         print no message when creating fails
      --suffix=SUFF   append SUFF to TEMPLATE; SUFF must not contain a slash.
                        Implied when TEMPLATE does not end in X
  -p DIR, --tmpdir[=DIR]  TEMPLATE is relative to DIR; without DIR (or with an
                        empty one), $TMPDIR if set and not empty, else /tmp.
                        TEMPLATE must then not be absolute; it may contain
                        slashes, but only its last component is created
  -t                  TEMPLATE is a single file name component, in $TMPDIR if
                        set and not empty, else in the -p DIR, else in /tmp
                        [deprecated]
      --json          print {"path":"..."} instead of the bare name
      --cleanup-after COMMAND [ARG]...
                      (must come last) create, run COMMAND with the path in
                        $SECURETEMP_PATH, then, once COMMAND has exited,
                        remove the file or directory (recursively, never
                        following a link), whatever its exit status; print
                        nothing
      --help          display this help and exit
      --version       output version information and exit

Exit status: 0 on success, 1 on failure (with a message on stderr unless -q).
With --cleanup-after: COMMAND's exit status (its signal when it was killed by
one; 127 when it cannot be found, 126 when it cannot be run; 1 when it
succeeded but the removal failed).
Unlike GNU mktemp, a directory where others than its owner can add or remove
entries is refused unless it is sticky and owned by root or by you (world- or
group-writable without the sticky bit, sticky but owned by another user):
they could rename or replace what is created there.
`;

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return `${NAME} ${pkg.version}\n`;
}

/** Writes all of `s`, waiting out a non-blocking descriptor that is full. */
function writeAll(fd: number, s: string): void {
  const buf = Buffer.from(s);
  for (let off = 0; off < buf.length; ) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

function warn(msg: string): void {
  try {
    writeAll(2, `${NAME}: ${msg}\n`);
  } catch {
    // stderr itself is gone: the exit status is all that is left to say it
  }
}

/** An error in the command line: message, then the pointer to --help, exit status 1. */
class UsageError extends Error {}

/** What an errno says, worded like strerror ("No such file or directory"). */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const entry = typeof err.errno === 'number' ? getSystemErrorMap().get(err.errno) : undefined;
  const text = entry?.[1] ?? err.message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

interface Options {
  directory: boolean;
  dryRun: boolean;
  quiet: boolean;
  suffix: string | undefined;
  useDir: boolean;
  dirArg: string | undefined;
  deprecatedT: boolean;
  json: boolean;
  /** --cleanup-after: the command and its arguments. */
  command: string[] | undefined;
  operands: string[];
}

type LongArg = 'none' | 'required' | 'optional' | 'rest';
const LONG: ReadonlyArray<readonly [name: string, arg: LongArg]> = [
  ['directory', 'none'],
  ['quiet', 'none'],
  ['dry-run', 'none'],
  ['suffix', 'required'],
  ['tmpdir', 'optional'],
  ['help', 'none'],
  ['version', 'none'],
  ['json', 'none'],
  ['cleanup-after', 'rest'],
];

type Parsed = { action: 'help' | 'version' } | { action: 'run'; options: Options };

/** getopt_long("dp:qtuV") with the long options above, in argument order. */
function parse(argv: readonly string[]): Parsed {
  const o: Options = {
    directory: false,
    dryRun: false,
    quiet: false,
    suffix: undefined,
    useDir: false,
    dirArg: undefined,
    deprecatedT: false,
    json: false,
    command: undefined,
    operands: [],
  };
  const posixlyCorrect = process.env.POSIXLY_CORRECT !== undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      o.operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      if (posixlyCorrect) {
        o.operands.push(...argv.slice(i));
        break;
      }
      o.operands.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq === -1 ? undefined : eq);
      const value = eq === -1 ? undefined : a.slice(eq + 1);
      let match = LONG.find(([n]) => n === name);
      if (match === undefined) {
        const found = LONG.filter(([n]) => n.startsWith(name));
        if (found.length > 1) {
          throw new UsageError(`option '${a}' is ambiguous; possibilities:${found.map(([n]) => ` '--${n}'`).join('')}`);
        }
        match = found[0];
      }
      if (match === undefined) throw new UsageError(`unrecognized option '${a}'`);
      const [long, kind] = match;
      if (kind === 'none' && value !== undefined) throw new UsageError(`option '--${long}' doesn't allow an argument`);
      let arg = value;
      if (kind === 'required' && arg === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`option '--${long}' requires an argument`);
        arg = argv[++i]!;
      }
      switch (long) {
        case 'directory':
          o.directory = true;
          break;
        case 'quiet':
          o.quiet = true;
          break;
        case 'dry-run':
          o.dryRun = true;
          break;
        case 'suffix':
          o.suffix = arg;
          break;
        case 'tmpdir':
          o.useDir = true;
          o.dirArg = arg;
          break;
        case 'help':
          return { action: 'help' };
        case 'version':
          return { action: 'version' };
        case 'json':
          o.json = true;
          break;
        case 'cleanup-after': {
          const command = value === undefined ? argv.slice(i + 1) : [value, ...argv.slice(i + 1)];
          if (command.length === 0) throw new UsageError(`option '--cleanup-after' requires a command`);
          o.command = command;
          return { action: 'run', options: o };
        }
      }
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const c = a[k]!;
      switch (c) {
        case 'd':
          o.directory = true;
          break;
        case 'q':
          o.quiet = true;
          break;
        case 'u':
          o.dryRun = true;
          break;
        case 't':
          o.useDir = true;
          o.deprecatedT = true;
          break;
        case 'V':
          return { action: 'version' };
        case 'p': {
          let arg = a.slice(k + 1);
          if (arg === '') {
            if (i + 1 >= argv.length) throw new UsageError(`option requires an argument -- 'p'`);
            arg = argv[++i]!;
          }
          o.useDir = true;
          o.dirArg = arg;
          k = a.length;
          break;
        }
        default:
          throw new UsageError(`invalid option -- '${c}'`);
      }
    }
  }
  return { action: 'run', options: o };
}

/** Creates (or, with -u, picks) the name and returns it, or reports why not and returns null. */
function make(o: Options, t: Template): string | null {
  const what = o.directory ? 'directory' : 'file';
  try {
    return o.dryRun ? tpl().dryRunFromTemplate(t) : tpl().createFromTemplate(t, o.directory);
  } catch (e) {
    if (o.quiet) return null;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_INSECURE_TEMPDIR') {
      const dir = t.dir.replace(/\/+$/, '') || '/';
      warn(
        `refusing to create a ${what} in '${dir}': it is ${(err as { reason?: string }).reason ?? 'world-writable without the sticky bit'}, so ` +
          `others could rename or replace what is created there (give a safe directory with -p or TMPDIR)`,
      );
    } else {
      warn(`failed to create ${what} via template '${t.path}': ${reason(e)}`);
    }
    return null;
  }
}

/**
 * The template with its directory as it resolves now, where it goes through a symbolic link (as
 * given otherwise: GNU's output), or the error that resolving it gave. Creation goes through a
 * handle of the directory either way, but the printed name is what a script uses afterwards, by
 * name: through a link, whoever owns the link (or a directory on the way) can repoint it, and
 * the script's later writes go where they choose (tenth and eleventh outside reviews: another
 * user's link as TMPDIR, as -p DIR, or in the template's own directory part; a link dangling when
 * looked at and repointed before the creation). A directory that does not resolve is not created
 * in: creation would have failed the same way a moment earlier.
 */
function resolvedTemplate(t: Template): Template | Error {
  if (t.dir === '.' || process.platform === 'win32') return t;
  let real: string;
  try {
    real = fs.realpathSync(t.dir);
  } catch (e) {
    return e as Error;
  }
  if (real === path.resolve(t.dir)) return t;
  const base = tpl().lastComponentStart(t.path);
  const dir = real.endsWith('/') ? real : `${real}/`;
  return { ...t, path: dir + t.path.slice(base), xStart: t.xStart - base + dir.length, dir };
}

/** The created path for removal and for COMMAND: absolute, without trailing slashes. */
function absolute(p: string): string {
  let s = path.isAbsolute(p) ? p : process.cwd() + path.sep + p;
  while (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  return s;
}

// A command's death by these is passed on by dying of it too (a shell then sees the
// signal, not a status); the others (core dumps, signals Node handles) give 128 + N.
const RERAISE = new Set<string>(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGKILL', 'SIGALRM', 'SIGUSR2']);
// Sent to securetemp alone (a supervisor, a hangup): passed on to the command. SIGINT and
// SIGQUIT come from the terminal to the whole process group, the command included, so
// securetemp only outlives them (as system(3) does) to remove the path afterwards.
const FORWARD: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];
const OUTLIVE: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];

/**
 * --cleanup-after: creates, runs the command, removes what was created once the command has
 * exited, and ends the process with the command's status. The signal handlers come first: a
 * signal that arrives while creating or starting the command waits for them (JavaScript
 * handlers run between ticks), instead of killing securetemp with the path left behind.
 *
 * The path is removed only when the command never ran (spawn failed: libuv has already reaped
 * the child whose exec failed) or after its 'exit' (libuv's waitpid() has reaped it). Nothing
 * else removes it: not a signal passed on or not, not a failed kill(). A command that switched
 * user (sudo, su) cannot be signalled by an unprivileged securetemp (EPERM): it goes on using
 * the path, so securetemp says so and goes on waiting. If securetemp itself is killed, the path
 * is left behind, never removed under the command.
 */
function runThenRemove(o: Options, t: Template, command: string[]): void {
  let child: import('node:child_process').ChildProcess | undefined;
  let forwarding: NodeJS.Signals | undefined;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARD) {
    handlers.set(sig, () => {
      // child.kill() signals only a child not yet reaped (its pid cannot have been reused);
      // a failure other than ESRCH comes back as an 'error' event, synchronously.
      forwarding = sig;
      try {
        child?.kill(sig);
      } finally {
        forwarding = undefined;
      }
    });
  }
  for (const sig of OUTLIVE) handlers.set(sig, () => {});
  for (const [sig, h] of handlers) process.on(sig, h);
  const release = () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };

  const created = make(o, t);
  if (created === null) {
    release();
    process.exitCode = 1;
    return;
  }
  const target = absolute(created);
  let done = false;
  const finish = (code: number, signal: NodeJS.Signals | null) => {
    if (done) return;
    done = true;
    let status = code;
    try {
      removeTreeSync(target);
    } catch (e) {
      warn(`failed to remove '${target}': ${reason(e)}`);
      if (status === 0) status = 1;
    }
    // Only now: a signal during the removal is still caught, instead of cutting it short.
    release();
    if (signal !== null) {
      if (RERAISE.has(signal)) process.kill(process.pid, signal);
      status = 128 + (os.constants.signals[signal] ?? 0);
    }
    process.exit(status);
  };

  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    child = spawn(command[0]!, command.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, SECURETEMP_PATH: target },
    });
  } catch (e) {
    // Thrown before a child existed, or after libuv reaped the one whose exec failed.
    warn(`failed to run '${command[0]}': ${(e as Error).message}`);
    finish(126, null);
    return;
  }
  const running = child;
  running.on('error', (e: NodeJS.ErrnoException) => {
    if (running.pid !== undefined) {
      // The command runs (or ran): this is not "could not run" but a kill() that failed.
      // Removing now would free the name under a command still using it.
      const what = forwarding ?? 'a signal';
      warn(`could not pass ${what} on to '${command[0]}' (pid ${running.pid}): ${reason(e)}; waiting for it to exit`);
      return;
    }
    warn(`failed to run '${command[0]}': ${reason(e)}`);
    finish(e.code === 'ENOENT' ? 127 : 126, null);
  });
  running.on('exit', (code, signal) => finish(code ?? 0, signal));
}

function main(argv: readonly string[]): void {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
    if (parsed.action === 'run') {
      const o = parsed.options;
      if (o.operands.length > 1) throw new UsageError('too many templates');
      if (o.command !== undefined && o.dryRun) throw new UsageError('--cleanup-after cannot be used with --dry-run');
      if (o.command !== undefined && o.json) throw new UsageError('--cleanup-after prints nothing: no --json with it');
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    warn(e.message);
    writeAll(2, `Try '${NAME} --help' for more information.\n`);
    process.exitCode = 1;
    return;
  }
  if (parsed.action !== 'run') {
    writeAll(1, parsed.action === 'help' ? HELP : version());
    return;
  }
  const o = parsed.options;
  let t: Template;
  try {
    // Node decodes the command line and the environment as UTF-8, and bytes that are not
    // become U+FFFD: the name made would be another one than given, in a directory another
    // user can make beside the one meant (tenth outside review). GNU mktemp works on the raw
    // bytes; we refuse instead.
    for (const [what, v] of [
      ['template', o.operands[0]],
      ['suffix', o.suffix],
      ['directory', o.dirArg],
      ['TMPDIR', process.env.TMPDIR],
    ] as const) {
      if (v !== undefined && v.includes('\uFFFD')) {
        throw new (tpl().TemplateError)(`invalid ${what} ${JSON.stringify(v)}: not valid UTF-8 (or contains U+FFFD)`);
      }
    }
    t = tpl().resolveTemplate({
      template: o.operands[0],
      suffix: o.suffix,
      useDir: o.useDir,
      dirArg: o.dirArg,
      deprecatedT: o.deprecatedT,
      tmpdirEnv: process.env.TMPDIR,
    });
  } catch (e) {
    if (!(e instanceof tpl().TemplateError)) throw e;
    warn(e.message);
    process.exitCode = 1;
    return;
  }
  if (!o.dryRun) {
    const r = resolvedTemplate(t);
    if (r instanceof Error) {
      if (!o.quiet) warn(`failed to create ${o.directory ? 'directory' : 'file'} via template '${t.path}': ${reason(r)}`);
      process.exitCode = 1;
      return;
    }
    t = r;
  }
  if (o.command !== undefined) {
    runThenRemove(o, t, o.command);
    return;
  }
  const created = make(o, t);
  if (created === null) {
    process.exitCode = 1;
    return;
  }
  try {
    writeAll(1, (o.json ? JSON.stringify({ path: created }) : created) + '\n');
  } catch (e) {
    // Nobody learnt the name: what was created is removed again, as GNU mktemp does.
    if (!o.dryRun) removeTreeSync(absolute(created));
    if (!o.quiet || o.dryRun) warn(`write error: ${reason(e)}`);
    process.exitCode = 1;
  }
}

main(process.argv.slice(2));
