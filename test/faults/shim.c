// Fault-injection shim for test/faults (LD_PRELOAD). Built by test/faults/run.mjs with gcc into
// the run's private directory; never installed, never shipped.
//
// It wraps the C library's file-system entry points (the ones Node's libuv and the addon call,
// from any thread: the main thread, libuv's thread pool, the addon's async workers). It does
// nothing until armed, and is armed and disarmed from JavaScript by a marker: access() on a path
// under /@@fault@@/ (fs.accessSync) is never passed to the kernel but read as a command:
//   /@@fault@@/trace                  log every call (one "name\n" line) to $FAULT_LOG
//   /@@fault@@/arm/NAME/K/ERRNO       the K-th call named NAME (1-based) fails with ERRNO
//                                     (0: a read or write is cut short instead)
//   /@@fault@@/pause, /@@fault@@/resume   stop counting for a while, then go on
//   /@@fault@@/off                    stop; the access() fails with ENOENT unless a fault fired
// NAME is the wrapper's neutral name (open64 and open are both "open", __fxstat64 is "fstat")
// plus "+c" when an open creates (O_CREAT or O_TMPFILE) and ":CMD" for fcntl. Calls on
// descriptors that are neither a regular file nor a directory (libuv's eventfd, pipes) are not
// counted, except descriptors 0-2 (the command line's output). A call chosen to fail is not
// made, except close/closedir, which close first and then fail, as Linux does (the descriptor is
// gone whatever close returns). In a forked child the shim is disarmed at once.
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif

#define MARK "/@@fault@@/"
#define ST_SHORT (-1)  // the ERRNO that means "cut short", not "fail"

static atomic_int g_mode;  // 0 off, 1 trace, 2 inject
static char g_name[64];
static long g_k;
static int g_errno;
static atomic_long g_count;
static atomic_int g_fired;
static int g_log = -1;

// The C library's syscall(), not this file's wrapper: the shim's own calls are never counted.
static long raw(long nr, long a, long b, long c, long d) {
  static long (*real)(long, ...);
  if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return real(nr, a, b, c, d);
}

static void log_line(const char* s) {
  if (g_log < 0) {  // (the constructor opens it; a forked child inherits it)
    const char* p = getenv("FAULT_LOG");
    if (!p) return;
    g_log = (int)raw(SYS_openat, AT_FDCWD, (long)p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (g_log < 0) return;
  }
  raw(SYS_write, g_log, (long)s, (long)strlen(s), 0);
}

static void child_after_fork(void) { atomic_store(&g_mode, 0); }
__attribute__((constructor)) static void shim_init(void) {
  pthread_atfork(NULL, NULL, child_after_fork);
  log_line("");  // the log is opened now, not by the first traced call (a descriptor the case did not open)
}

// 0: make the call; else the errno to fail it with.
static int gate(const char* name) {
  int m = atomic_load(&g_mode);
  if (m == 0) return 0;
  int saved = errno;
  int e = 0;
  if (m == 1) {
    char line[96];
    snprintf(line, sizeof line, "%s\n", name);
    log_line(line);
  } else if (strcmp(name, g_name) == 0) {
    long n = atomic_fetch_add(&g_count, 1) + 1;
    if (n == g_k) {
      atomic_store(&g_fired, 1);
      char line[128];
      snprintf(line, sizeof line, "FIRED %s %ld %d\n", name, n, g_errno);
      log_line(line);
      e = g_errno;
    }
  }
  errno = saved;
  return e;
}

// Is this descriptor one the operation works on (a file, a directory, stdio)?
static int fd_counted(int fd) {
  if (atomic_load(&g_mode) == 0) return 0;
  if (fd >= 0 && fd <= 2) return 1;
  struct stat st;
  if (raw(SYS_fstat, fd, (long)&st, 0, 0) != 0) return 1;  // a bad descriptor: still the operation's call
  return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}
static int gate_fd(const char* name, int fd) { return fd_counted(fd) ? gate(name) : 0; }
static int gate_at(const char* name, int dirfd) { return (dirfd == AT_FDCWD || fd_counted(dirfd)) ? gate(name) : 0; }

static int control(const char* cmd) {
  // the command reaches the kernel too (ENOENT), so strace -f shows where the window opens and
  // closes: the shim's trace can be checked against the kernel's view of the same calls
  char seen[160];
  snprintf(seen, sizeof seen, MARK "%s", cmd);
  raw(SYS_faccessat, AT_FDCWD, (long)seen, F_OK, 0);
  if (strcmp(cmd, "trace") == 0) {
    atomic_store(&g_fired, 0);
    atomic_store(&g_mode, 1);
    return 0;
  }
  // around work that is not the operation's (cli-arm.cjs: module loading): counting stops
  // and resumes where it was
  static atomic_int paused_mode;
  if (strcmp(cmd, "pause") == 0) {
    atomic_store(&paused_mode, atomic_exchange(&g_mode, 0));
    return 0;
  }
  if (strcmp(cmd, "resume") == 0) {
    atomic_store(&g_mode, atomic_load(&paused_mode));
    return 0;
  }
  if (strcmp(cmd, "off") == 0) {
    atomic_store(&g_mode, 0);
    if (atomic_load(&g_fired)) return 0;
    errno = ENOENT;
    return -1;
  }
  if (strncmp(cmd, "arm/", 4) == 0) {
    const char* s = cmd + 4;
    const char* slash = strchr(s, '/');
    if (slash && (size_t)(slash - s) < sizeof g_name) {
      memcpy(g_name, s, (size_t)(slash - s));
      g_name[slash - s] = 0;
      char* end;
      g_k = strtol(slash + 1, &end, 10);
      if (*end == '/') {
        g_errno = (int)strtol(end + 1, NULL, 10);
        if (g_errno == 0) g_errno = ST_SHORT;
        atomic_store(&g_count, 0);
        atomic_store(&g_fired, 0);
        atomic_store(&g_mode, 2);
        return 0;
      }
    }
  }
  errno = EINVAL;
  return -1;
}

#define REAL(ret, name, ...) \
  static ret (*real)(__VA_ARGS__); \
  if (!real) real = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)
