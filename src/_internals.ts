// Switches for tests. Not part of the public API.
import { native } from './_binding';
export { setNameGenerator } from './_names';
export { adoptDir } from './tempdir';

export const internals = {
  /**
   * Force the create-then-unlink path for unnamed files, as on a system without O_TMPFILE
   * (writeFileAtomic: a named temp file with O_EXCL).
   */
  forceNoTmpfile: false,
  /** reopen() by path then device and inode, as off Linux, instead of through /proc/self/fd. */
  forceReopenByPath: false,
  /**
   * writeFileAtomic calls this with the temp file's descriptor once the data is written and
   * before the commit (fsync, link, rename): crash tests stop the process there.
   */
  beforeAtomicCommit: null as ((fd: number) => void | Promise<void>) | null,
  /** Every thread's pool of random bytes made stale: the next name drawn reads the OS CSPRNG (test/faults). */
  randomInvalidate: (): void => native.randomInvalidate(),
  /** True once the kernel was seen to lack O_TMPFILE (or the build has none). */
  tmpfileKnownUnsupported: (): boolean => native.tmpfileKnownUnsupported(),
  /**
   * True when the loaded addon was built with st_posix_portable=1: POSIX without the Linux
   * extras (no O_TMPFILE, getrandom, O_PATH, renameat2, /proc/self/fd), the path macOS and
   * the BSDs take. Tests assert that path's behaviour when it is set.
   */
  get portableBuild(): boolean {
    return native.PORTABLE === true;
  },
  /** Directory handles the process-wide table holds open (held and idle). */
  dirHandles: (): number => native.dirOpenCount(),
  /** Closes the idle directory handles (tests that count descriptors or unmount). */
  releaseIdleDirHandles: (): number => native.dirReleaseIdle(),
};
