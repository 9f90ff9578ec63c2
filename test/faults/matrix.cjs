'use strict';
// EINTR goes to the calls whose manual pages list it (open, read, write, close, ftruncate,
// getrandom) and to fsync/fdatasync (network and FUSE file systems); a call that is retried by
// libuv or the addon must then complete as if nothing happened.
// Which errnos each kind of call is failed with, and which occurrences of a call are tried.
// This is a table of system-call kinds (the names the shim reports), not of operations: which
// calls an operation makes comes from tracing it (worker.cjs).
const IO = ['EIO'];
const OPEN = ['EIO', 'EMFILE', 'EACCES', 'EPERM', 'EINTR'];
const OPEN_CREATE = ['EIO', 'ENOSPC', 'EMFILE', 'EACCES', 'EPERM', 'EINTR'];
const ERRNOS = {
  open: OPEN, 'open+c': OPEN_CREATE, openat2: OPEN, 'openat2+c': OPEN_CREATE,
  opendir: ['EIO', 'EMFILE', 'EACCES', 'EINTR'],
  memfd_create: ['EMFILE', 'ENOSPC'],
  dup: ['EMFILE'], 'fcntl:0': ['EMFILE'], 'fcntl:1030': ['EMFILE'],  // F_DUPFD, F_DUPFD_CLOEXEC
  'fcntl:1033': ['EPERM'],  // F_ADD_SEALS
  fdopendir: ['ENOMEM'],
  // SHORT: the call transfers half the bytes asked, as a full disk or a signal does first
  read: ['EIO', 'EINTR', 'SHORT'], pread: ['EIO', 'EINTR', 'SHORT'], readdir: ['EIO'],
  write: ['EIO', 'ENOSPC', 'EINTR', 'SHORT'], pwrite: ['EIO', 'ENOSPC', 'EINTR', 'SHORT'], copy_file_range: ['EIO', 'ENOSPC', 'EINTR'],
  fsync: ['EIO', 'ENOSPC', 'EINTR'], fdatasync: ['EIO', 'ENOSPC', 'EINTR'],
  ftruncate: ['EIO', 'EPERM', 'EINTR'],
  close: ['EIO', 'EINTR'], closedir: ['EIO', 'EINTR'],
  fstat: IO, stat: ['EIO', 'EACCES'], lstat: ['EIO', 'EACCES'], fstatat: ['EIO', 'EACCES'], statx: ['EIO', 'EACCES'],
  access: ['EIO', 'EACCES'],
  unlink: ['EIO', 'EACCES', 'EPERM'], rmdir: ['EIO', 'EACCES', 'EPERM'],
  rename: ['EIO', 'ENOSPC', 'EACCES', 'EPERM'], link: ['EIO', 'ENOSPC', 'EACCES', 'EPERM'],
  mkdir: ['EIO', 'ENOSPC', 'EACCES', 'EPERM'],
  fchmod: ['EIO', 'EPERM'], fchmodat: ['EIO', 'EPERM'], fchown: ['EIO', 'EPERM'], fchownat: ['EIO', 'EPERM'],
  getrandom: ['EINTR'],
};
// Calls that cannot fail on a valid descriptor (F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GET_SEALS):
// traced and counted, never failed.
const NEVER_FAIL = new Set(['fcntl:1', 'fcntl:2', 'fcntl:3', 'fcntl:4', 'fcntl:1034']);
// Calls that name a path: their error must carry one.
const PATHFUL = new Set(['open', 'open+c', 'openat2', 'openat2+c', 'opendir', 'stat', 'lstat', 'fstatat', 'access',
  'unlink', 'rmdir', 'rename', 'link', 'mkdir', 'fchmodat', 'fchownat']);

/** The cases for one traced call sequence: [{name, k, errno}], plus names with no errno class. */
function buildCases(calls) {
  const occ = new Map();
  const seq = calls.map((n) => { const k = (occ.get(n) ?? 0) + 1; occ.set(n, k); return { n, k }; });
  const chosen = [];
  for (let i = 0; i < seq.length;) {
    let j = i;
    while (j < seq.length && seq[j].n === seq[i].n) j++;
    const len = j - i;
    // a long run of identical calls: the first, the second, one in the middle and the last
    const pick = len <= 4 ? [...Array(len).keys()] : [0, 1, Math.floor(len / 2), len - 1];
    for (const p of pick) chosen.push(seq[i + p]);
    i = j;
  }
  const cases = [];
  const unclassified = new Set();
  let neverFail = 0;
  for (const { n, k } of chosen) {
    if (n.startsWith('syscall:')) continue;  // not a file-system call
    if (NEVER_FAIL.has(n)) { neverFail++; continue; }
    const errnos = ERRNOS[n];
    if (!errnos) { unclassified.add(n); continue; }
    for (const errno of errnos) cases.push({ name: n, k, errno });
  }
  return { cases, unclassified: [...unclassified], neverFail };
}

module.exports = { buildCases, PATHFUL };