#define FAIL(e) do { errno = (e); return -1; } while (0)

int access(const char* p, int mode) {
  REAL(int, "access", const char*, int);
  if (strncmp(p, MARK, sizeof MARK - 1) == 0) return control(p + sizeof MARK - 1);
  int e = gate("access"); if (e) FAIL(e);
  return real(p, mode);
}
int faccessat(int d, const char* p, int mode, int fl) {
  REAL(int, "faccessat", int, const char*, int, int);
  if (strncmp(p, MARK, sizeof MARK - 1) == 0) return control(p + sizeof MARK - 1);
  int e = gate_at("access", d); if (e) FAIL(e);
  return real(d, p, mode, fl);
}

// O_TMPFILE includes O_DIRECTORY's bit: a directory opened to read is not a creation.
static int creates(long flags) { return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE; }
static const char* open_name(int flags) { return creates(flags) ? "open+c" : "open"; }
#define OPEN_MODE(flags) \
  mode_t mode = 0; \
  if ((flags) & (O_CREAT | __O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, int); va_end(ap); }

int open(const char* p, int flags, ...) { OPEN_MODE(flags); REAL(int, "open", const char*, int, mode_t); int e = gate(open_name(flags)); if (e) FAIL(e); return real(p, flags, mode); }
int open64(const char* p, int flags, ...) { OPEN_MODE(flags); REAL(int, "open64", const char*, int, mode_t); int e = gate(open_name(flags)); if (e) FAIL(e); return real(p, flags, mode); }
int openat(int d, const char* p, int flags, ...) { OPEN_MODE(flags); REAL(int, "openat", int, const char*, int, mode_t); int e = gate_at(open_name(flags), d); if (e) FAIL(e); return real(d, p, flags, mode); }
int openat64(int d, const char* p, int flags, ...) { OPEN_MODE(flags); REAL(int, "openat64", int, const char*, int, mode_t); int e = gate_at(open_name(flags), d); if (e) FAIL(e); return real(d, p, flags, mode); }

