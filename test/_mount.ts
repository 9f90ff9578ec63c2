// A small tmpfs mounted by a test (ENOSPC, EXDEV). Needs root on Linux; CI runs as root, so a
// failure to mount fails the test loudly instead of skipping what it guards.
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Mounts a tmpfs of `size` at `dir` (created if missing); returns the function that unmounts it. */
export function mountTmpfs(dir: string, size = '1m'): () => void {
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `could not mount a tmpfs at ${dir} (${String(err.stderr ?? err.message).trim()}): this test needs root ` +
        'on Linux to create a file system it can fill or cross; CI runs as root',
    );
  }
  if (fs.statfsSync(dir).type !== 0x01021994) throw new Error(`${dir} is not a tmpfs after mounting one`);
  return () => {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // still busy: detach it now, free it when unused
    }
  };
}
