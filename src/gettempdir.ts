// gettempdir(): where temporary things go, found once and kept in tempfile.tempdir.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, KIND_FILE, FLAG_ALLOW_INSECURE } from './_binding';
import { settings } from './_settings';
import { systemError } from './_errors';
import { closeNativeFdSync } from './_close';

const isWindows = process.platform === 'win32';

function candidates(): string[] {
  const out: string[] = [];
  for (const v of ['TMPDIR', 'TEMP', 'TMP']) {
    const d = process.env[v];
    if (d) out.push(d);
  }
  if (process.platform === 'win32') {
    const { LOCALAPPDATA, APPDATA, SystemDrive } = process.env;
    if (LOCALAPPDATA) out.push(path.join(LOCALAPPDATA, 'Temp'));
    if (APPDATA) out.push(path.join(APPDATA, 'Temp'));
    const drive = SystemDrive || 'C:';
    out.push(`${drive}\\TEMP`, `${drive}\\TMP`, '\\TEMP', '\\TMP');
  } else {
    out.push('/tmp', '/var/tmp', '/usr/tmp');
  }
  try {
    out.push(process.cwd());
  } catch {
    // the working directory was removed: it simply is not a candidate
  }
  return out;
}

/** Usable = a file can really be created and removed there (Python's test). */
// Any failure: not usable; the next candidate is tried, and ENOENT lists them all if none is.
// The probe is removed whatever happened to it (as Python's finally does): a close() that
// failed, which releases the descriptor all the same, no longer skips the unlink, and a failed
// unlink is tried once more (test/faults: both left tmp…probe files in the directory).
function usable(dir: string): boolean {
  let fd: number;
  let name: string;
  try {
    [fd, name] = native.createSync(dir, 'tmp', '.probe', KIND_FILE, FLAG_ALLOW_INSECURE, 0o600, null);
  } catch (e) {
    // Only what the system said about this directory makes it unusable; anything else (no
    // addon for this platform: ERR_SECURETEMP_NO_BUILD) is the caller's to see.
    if (typeof e !== 'object' || e === null || !('syscall' in e)) throw e;
    return false;
  }
  let ok = true;
  try {
    fs.writeSync(fd, 'blat');
  } catch {
    ok = false;
  }
  try {
    closeNativeFdSync(fd);
  } catch {
    ok = false;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      fs.unlinkSync(path.join(dir, name));
      return ok;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || attempt === 1) return false;
    }
  }
}

/**
 * The candidate as it will be kept, or null when it is not one. On POSIX, the directory it leads
 * to now: every name made in it is handed out under this path and used by name afterwards, and
 * through a symbolic link (a hostile $TMPDIR through another user's link), whoever owns the link
 * or a directory on the way could repoint it after the policy check and send those uses into a
 * directory of their own (tenth outside review). A value with U+FFFD is what Node made of bytes
 * that are not UTF-8: not the directory meant, and one another user may have made beside it.
 * Windows keeps the path as given (its links need privileges to make; only Wine tests it here).
 */
function resolved(d: string): string | null {
  if (d.includes('\uFFFD')) return null;
  if (isWindows) return d;
  try {
    return fs.realpathSync(d);
  } catch {
    return null;
  }
}

/**
 * The directory used when no `dir` is given: `tempfile.tempdir` when set, otherwise the first
 * usable of $TMPDIR, $TEMP, $TMP, the platform's list and the working directory (stored in
 * `tempfile.tempdir`). Throws ENOENT when none is usable.
 */
export function gettempdir(): string {
  if (settings.tempdir !== null && settings.tempdir !== undefined) return settings.tempdir;
  const tried = candidates().map((d) => path.resolve(d));
  for (const d of tried) {
    const real = resolved(d);
    if (real !== null && usable(real)) {
      settings.tempdir = real;
      return real;
    }
  }
  throw systemError('ENOENT', 'gettempdir', tried[0] ?? '', `no usable temporary directory in ${JSON.stringify(tried)}`);
}