#define FD_IO(ret, name, neutral, sig, args, fd) \
  ret name sig { REAL(ret, #name, ARGTYPES_##name); int e = gate_fd(neutral, fd); if (e == ST_SHORT) e = 0; if (e) FAIL(e); return real args; }
#define ARGTYPES_read int, void*, size_t
#define ARGTYPES_write int, const void*, size_t
#define ARGTYPES_pread int, void*, size_t, off_t
#define ARGTYPES_pread64 int, void*, size_t, off_t
#define ARGTYPES_pwrite int, const void*, size_t, off_t
#define ARGTYPES_pwrite64 int, const void*, size_t, off_t
#define ARGTYPES_readv int, const struct iovec*, int
#define ARGTYPES_writev int, const struct iovec*, int
#define ARGTYPES_preadv int, const struct iovec*, int, off_t
#define ARGTYPES_preadv64 int, const struct iovec*, int, off_t
#define ARGTYPES_pwritev int, const struct iovec*, int, off_t
#define ARGTYPES_pwritev64 int, const struct iovec*, int, off_t
#define ARGTYPES_fsync int
#define ARGTYPES_fdatasync int
#define ARGTYPES_ftruncate int, off_t
#define ARGTYPES_ftruncate64 int, off_t
#define ARGTYPES_fchmod int, mode_t
#define ARGTYPES_fchown int, uid_t, gid_t
#define ARGTYPES_fstat int, struct stat*
#define ARGTYPES_fstat64 int, struct stat64*
#define ARGTYPES_dup int

// read and write may also be cut short (ERRNO 0, "SHORT"): the call is made for half the
// bytes asked (at least one), as a full disk or a signal does before it says ENOSPC or EINTR.
#define SHORT_IO(ret, name, neutral, sig, args, fd) \
  ret name sig { REAL(ret, #name, ARGTYPES_##name); int e = gate_fd(neutral, fd); \
    if (e == ST_SHORT) { if (n > 1) n /= 2; return real args; } if (e) FAIL(e); return real args; }
SHORT_IO(ssize_t, read, "read", (int fd, void* b, size_t n), (fd, b, n), fd)
SHORT_IO(ssize_t, write, "write", (int fd, const void* b, size_t n), (fd, b, n), fd)
SHORT_IO(ssize_t, pread, "pread", (int fd, void* b, size_t n, off_t o), (fd, b, n, o), fd)
SHORT_IO(ssize_t, pread64, "pread", (int fd, void* b, size_t n, off_t o), (fd, b, n, o), fd)
SHORT_IO(ssize_t, pwrite, "pwrite", (int fd, const void* b, size_t n, off_t o), (fd, b, n, o), fd)
SHORT_IO(ssize_t, pwrite64, "pwrite", (int fd, const void* b, size_t n, off_t o), (fd, b, n, o), fd)
// The vectored forms, cut short: the first half of the bytes, in a copy of the vector.
static int short_iov(const struct iovec* v, int n, struct iovec* out) {
  size_t total = 0;
  for (int i = 0; i < n; i++) total += v[i].iov_len;
  size_t want = total > 1 ? total / 2 : total;
  int m = 0;
  for (int i = 0; i < n && m < 64 && want > 0; i++) {
    out[m] = v[i];
    if (out[m].iov_len > want) out[m].iov_len = want;
    want -= out[m].iov_len;
    m++;
  }
  return m;
}
#define SHORT_IOV(name, neutral, sig, args, shortargs) \
  ssize_t name sig { REAL(ssize_t, #name, ARGTYPES_##name); int e = gate_fd(neutral, fd); \
    if (e == ST_SHORT) { struct iovec w[64]; int m = short_iov(v, n, w); return real shortargs; } \
    return e ? (errno = e, -1) : real args; }
SHORT_IOV(readv, "read", (int fd, const struct iovec* v, int n), (fd, v, n), (fd, w, m))
SHORT_IOV(writev, "write", (int fd, const struct iovec* v, int n), (fd, v, n), (fd, w, m))
SHORT_IOV(preadv, "pread", (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o), (fd, w, m, o))
SHORT_IOV(preadv64, "pread", (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o), (fd, w, m, o))
SHORT_IOV(pwritev, "pwrite", (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o), (fd, w, m, o))
SHORT_IOV(pwritev64, "pwrite", (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o), (fd, w, m, o))
FD_IO(int, fsync, "fsync", (int fd), (fd), fd)
FD_IO(int, fdatasync, "fdatasync", (int fd), (fd), fd)
FD_IO(int, ftruncate, "ftruncate", (int fd, off_t n), (fd, n), fd)
FD_IO(int, ftruncate64, "ftruncate", (int fd, off_t n), (fd, n), fd)
FD_IO(int, fchmod, "fchmod", (int fd, mode_t m), (fd, m), fd)
FD_IO(int, fchown, "fchown", (int fd, uid_t u, gid_t g), (fd, u, g), fd)
FD_IO(int, fstat, "fstat", (int fd, struct stat* s), (fd, s), fd)
FD_IO(int, fstat64, "fstat", (int fd, struct stat64* s), (fd, s), fd)
FD_IO(int, dup, "dup", (int fd), (fd), fd)

int __fxstat64(int v, int fd, struct stat* s) { REAL(int, "__fxstat64", int, int, struct stat*); int e = gate_fd("fstat", fd); if (e) FAIL(e); return real(v, fd, s); }
int __xstat64(int v, const char* p, struct stat* s) { REAL(int, "__xstat64", int, const char*, struct stat*); int e = gate("stat"); if (e) FAIL(e); return real(v, p, s); }
int __lxstat64(int v, const char* p, struct stat* s) { REAL(int, "__lxstat64", int, const char*, struct stat*); int e = gate("lstat"); if (e) FAIL(e); return real(v, p, s); }
int __fxstatat64(int v, int d, const char* p, struct stat* s, int f) { REAL(int, "__fxstatat64", int, int, const char*, struct stat*, int); int e = gate_at("fstatat", d); if (e) FAIL(e); return real(v, d, p, s, f); }
int stat(const char* p, struct stat* s) { REAL(int, "stat", const char*, struct stat*); int e = gate("stat"); if (e) FAIL(e); return real(p, s); }
int stat64(const char* p, struct stat64* s) { REAL(int, "stat64", const char*, struct stat64*); int e = gate("stat"); if (e) FAIL(e); return real(p, s); }
int lstat(const char* p, struct stat* s) { REAL(int, "lstat", const char*, struct stat*); int e = gate("lstat"); if (e) FAIL(e); return real(p, s); }
int lstat64(const char* p, struct stat64* s) { REAL(int, "lstat64", const char*, struct stat64*); int e = gate("lstat"); if (e) FAIL(e); return real(p, s); }
int fstatat(int d, const char* p, struct stat* s, int f) { REAL(int, "fstatat", int, const char*, struct stat*, int); int e = gate_at("fstatat", d); if (e) FAIL(e); return real(d, p, s, f); }
int fstatat64(int d, const char* p, struct stat64* s, int f) { REAL(int, "fstatat64", int, const char*, struct stat64*, int); int e = gate_at("fstatat", d); if (e) FAIL(e); return real(d, p, s, f); }
int statx(int d, const char* p, int f, unsigned m, struct statx* s) { REAL(int, "statx", int, const char*, int, unsigned, struct statx*); int e = gate_at("statx", d); if (e) FAIL(e); return real(d, p, f, m, s); }

int unlink(const char* p) { REAL(int, "unlink", const char*); int e = gate("unlink"); if (e) FAIL(e); return real(p); }
int unlinkat(int d, const char* p, int f) { REAL(int, "unlinkat", int, const char*, int); int e = gate_at((f & AT_REMOVEDIR) ? "rmdir" : "unlink", d); if (e) FAIL(e); return real(d, p, f); }
int rmdir(const char* p) { REAL(int, "rmdir", const char*); int e = gate("rmdir"); if (e) FAIL(e); return real(p); }
int rename(const char* a, const char* b) { REAL(int, "rename", const char*, const char*); int e = gate("rename"); if (e) FAIL(e); return real(a, b); }
int renameat(int d1, const char* a, int d2, const char* b) { REAL(int, "renameat", int, const char*, int, const char*); int e = gate_at("rename", d1); if (e) FAIL(e); return real(d1, a, d2, b); }
int renameat2(int d1, const char* a, int d2, const char* b, unsigned f) { REAL(int, "renameat2", int, const char*, int, const char*, unsigned); int e = gate_at("rename", d1); if (e) FAIL(e); return real(d1, a, d2, b, f); }
int link(const char* a, const char* b) { REAL(int, "link", const char*, const char*); int e = gate("link"); if (e) FAIL(e); return real(a, b); }
int linkat(int d1, const char* a, int d2, const char* b, int f) { REAL(int, "linkat", int, const char*, int, const char*, int); int e = gate_at("link", d2); if (e) FAIL(e); return real(d1, a, d2, b, f); }
int mkdir(const char* p, mode_t m) { REAL(int, "mkdir", const char*, mode_t); int e = gate("mkdir"); if (e) FAIL(e); return real(p, m); }
int mkdirat(int d, const char* p, mode_t m) { REAL(int, "mkdirat", int, const char*, mode_t); int e = gate_at("mkdir", d); if (e) FAIL(e); return real(d, p, m); }
int fchmodat(int d, const char* p, mode_t m, int f) { REAL(int, "fchmodat", int, const char*, mode_t, int); int e = gate_at("fchmodat", d); if (e) FAIL(e); return real(d, p, m, f); }
int fchownat(int d, const char* p, uid_t u, gid_t g, int f) { REAL(int, "fchownat", int, const char*, uid_t, gid_t, int); int e = gate_at("fchownat", d); if (e) FAIL(e); return real(d, p, u, g, f); }
int dup2(int a, int b) { REAL(int, "dup2", int, int); int e = gate_fd("dup", a); if (e) FAIL(e); return real(a, b); }
int dup3(int a, int b, int f) { REAL(int, "dup3", int, int, int); int e = gate_fd("dup", a); if (e) FAIL(e); return real(a, b, f); }

int close(int fd) {
  REAL(int, "close", int);
  int e = gate_fd("close", fd);
  int r = real(fd);
  if (e) FAIL(e);
  return r;
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, va_list ap) {
  void* arg = va_arg(ap, void*);
  char name[32];
  snprintf(name, sizeof name, "fcntl:%d", cmd);
  int e = gate_fd(name, fd);
  if (e) FAIL(e);
  return real(fd, cmd, arg);
}
int fcntl(int fd, int cmd, ...) { REAL(int, "fcntl", int, int, ...); va_list ap; va_start(ap, cmd); int r = fcntl_common(real, fd, cmd, ap); va_end(ap); return r; }
int fcntl64(int fd, int cmd, ...) { REAL(int, "fcntl64", int, int, ...); va_list ap; va_start(ap, cmd); int r = fcntl_common(real, fd, cmd, ap); va_end(ap); return r; }

DIR* opendir(const char* p) { REAL(DIR*, "opendir", const char*); int e = gate("opendir"); if (e) { errno = e; return NULL; } return real(p); }
DIR* fdopendir(int fd) { REAL(DIR*, "fdopendir", int); int e = gate_fd("fdopendir", fd); if (e) { errno = e; return NULL; } return real(fd); }
struct dirent* readdir(DIR* d) { REAL(struct dirent*, "readdir", DIR*); int e = gate("readdir"); if (e) { errno = e; return NULL; } return real(d); }
struct dirent64* readdir64(DIR* d) { REAL(struct dirent64*, "readdir64", DIR*); int e = gate("readdir"); if (e) { errno = e; return NULL; } return real(d); }
int closedir(DIR* d) { REAL(int, "closedir", DIR*); int e = gate("closedir"); int r = real(d); if (e) FAIL(e); return r; }

ssize_t getrandom(void* b, size_t n, unsigned f) { REAL(ssize_t, "getrandom", void*, size_t, unsigned); int e = gate("getrandom"); if (e) FAIL(e); return real(b, n, f); }
int memfd_create(const char* n, unsigned f) { REAL(int, "memfd_create", const char*, unsigned); int e = gate("memfd_create"); if (e) FAIL(e); return real(n, f); }

struct st_open_how { unsigned long long flags, mode, resolve; };
long syscall(long nr, ...) {
  REAL(long, "syscall", long, ...);
  va_list ap;
  va_start(ap, nr);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long), f = va_arg(ap, long), g = va_arg(ap, long);
  va_end(ap);
  const char* name = NULL;
  int counted = 1;
  switch (nr) {
#ifdef SYS_openat2
    case SYS_openat2: name = creates((long)((const struct st_open_how*)c)->flags) ? "openat2+c" : "openat2"; counted = (int)a == AT_FDCWD || fd_counted((int)a); break;
#endif
#ifdef SYS_renameat2
    case SYS_renameat2: name = "rename"; counted = (int)a == AT_FDCWD || fd_counted((int)a); break;
#endif
#ifdef SYS_statx
    case SYS_statx: name = "statx"; counted = (int)a == AT_FDCWD || fd_counted((int)a); break;
#endif
#ifdef SYS_getrandom
    case SYS_getrandom: name = "getrandom"; break;
#endif
#ifdef SYS_memfd_create
    case SYS_memfd_create: name = "memfd_create"; break;
#endif
#ifdef SYS_copy_file_range
    case SYS_copy_file_range: name = "copy_file_range"; counted = fd_counted((int)a); break;
#endif
    case SYS_close: {
      int e = gate_fd("close", (int)a);
      long r = real(nr, a, b, c, d, f, g);
      if (e) FAIL(e);
      return r;
    }
    default:
      if (atomic_load(&g_mode) == 1) {  // tracing: name what else goes through syscall()
        char other[32];
        snprintf(other, sizeof other, "syscall:%ld", nr);
        name = other;
        gate(name);
        name = NULL;
      }
      break;
  }
  if (name && counted) {
    int e = gate(name);
    if (e) FAIL(e);
  }
  return real(nr, a, b, c, d, f, g);
}
