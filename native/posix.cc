// POSIX: Linux, macOS, the BSDs. Everything is created relative to one open
// handle of the target directory, so the directory cannot be swapped between
// the security check and the creation.
//
// Compile-time switch ST_POSIX_PORTABLE: build without the Linux extras
// (O_TMPFILE, getrandom), exercising on Linux the path macOS and the BSDs take.
#include "core.h"
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__linux__) && !defined(ST_POSIX_PORTABLE)
#include <sys/random.h>
#define ST_HAVE_GETRANDOM 1
#if defined(O_TMPFILE)
#define ST_HAVE_O_TMPFILE 1
#endif
#endif

#ifndef O_CLOEXEC
#error "securetemp needs O_CLOEXEC: descriptors must never leak into child processes"
#endif
#ifndef O_NOFOLLOW
#error "securetemp needs O_NOFOLLOW"
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

#include <atomic>

static std::atomic<int> g_tmpfile_unsupported{0};

int st_os_random(unsigned char* buf, size_t n) {
#if defined(ST_HAVE_GETRANDOM)
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(buf + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    got += (size_t)r;
  }
  return 0;
#else
  // macOS, the BSDs, glibc >= 2.36 and musl >= 1.1.24 (both in <stdlib.h>).
  arc4random_buf(buf, n);
  return 0;
#endif
}

const char* st_strerror(int err) { return strerror(-err); }

int st_tmpfile_known_unsupported(void) {
#if defined(ST_HAVE_O_TMPFILE)
  return g_tmpfile_unsupported.load(std::memory_order_relaxed);
#else
  return 1;
#endif
}

static int retry_eintr_open(int dirfd, const char* name, int flags, unsigned perms) {
  int fd;
  do {
    fd = openat(dirfd, name, flags, (mode_t)perms);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : fd;
}

static int create_file_step(st_create_req* req, const std::string& name, void* ctx) {
  int dirfd = *(int*)ctx;
  int fd = retry_eintr_open(dirfd, name.c_str(),
                            O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_RDWR, req->perms);
  if (fd < 0) {
    req->syscall = "open";
    req->err_name = name;
    return fd;
  }
  req->fd = fd;
  return 0;
}

static int create_dir_step(st_create_req* req, const std::string& name, void* ctx) {
  int dirfd = *(int*)ctx;
  if (mkdirat(dirfd, name.c_str(), (mode_t)req->perms) < 0) {
    req->syscall = "mkdir";
    req->err_name = name;
    return -errno;
  }
  return 0;
}

// Created with a name, then unlinked before anyone is handed the descriptor.
static int create_unlinked_step(st_create_req* req, const std::string& name, void* ctx) {
  int rc = create_file_step(req, name, ctx);
  if (rc < 0) return rc;
  if (unlinkat(*(int*)ctx, name.c_str(), 0) < 0) {
    rc = -errno;
    close(req->fd);
    req->fd = -1;
    req->syscall = "unlink";
    req->err_name = name;
    return rc == -EEXIST ? -EIO : rc;  // never mistaken for a collision
  }
  return 0;
}

#if defined(ST_HAVE_O_TMPFILE)
// 1 = created, 0 = not available here (fall back), <0 = a real error.
static int try_o_tmpfile(st_create_req* req, int dirfd) {
  if ((req->flags & ST_FLAG_NO_TMPFILE) || g_tmpfile_unsupported.load(std::memory_order_relaxed))
    return 0;
  int fd = retry_eintr_open(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, req->perms);
  if (fd >= 0) {
    req->fd = fd;
    req->used_tmpfile = 1;
    return 1;
  }
  switch (fd) {
    case -EISDIR:  // a kernel older than 3.11 reads O_TMPFILE as O_DIRECTORY
      g_tmpfile_unsupported.store(1, std::memory_order_relaxed);
      return 0;
    case -EOPNOTSUPP:  // this file system lacks it
    case -EINVAL:
    case -ENOENT:
      return 0;
    default:
      req->syscall = "open";
      req->err_name.clear();
      return fd;
  }
}
#endif

int st_create(st_create_req* req) {
  int dirfd = retry_eintr_open(AT_FDCWD, req->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dirfd < 0) {
    req->syscall = "open";
    req->err_name.clear();
    return dirfd;
  }
  int rc = 0;
  if (!(req->flags & ST_FLAG_ALLOW_INSECURE)) {
    struct stat st;
    if (fstat(dirfd, &st) < 0) {
      rc = -errno;
      req->syscall = "fstat";
    } else if (!S_ISDIR(st.st_mode)) {
      rc = -ENOTDIR;
      req->syscall = "open";
    } else if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
      rc = ST_EINSECURE;
      req->syscall = "fstat";
    }
    if (rc < 0) {
      req->err_name.clear();
      close(dirfd);
      return rc;
    }
  }
  switch (req->kind) {
    case ST_KIND_FILE:
      rc = st_retry(req, create_file_step, &dirfd);
      break;
    case ST_KIND_DIR:
      rc = st_retry(req, create_dir_step, &dirfd);
      break;
    case ST_KIND_UNNAMED:
#if defined(ST_HAVE_O_TMPFILE)
      rc = try_o_tmpfile(req, dirfd);
      if (rc == 1) {
        rc = 0;
        break;
      }
      if (rc < 0) break;
#endif
      rc = st_retry(req, create_unlinked_step, &dirfd);
      if (rc == 0) req->name.clear();  // it no longer has one
      break;
    default:
      rc = -EINVAL;
      req->syscall = "open";
  }
  close(dirfd);
  return rc;
}
