// vitest globalSetup (vitest.config.mjs): the whole run works under one private root, made
// here and removed at the end, so that no test leaves anything in the real /tmp. TMPDIR,
// TEMP and TMP name it before any test file loads: os.tmpdir() and gettempdir() return it in
// every worker, and the child processes the tests start inherit it.
//
// The root is made by mkdtemp (a name nobody else knows) and then given /tmp's own mode,
// 01777: tests run children as nobody (65534) that create in the default temporary
// directory, and a directory they could not write would send them to the real /tmp.
// Tests that need the real fallback (/tmp, when every variable is unusable) remove what they
// make there themselves. .ci/run lists /tmp, /var/tmp and /dev/shm before and after the
// suite and fails on any new entry; this root must be empty at the end (checked below).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const VARS = ['TMPDIR', 'TEMP', 'TMP'] as const;

export default function setup(): () => void {
  const saved = VARS.map((k) => [k, process.env[k]] as const);
  const root = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'securetemp-vitest-'));
  fs.chmodSync(root, 0o1777);
  for (const k of VARS) process.env[k] = root;
  // vitest tears down on SIGINT but simply dies of SIGTERM and SIGHUP (a CI timeout, a closed
  // terminal): the root is removed first, then the signal is raised again with its default action.
  const onSignal = (sig: NodeJS.Signals) => {
    fs.rmSync(root, { recursive: true, force: true });
    process.kill(process.pid, sig);
  };
  const SIGNALS = ['SIGTERM', 'SIGHUP'] as const;
  for (const sig of SIGNALS) process.once(sig, onSignal);
  return () => {
    for (const sig of SIGNALS) process.off(sig, onSignal);
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // Each test removes its own scratch directory: what is still here would have been left
    // in /tmp. It is removed all the same, and the run fails naming it.
    const left = fs.readdirSync(root).sort();
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    if (left.length > 0) {
      // (vitest prints an error thrown from here but still exits 0)
      console.error(`\nFAIL: tests left ${left.length} entries in the run's temporary directory ${root}: ${left.join(', ')}\n`);
      process.exitCode = 1;
    }
  };
}
