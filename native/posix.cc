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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && !defined(ST_POSIX_PORTABLE)
#include <sys/random.h>
#define ST_HAVE_GETRANDOM 1
#if defined(O_TMPFILE)
#define ST_HAVE_O_TMPFILE 1
#endif
#include <sys/syscall.h>
#if defined(SYS_openat2) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define ST_HAVE_OPENAT2 1
#endif
#endif

// Memory-only files: memfd_create with sealing (Linux 3.17+, FreeBSD 13+), found at build.
#if (defined(__linux__) || defined(__FreeBSD__)) && !defined(ST_POSIX_PORTABLE)
#include <sys/mman.h>
#if defined(MFD_CLOEXEC) && defined(MFD_ALLOW_SEALING) && defined(F_ADD_SEALS) && defined(F_SEAL_WRITE)
#define ST_HAVE_MEMFD 1
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

// The directory handle creation works from: O_PATH where there is one (Linux), which
// is cheaper to open and needs no read permission (a 0300 directory still works).
#if defined(O_PATH) && !defined(ST_POSIX_PORTABLE)
#define ST_DIR_HANDLE_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC)
#else
#define ST_DIR_HANDLE_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#endif

#include <atomic>

static std::atomic<int> g_tmpfile_unsupported{0};

// A forked child must not reuse the parent's pooled random bytes (retry.cc).
[[maybe_unused]] static const int g_atfork_registered = pthread_atfork(nullptr, nullptr, st_random_invalidate);

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

static std::string JoinPathPosix(const std::string& dir, const std::string& name) {
  return !dir.empty() && dir.back() == '/' ? dir + name : dir + "/" + name;
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
  // A name that cannot be removed is a file left behind: an interrupted unlink is retried,
  // any other failure tried once more (test/faults: a one-off EIO or EACCES left an empty
  // file there) before it is reported, naming the file left.
  int tries = 0, urc;
  do {
    urc = unlinkat(*(int*)ctx, name.c_str(), 0);
  } while (urc < 0 && (errno == EINTR || ++tries < 2) && errno != ENOENT);
  if (urc < 0) {
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
// O_TMPFILE on `dirfd` + `path`: 1 = created, 0 = not available here (fall back),
// <0 = a real error.
static int try_o_tmpfile(st_create_req* req, int dirfd, const char* path) {
  if ((req->flags & ST_FLAG_NO_TMPFILE) || g_tmpfile_unsupported.load(std::memory_order_relaxed))
    return 0;
  int fd = retry_eintr_open(dirfd, path, O_TMPFILE | O_RDWR | O_CLOEXEC, req->perms);
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
    case -ENOENT:  // (also a missing directory: the general path reports that)
      return 0;
    default:
      req->syscall = "open";
      req->err_name.clear();
      return fd;
  }
}
#endif

// ---- a directory proven to be beneath a root (st_create_req::beneath) ----------
//
// The caller checked a path; between that check and an open by name, whoever owns a
// directory on the path can swap a component for a link out of the root. So `dir` is
// opened from a handle of the root, and the handle obtained is proven to be inside it:
// - openat2(RESOLVE_BENEATH) where the kernel has it (Linux 5.6): the kernel refuses a
//   resolution that leaves the root ('..' above it, an absolute link, a link out) with EXDEV.
// - elsewhere (and on ENOSYS) an openat that follows links, then a walk up '..' from the
//   handle obtained, comparing device and inode with the root's at each level, until the
//   root is met (inside) or the file system's top, whose '..' is itself (outside).
// Either proves that the directory we hold was inside the root when it was looked at; only
// someone with write access to its parent can move it afterwards, so a directory of
// another user outside (root's /etc) can never be the one created in.

#if defined(ST_HAVE_OPENAT2)
static std::atomic<int> g_openat2_unsupported{0};
#endif

// 0 when the directory `fd` refers to is `root` or below it, ST_EOUTSIDE when the walk up
// reaches the top without meeting it, or a negative errno (a level we may not search,
// a directory removed meanwhile, a path deeper than PATH_MAX).
static int walk_up_to(int fd, const struct stat& root) {
  struct stat cur;
  if (fstat(fd, &cur) < 0) return -errno;
  std::string up;
  for (;;) {
    if (cur.st_dev == root.st_dev && cur.st_ino == root.st_ino) return 0;
    // fstatat from the handle itself, one more '..' each level: no handle to open per level,
    // and only search permission needed (as for the open that got us here).
    up.append(up.empty() ? ".." : "/..");
    struct stat parent;
    if (fstatat(fd, up.c_str(), &parent, 0) < 0) return -errno;
    if (parent.st_dev == cur.st_dev && parent.st_ino == cur.st_ino) return ST_EOUTSIDE;  // the top
    cur = parent;
  }
}

// Opens req->dir (relative) from a handle of req->beneath: a handle (ST_DIR_HANDLE_FLAGS)
// or a negative error, with req->syscall set.
static int open_beneath(st_create_req* req) {
  req->syscall = "open";
  int root = retry_eintr_open(AT_FDCWD, req->beneath.c_str(), ST_DIR_HANDLE_FLAGS, 0);
  if (root < 0) return root;
  const char* rel = req->dir.empty() ? "." : req->dir.c_str();
  int fd = -ENOSYS;
#if defined(ST_HAVE_OPENAT2)
  if (!g_openat2_unsupported.load(std::memory_order_relaxed)) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = ST_DIR_HANDLE_FLAGS;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    // EAGAIN: a rename elsewhere raced the '..' check (the kernel asks for a retry).
    for (int i = 0; i < 64; i++) {
      long r = syscall(SYS_openat2, root, rel, &how, sizeof how);
      fd = r < 0 ? -errno : (int)r;
      if (fd != -EINTR && fd != -EAGAIN) break;
    }
    if (fd == -EXDEV) fd = ST_EOUTSIDE;
    if (fd == -ENOSYS) g_openat2_unsupported.store(1, std::memory_order_relaxed);
    // EPERM is what older container seccomp profiles answer for a system call they do not
    // know; opening a directory O_PATH has no EPERM of its own, and the walk below reports
    // whatever a real denial is.
    if (fd == -EPERM) fd = -ENOSYS;
  }
#endif
  if (fd == -ENOSYS) {
    fd = retry_eintr_open(root, rel, ST_DIR_HANDLE_FLAGS, 0);
    if (fd >= 0) {
      struct stat rs;
      int rc = fstat(root, &rs) < 0 ? -errno : walk_up_to(fd, rs);
      if (rc < 0) {
        req->syscall = rc == ST_EOUTSIDE ? "open" : "stat";
        close(fd);
        fd = rc;
      }
    }
  }
  close(root);
  return fd;
}


// ---- the directory handle table (core.h) ------------------------------------------

#include <map>
#include <mutex>
#include <unordered_map>

namespace {
struct dir_slot {
  int fd = -1;
  dev_t dev = 0;
  ino_t ino = 0;
  long refs = 0;
  unsigned long long used = 0;  // the table's clock when last acquired (least recently used goes first)
  std::string path;             // the path it was last opened or confirmed for
  bool own = false;             // a TemporaryDirectory's own handle: closed with its last holder
};
std::mutex g_dir_mu;
std::unordered_map<long long, dir_slot> g_dirs;
std::map<std::pair<dev_t, ino_t>, long long> g_dir_by_id;
std::unordered_map<std::string, long long> g_dir_by_path;
long long g_dir_next = 1;
unsigned long long g_dir_clock = 0;

// Under g_dir_mu: forgets entry `it` and closes its handle.
void dir_erase(std::unordered_map<long long, dir_slot>::iterator it) {
  g_dir_by_id.erase({it->second.dev, it->second.ino});
  auto p = g_dir_by_path.find(it->second.path);
  if (p != g_dir_by_path.end() && p->second == it->first) g_dir_by_path.erase(p);
  close(it->second.fd);
  g_dirs.erase(it);
}

// Under g_dir_mu: closes idle handles beyond `keep`, least recently used first.
int dir_trim(size_t keep) {
  int closed = 0;
  for (;;) {
    size_t idle = 0;
    auto oldest = g_dirs.end();
    for (auto it = g_dirs.begin(); it != g_dirs.end(); ++it) {
      if (it->second.refs > 0) continue;
      idle++;
      if (oldest == g_dirs.end() || it->second.used < oldest->second.used) oldest = it;
    }
    if (idle <= keep) return closed;
    dir_erase(oldest);
    closed++;
  }
}

// Under g_dir_mu: the handle for `fd`'s directory, registered (or, when the table already
// holds that directory, `fd` closed and the held one used), one reference taken.
long long dir_insert(int fd, const struct stat& st, const std::string& path) {
  long long id;
  auto known = g_dir_by_id.find({st.st_dev, st.st_ino});
  if (known != g_dir_by_id.end()) {
    close(fd);
    id = known->second;
  } else {
    id = g_dir_next++;
    dir_slot& d = g_dirs[id];
    d.fd = fd;
    d.dev = st.st_dev;
    d.ino = st.st_ino;
    g_dir_by_id[{st.st_dev, st.st_ino}] = id;
  }
  dir_slot& d = g_dirs[id];
  d.refs++;
  d.used = ++g_dir_clock;
  if (d.path != path) {
    auto p = g_dir_by_path.find(d.path);
    if (p != g_dir_by_path.end() && p->second == id) g_dir_by_path.erase(p);
    d.path = path;
  }
  g_dir_by_path[path] = id;
  dir_trim(ST_IDLE_HANDLES);
  return id;
}

// The descriptor of a held id (-1: unknown). The caller holds a reference, so it stays open.
int dir_fd(long long id) {
  std::lock_guard<std::mutex> lock(g_dir_mu);
  auto it = g_dirs.find(id);
  return it == g_dirs.end() ? -1 : it->second.fd;
}
}  // namespace

// An open that failed for want of descriptors is tried again once the idle handles are closed.
static int open_dir_retry(const char* path, int flags) {
  int fd = retry_eintr_open(AT_FDCWD, path, flags, 0);
  if ((fd == -EMFILE || fd == -ENFILE) && st_dir_release_idle() > 0) fd = retry_eintr_open(AT_FDCWD, path, flags, 0);
  return fd;
}

int st_dir_release(long long id) {
  std::lock_guard<std::mutex> lock(g_dir_mu);
  auto it = g_dirs.find(id);
  if (it == g_dirs.end() || it->second.refs <= 0) return -EBADF;
  if (--it->second.refs == 0) {
    // A TemporaryDirectory's own handle is never reused for creation: closed with its last
    // holder. (A removed parent's handle can never be reused either, since the stat of a path
    // never shows its device and inode again while we hold it; it waits for the trim.)
    if (it->second.own)
      dir_erase(it);
    else
      dir_trim(ST_IDLE_HANDLES);
  }
  return 0;
}

int st_dir_release_idle(void) {
  std::lock_guard<std::mutex> lock(g_dir_mu);
  return dir_trim(0);
}

int st_dir_open_count(void) {
  std::lock_guard<std::mutex> lock(g_dir_mu);
  return (int)g_dirs.size();
}

// A handle of the directory `path` leads to now, one reference taken (*id), and its stat
// (*st: the policy is checked on the directory creation goes through: the stat of the path
// when it shows the handle's device and inode, else the new handle's fstat). A handle already in the
// table for this path is reused when one stat of the path shows the same device and inode;
// else the path is opened (and a handle the table holds for that directory under another
// path is used instead of the new one). Negative errno with *syscall.
static int dir_acquire(const std::string& path, long long* id, int* fd, struct stat* st, const char** syscall) {
  struct stat ps;
  if (stat(path.c_str(), &ps) < 0) {
    *syscall = "open";  // what opening it would have said
    return -errno;
  }
  if (!S_ISDIR(ps.st_mode)) {
    *syscall = "open";
    return -ENOTDIR;
  }
  {
    std::lock_guard<std::mutex> lock(g_dir_mu);
    auto p = g_dir_by_path.find(path);
    if (p != g_dir_by_path.end()) {
      dir_slot& d = g_dirs[p->second];
      if (d.dev == ps.st_dev && d.ino == ps.st_ino) {
        d.refs++;
        d.used = ++g_dir_clock;
        *id = p->second;
        *fd = d.fd;
      }
    }
  }
  if (*fd >= 0) {
    // The stat of the path showed the device and inode of the handle: it is a stat of the very
    // directory the handle holds (the table keeps the handle open, so the inode cannot have been
    // reused), taken now, so its mode and owner serve the policy. An fstat of the handle would
    // read the same inode a moment later and close no window (the mode can change right after
    // either): one system call per creation less (issue 12: "one stat of the path").
    *st = ps;
    return 0;
  }
  int nfd = open_dir_retry(path.c_str(), ST_DIR_HANDLE_FLAGS);
  if (nfd < 0) {
    *syscall = "open";
    return nfd;
  }
  if (fstat(nfd, st) < 0) {
    *syscall = "fstat";
    int e = -errno;
    close(nfd);
    return e;
  }
  std::lock_guard<std::mutex> lock(g_dir_mu);
  *id = dir_insert(nfd, *st, path);
  *fd = g_dirs[*id].fd;
  return 0;
}

int st_unlink_at(long long handle, const std::string& name, int fd, const char** syscall) {
  int dirfd = dir_fd(handle);
  if (dirfd < 0) {
    *syscall = "unlink";
    return -EBADF;
  }
  struct stat ours, there;
  if (fstat(fd, &ours) < 0) {
    *syscall = "fstat";
    return -errno;
  }
  if (fstatat(dirfd, name.c_str(), &there, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return 0;  // already gone
    *syscall = "stat";
    return -errno;
  }
  if (there.st_dev != ours.st_dev || there.st_ino != ours.st_ino) return 0;  // not ours any more
  if (unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT) {
    *syscall = "unlink";
    return -errno;
  }
  return 0;
}

int st_reopen_at(long long handle, const std::string& name, int fd, const char** syscall) {
  int dirfd = dir_fd(handle);
  *syscall = "open";
  if (dirfd < 0) return -EBADF;
  struct stat ours, got;
  if (fstat(fd, &ours) < 0) {
    *syscall = "fstat";
    return -errno;
  }
  int nfd = retry_eintr_open(dirfd, name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
  if (nfd == -ELOOP) return ST_EREPLACED;  // a link where ours was
  if (nfd < 0) return nfd;
  if (fstat(nfd, &got) < 0) {  // the system's failure, not a replacement (test/faults)
    int e = -errno;
    close(nfd);
    *syscall = "fstat";
    return e;
  }
  if (got.st_dev != ours.st_dev || got.st_ino != ours.st_ino) {
    close(nfd);
    return ST_EREPLACED;
  }
  return nfd;
}

// The directory policy, one for every creator (TemporaryFile included): a directory is
// trusted when nobody but its owner can add or remove entries (not group- or world-writable),
// or when it is sticky and owned by root or by us. Else ST_EINSECURE, the reason in req.
static int dir_policy(const struct stat& st, st_create_req* req) {
  if (!(st.st_mode & (S_IWGRP | S_IWOTH))) return 0;
  if (st.st_mode & S_ISVTX) {
    if (st.st_uid == 0 || st.st_uid == geteuid()) return 0;
    req->insecure = ST_INSECURE_STICKY;
    req->insecure_uid = (unsigned long)st.st_uid;
  } else {
    req->insecure = (st.st_mode & S_IWOTH) ? ST_INSECURE_WORLD : ST_INSECURE_GROUP;
  }
  return ST_EINSECURE;
}

int st_create(st_create_req* req) {
  const bool beneath = !req->beneath.empty();
#if defined(ST_HAVE_O_TMPFILE)
  // A file that never has a name needs no directory handle: nobody can rename,
  // replace or unlink what has no name, so there is no race to close. The directory
  // policy still applies (the same answer on every platform), from a stat of the path:
  // with no name to attack, which directory the verdict came from cannot be exploited.
  // (Not with `beneath`: where it is made must be proven first.)
  if (req->kind == ST_KIND_UNNAMED && !beneath && !(req->flags & ST_FLAG_NO_TMPFILE) &&
      !g_tmpfile_unsupported.load(std::memory_order_relaxed)) {
    if (!(req->flags & ST_FLAG_ALLOW_INSECURE)) {
      struct stat st;
      int rc = 0;
      if (stat(req->dir.c_str(), &st) < 0) {
        rc = -errno;
        req->syscall = "stat";
      } else if (!S_ISDIR(st.st_mode)) {
        rc = -ENOTDIR;
        req->syscall = "open";
      } else if ((rc = dir_policy(st, req)) < 0) {
        req->syscall = "stat";
      }
      if (rc < 0) {
        req->err_name.clear();
        return rc;
      }
    }
    int rc = try_o_tmpfile(req, AT_FDCWD, req->dir.c_str());
    if (rc == 1) return 0;
    if (rc < 0) return rc;
    req->flags |= ST_FLAG_NO_TMPFILE;  // the general path below falls back directly
  }
#endif
  // Not `beneath`: a handle from the table (the stat showing it is the policy's). With `beneath`:
  // a handle of its own, proven inside the root, closed at the end.
  long long id = 0;
  int dirfd = -1;
  struct stat dst;
  int rc = 0;
  if (beneath) {
    dirfd = open_beneath(req);
    if (dirfd >= 0 && fstat(dirfd, &dst) < 0) {
      rc = -errno;
      req->syscall = "fstat";
      close(dirfd);
      dirfd = rc;
    }
  } else {
    rc = dir_acquire(req->dir, &id, &dirfd, &dst, &req->syscall);
    if (rc < 0) dirfd = rc;
  }
  if (dirfd < 0) {
    req->err_name.clear();
    return dirfd;
  }
  // Gives back what this call took: the table's reference, or the handle of its own.
  auto done = [&](int r) {
    if (beneath)
      close(dirfd);
    else if (r < 0 || !(req->flags & ST_FLAG_HOLD) || req->kind == ST_KIND_UNNAMED)
      st_dir_release(id);
    else
      req->handle = id;
    return r;
  };
  if (!S_ISDIR(dst.st_mode)) {
    req->syscall = "open";
    req->err_name.clear();
    return done(-ENOTDIR);
  }
  if (!(req->flags & ST_FLAG_ALLOW_INSECURE) && (rc = dir_policy(dst, req)) < 0) {
    req->syscall = "fstat";
    req->err_name.clear();
    return done(rc);
  }
  switch (req->kind) {
    case ST_KIND_FILE:
      rc = st_retry(req, create_file_step, &dirfd);
      break;
    case ST_KIND_DIR:
      rc = st_retry(req, create_dir_step, &dirfd);
      if (rc == 0 && !beneath && (req->flags & ST_FLAG_HOLD)) {
        // Its own handle, for its removal: opened from the one it was made through, never
        // through a link, and registered like any directory handle.
        int own = retry_eintr_open(dirfd, req->name.c_str(), ST_DIR_HANDLE_FLAGS | O_NOFOLLOW, 0);
        struct stat ost;
        if (own == -EACCES) {
          // Without O_PATH (macOS, the BSDs, the portable build) a directory made without owner
          // read permission (permissions 0o300, a 0777 umask) cannot be opened: it is made all
          // the same, with no handle of its own, and removed by path like before (TypeScript
          // sees own_handle 0 and gives the parent's handle back).
        } else if (own >= 0 && fstat(own, &ost) == 0) {
          std::lock_guard<std::mutex> lock(g_dir_mu);
          req->own_handle = dir_insert(own, ost, JoinPathPosix(req->dir, req->name));
          g_dirs[req->own_handle].own = true;
        } else {
          rc = own < 0 ? own : -errno;
          req->syscall = "open";
          req->err_name = req->name;
          if (own >= 0) close(own);
          unlinkat(dirfd, req->name.c_str(), AT_REMOVEDIR);  // nothing half-made is handed back
        }
      }
      if (rc == 0 && beneath) {
        // Its identity, from the proven handle: the caller's later removal by path can
        // check that the path still leads to it.
        struct stat st;
        if (fstatat(dirfd, req->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
          req->has_id = 1;
          req->id_dev = (unsigned long long)st.st_dev;
          req->id_ino = (unsigned long long)st.st_ino;
        }
      }
      break;
    case ST_KIND_UNNAMED:
#if defined(ST_HAVE_O_TMPFILE)
      rc = try_o_tmpfile(req, dirfd, ".");
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
  return done(rc);
}

// ---- tree removal ------------------------------------------------------------
//
// An iterative walk with its own stack on the heap, never one C frame per level: a tree
// of any depth is removed, or reported with an fs-style error, never a crash. A level of
// the stack is a directory being emptied: its handle, the names it had when it was read
// (one reading, removals after), the next of them, and the state of its own removal (an
// entry of the level below it; the root's entry is in the root's parent).
//
// Handles are held for the deepest kHeldLevels levels only, so a tree of any depth needs
// about kHeldLevels + 3 descriptors. A level further down the stack is closed (its
// device and inode recorded first) and opened again, when the walk comes back to it,
// through ".." of the level above it: refused unless it is the same directory (device and
// inode). A directory moved away meanwhile (out of the tree) is thus never followed
// upwards: the walk stops there and reports EAGAIN, and nothing outside the tree is
// touched. Trees less deep than kHeldLevels never use "..".
//
// No path is built while walking: the path of a failure is put together from the
// stack's names when it is reported (shortened for very deep trees).

#include <dirent.h>

static const size_t kHeldLevels = 64;
// A failure's path longer than this keeps the tree's root, "…" and the last names.
static const size_t kErrPathMax = 4096;

typedef std::vector<std::pair<std::string, bool>> rm_names;  // name, known to be a directory

// The removal of one entry: a loop of attempts, resumable after its contents are gone.
struct rm_entry {
  std::string name;
  bool known_dir = false;  // readdir's d_type says directory
  bool emptied = false;    // it was opened and emptied: its rmdir is next
  int attempt = 0, fixed_parent = 0, fixed_child = 0, refills = 0, errors_before = 0;
  // A TemporaryDirectory's own root (st_remove_tree_at): the name is acted on only while it
  // leads to this directory (device and inode); never unlinked as a file.
  bool pinned = false;
  dev_t dev = 0;
  ino_t ino = 0;
};

// A pinned entry's name still leads to it: 1, 0 (gone, or another object now), or -errno.
static int pinned_is_ours(int dirfd, const rm_entry* e) {
  struct stat st;
  if (fstatat(dirfd, e->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : -errno;
  return st.st_dev == e->dev && st.st_ino == e->ino ? 1 : 0;
}

struct rm_level {
  int fd = -1;  // the directory's handle; -1 while closed (kHeldLevels above it are open)
  dev_t dev = 0;
  ino_t ino = 0;
  rm_names names;
  size_t next = 0;
  rm_entry self;  // this directory's removal, from the level below
};

struct rm_walk {
  st_remove_req* req;
  std::string top;  // the root's parent ("" for "/")
  std::vector<rm_level> levels;
};

static void record_path(st_remove_req* req, int err, const char* syscall, const std::string& path) {
  if (req->errors++ == 0) {
    req->first_err = err;
    req->syscall = syscall;
    req->err_path = path;
  }
}

// Records a failure on `name` (or, without one, on the directory itself) in the directory
// of level n-1 (n == 0: the root's parent).
static void record(rm_walk& w, int err, const char* syscall, size_t n, const char* name) {
  st_remove_req* req = w.req;
  if (req->errors++ != 0) return;
  req->first_err = err;
  req->syscall = syscall;
  std::string& p = req->err_path;
  size_t total = w.top.size() + (name ? 1 + strlen(name) : 0);
  for (size_t i = 0; i < n; i++) total += 1 + w.levels[i].self.name.size();
  p = w.top;
  if (total <= kErrPathMax || n < 2) {
    for (size_t i = 0; i < n; i++) p.append("/").append(w.levels[i].self.name);
    if (name) p.append("/").append(name);
    if (n == 0 && !name) p = w.top.empty() ? "/" : w.top;
    return;
  }
  // The tree's root, then as many of the last names as fit.
  p.append("/").append(w.levels[0].self.name).append("/\xE2\x80\xA6");  // U+2026
  std::vector<const std::string*> tail;
  std::string last = name ? std::string(name) : std::string();
  size_t len = p.size() + (name ? 1 + last.size() : 0);
  for (size_t i = n; i-- > 1;) {
    const std::string& s = w.levels[i].self.name;
    if (len + 1 + s.size() > kErrPathMax && (!tail.empty() || name)) break;
    len += 1 + s.size();
    tail.push_back(&s);
  }
  for (size_t i = tail.size(); i-- > 0;) p.append("/").append(*tail[i]);
  if (name) p.append("/").append(last);
}

// ENOMEM from the kernel is passing here (seen on a VM whose host reclaims its memory, and
// under a memory cgroup at its limit): the walk waits a little and tries the same call again,
// up to 8 times (about a quarter of a second), before it reports it. A walk waits 16 times in
// all at most: an ENOMEM that lasts fails each later call at once. EINTR: again at once.
static thread_local int rm_waits_left = 0;

static bool rm_again(int err, int* tries) {
  if (err == EINTR) return true;
  if (err != ENOMEM || *tries >= 8 || rm_waits_left <= 0) return false;
  rm_waits_left--;
  struct timespec ts = {0, 1000000L << (*tries)++};
  nanosleep(&ts, nullptr);
  return true;
}

static int rm_open(int dirfd, const char* name, int flags) {
  int tries = 0, fd;
  while ((fd = openat(dirfd, name, flags, 0)) < 0 && rm_again(errno, &tries)) {
  }
  return fd < 0 ? -errno : fd;
}

static int rm_unlinkat(int dirfd, const char* name, int flags) {
  int tries = 0, rc;
  while ((rc = unlinkat(dirfd, name, flags)) < 0 && rm_again(errno, &tries)) {
  }
  return rc;
}

static int read_names_once(int fd, rm_names* names, const char** syscall);

// The names in `fd` (an open directory, kept by the caller), from its start.
static int read_names(int fd, rm_names* names, const char** syscall) {
  int tries = 0, rc;
  while ((rc = read_names_once(fd, names, syscall)) < 0 && rm_again(-rc, &tries)) {
  }
  return rc;
}

static int read_names_once(int fd, rm_names* names, const char** syscall) {
  names->clear();
  // F_DUPFD_CLOEXEC, not dup(): dup() clears close-on-exec, and a child process spawned
  // by another thread while this directory is read would inherit the descriptor.
  int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dfd < 0) {
    *syscall = "fcntl";
    return -errno;
  }
  DIR* d = fdopendir(dfd);
  if (!d) {
    int e = errno;
    close(dfd);
    *syscall = "opendir";
    return -e;
  }
  rewinddir(d);  // the dup shares the offset of an earlier reading
  errno = 0;
  while (struct dirent* e = readdir(d)) {
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
#ifdef DT_DIR
    names->emplace_back(n, e->d_type == DT_DIR);
#else
    names->emplace_back(n, false);
#endif
  }
  int rerr = errno;
  closedir(d);
  if (rerr) {
    *syscall = "scandir";
    return -rerr;
  }
  return 0;
}

// The directory we remove from is not writable for us: give it back owner rwx, through
// its handle (never a path). True when that worked.
static bool give_owner_rwx(int dirfd) {
  struct stat st;
  return fstat(dirfd, &st) == 0 && fchmod(dirfd, (st.st_mode & 07777) | S_IRWXU) == 0;
}

static int is_dir_at(int dirfd, const char* name) {
  struct stat st;
  return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

// Gives the directory `name` in `dirfd`, which we may not open to read, owner rwx. Linux: it
// is opened O_PATH (no read permission needed) with O_NOFOLLOW|O_DIRECTORY and changed through
// that handle, so an entry swapped in between for a link, or for a hard link to a file, is
// never changed (ELOOP, ENOTDIR). Elsewhere, and without /proc: by name, which never follows a
// symbolic link but would change a file hard-linked there in between.
static int chmod_dir_at(int dirfd, const char* name) {
#if defined(O_PATH) && !defined(ST_POSIX_PORTABLE)
  int fd = rm_open(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fd;
  char proc[48];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int rc = chmod(proc, S_IRWXU) == 0 ? 0 : -errno;
  close(fd);
  if (rc != -ENOENT) return rc;  // ENOENT: no /proc
#endif
  return fchmodat(dirfd, name, S_IRWXU, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

// Removes `e` from `dirfd`, the directory of the top level (the root's parent when there is
// none): a file or link is unlinked (a link is never followed), a directory is opened
// O_NOFOLLOW and handed back to be emptied (false, *child = its handle), then, when called
// again with e->emptied, removed. True when done (failures recorded). The permissions of
// `dirfd` may be widened only when it is inside the tree (e->fixed_parent starts at 1 for
// the root, whose parent is not ours to change).
static bool entry_step(rm_walk& w, int dirfd, rm_entry* e, int* child) {
  st_remove_req* req = w.req;
  const size_t n = w.levels.size();
  const char* name = e->name.c_str();
  if (e->emptied) {
    e->emptied = false;
    if (e->pinned) {
      int ours = pinned_is_ours(dirfd, e);
      if (ours < 0) record(w, ours, "stat", n, name);
      if (ours <= 0) return true;  // moved away or replaced: emptied, left where it is
    }
    if (rm_unlinkat(dirfd, name, AT_REMOVEDIR) == 0) return true;
    int err = errno;
    if (err == ENOENT) return true;
    // ENOTDIR: swapped after we emptied it. Entries appeared while we worked (not ones
    // that failed: those are reported once).
    bool again = err == ENOTDIR || ((err == ENOTEMPTY || err == EEXIST) &&
                                    req->errors == e->errors_before && e->refills++ < 2);
    if (!again && err == EACCES && !e->fixed_parent) {
      e->fixed_parent = 1;
      again = give_owner_rwx(dirfd);
    }
    if (!again) {
      record(w, -err, "rmdir", n, name);
      return true;
    }
    e->attempt++;
  }
  for (; e->attempt < 8; e->attempt++) {
    int err = EISDIR;
    // A directory (as readdir's d_type says) skips the unlink that would fail; if it was
    // swapped for something else since, opening it O_DIRECTORY|O_NOFOLLOW fails and we
    // come back here without the hint.
    if (!e->pinned && (!e->known_dir || e->attempt > 0)) {
      if (rm_unlinkat(dirfd, name, 0) == 0) return true;
      err = errno;
    }
    if (err == ENOENT) return true;
    // Linux says EISDIR for a directory; POSIX (macOS) says EPERM; a parent we may not
    // write says EACCES first, but a directory is still worth emptying.
    bool dir = err == EISDIR || ((err == EPERM || err == EACCES) && is_dir_at(dirfd, name));
    if (!dir) {
      if (err == EACCES && !e->fixed_parent) {
        e->fixed_parent = 1;
        if (give_owner_rwx(dirfd)) continue;
      }
      record(w, -err, "unlink", n, name);
      return true;
    }
    int fd = rm_open(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (e->pinned) {
      // Refilled while it was emptied: opened again by name, kept only if it is ours.
      struct stat st;
      if (fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR) return true;
      if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != e->dev || st.st_ino != e->ino)) {
        close(fd);
        return true;
      }
    }
    if (fd < 0) {
      err = -fd;
      if (err == ENOENT) return true;
      if (err == ELOOP || err == ENOTDIR) continue;  // swapped for a link or file: unlink that
      if (err == EACCES && !e->fixed_child) {
        // A directory we may not read (e.g. 0000): owner rwx, never through a link.
        e->fixed_child = 1;
        int rc = chmod_dir_at(dirfd, name);
        if (rc == 0 || rc == -ELOOP || rc == -ENOTDIR) continue;  // swapped: unlink what is there now
        err = rc == -EOPNOTSUPP ? EACCES : -rc;  // it became a symlink: report the denial
      }
      record(w, -err, "open", n, name);
      return true;
    }
    e->emptied = true;
    e->errors_before = req->errors;
    *child = fd;
    return false;
  }
  record(w, -EAGAIN, "unlink", n, name);  // kept changing under us
  return true;
}

// A new top level for the directory `fd`; the level kHeldLevels below it is closed, its
// device and inode kept for when the walk comes back to it.
static void push_level(rm_walk& w, int fd, rm_entry* self) {
  w.levels.emplace_back();
  w.levels.back().fd = fd;
  w.levels.back().self = std::move(*self);
  const size_t n = w.levels.size();
  if (n > kHeldLevels) {
    rm_level& old = w.levels[n - 1 - kHeldLevels];
    struct stat st;
    if (old.fd >= 0 && fstat(old.fd, &st) == 0) {
      old.dev = st.st_dev;
      old.ino = st.st_ino;
      close(old.fd);
      old.fd = -1;
    }
  }
}

// The top level is done: the level below it gets its handle back if it was closed, through
// ".." of the top level's, and only if that is the directory it was. False when not (a
// directory moved, or removed, meanwhile): recorded.
static bool reopen_below(rm_walk& w) {
  const size_t n = w.levels.size();
  if (n < 2 || w.levels[n - 2].fd >= 0) return true;
  rm_level& below = w.levels[n - 2];
  int fd = rm_open(w.levels[n - 1].fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int err = fd < 0 ? fd : 0;
  if (fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) < 0)
      err = -errno;
    else if (st.st_dev != below.dev || st.st_ino != below.ino)
      err = -EAGAIN;  // not the directory it was: never followed
    if (err < 0) close(fd);
  }
  if (err == -ENOENT) err = -EAGAIN;  // the directory we were in was removed meanwhile
  if (err < 0) {
    record(w, err, "open", n - 1, nullptr);
    return false;
  }
  below.fd = fd;
  return true;
}

// `first`: the root already opened (its handle, its entry marked emptied): its contents are
// walked from it, and its own rmdir comes last, as for any directory.
static void remove_walk(rm_walk& w, int pfd, rm_entry cur, int first = -1) {
  rm_waits_left = 16;
  for (;;) {
    int child = -1;
    int dirfd = w.levels.empty() ? pfd : w.levels.back().fd;
    bool opened = first >= 0;
    if (opened) {
      child = first;
      first = -1;
    }
    if (opened || !entry_step(w, dirfd, &cur, &child)) {
      push_level(w, child, &cur);
      const char* syscall = "";
      int rc = read_names(child, &w.levels.back().names, &syscall);
      if (rc < 0) record(w, rc, syscall, w.levels.size(), nullptr);
    } else if (w.levels.empty()) {
      return;  // the root's removal is done
    }
    // The next entry of the top level; a level that has none left goes back to its rmdir.
    for (;;) {
      rm_level& top = w.levels.back();
      if (top.next < top.names.size()) {
        cur = rm_entry();
        cur.name.swap(top.names[top.next].first);
        cur.known_dir = top.names[top.next].second;
        top.next++;
        break;
      }
      bool ok = reopen_below(w);
      close(top.fd);
      cur = std::move(top.self);
      w.levels.pop_back();
      if (ok) break;
      // The walk cannot go back down from here: the closed levels are given up, up to one
      // still held, whose next entry follows (none: the walk ends, the failure recorded).
      while (!w.levels.empty() && w.levels.back().fd < 0) w.levels.pop_back();
      if (w.levels.empty()) return;
    }
  }
}

int st_remove_tree(st_remove_req* req) {
  std::string parent = req->path, base;
  while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
  size_t slash = parent.rfind('/');
  if (slash == std::string::npos || slash + 1 >= parent.size()) {
    record_path(req, -EINVAL, "rmdir", req->path);
    return req->first_err;
  }
  base = parent.substr(slash + 1);
  if (base == "." || base == "..") {  // never "the directory above"
    record_path(req, -EINVAL, "rmdir", req->path);
    return req->first_err;
  }
  parent = slash == 0 ? "/" : parent.substr(0, slash);
  int pfd = retry_eintr_open(AT_FDCWD, parent.c_str(), ST_DIR_HANDLE_FLAGS, 0);
  if (pfd < 0) {
    if (pfd != -ENOENT) record_path(req, pfd, "open", parent);
    return req->first_err;
  }
  rm_walk w;
  w.req = req;
  w.top = slash == 0 ? "" : parent;
  rm_entry root;
  root.name = base;
  root.fixed_parent = 1;  // the directory the tree is in is not ours to change
  remove_walk(w, pfd, std::move(root));
  for (const rm_level& l : w.levels)
    if (l.fd >= 0) close(l.fd);
  close(pfd);
  return req->first_err;
}

int st_remove_tree_at(st_remove_req* req) {
  int pfd = dir_fd(req->parent), own = dir_fd(req->own);
  if (pfd < 0 || own < 0) {
    record_path(req, -EBADF, "open", req->path);
    return req->first_err;
  }
  struct stat ost;
  if (fstat(own, &ost) < 0) {
    record_path(req, -errno, "fstat", req->path);
    return req->first_err;
  }
  // A handle we may read, of the directory itself ("." from its own handle: no path). One
  // we may not read (0000, not root) is given owner rwx through its handle first.
  int rd = retry_eintr_open(own, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (rd == -EACCES) {
    int ch = fchmod(own, (ost.st_mode & 07777) | S_IRWXU) == 0 ? 0 : -errno;
#if defined(O_PATH) && !defined(ST_POSIX_PORTABLE)
    if (ch == -EBADF) {  // an O_PATH handle: through /proc/self/fd, which is the handle itself
      char proc[48];
      snprintf(proc, sizeof proc, "/proc/self/fd/%d", own);
      ch = chmod(proc, (ost.st_mode & 07777) | S_IRWXU) == 0 ? 0 : -errno;
    }
#endif
    if (ch == 0) rd = retry_eintr_open(own, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  }
  if (rd < 0) {
    record_path(req, rd, "open", req->path);
    return req->first_err;
  }
  std::string parent = req->path;
  while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
  size_t slash = parent.rfind('/');
  rm_walk w;
  w.req = req;
  w.top = slash == std::string::npos || slash == 0 ? "" : parent.substr(0, slash);
  rm_entry root;
  root.name = req->name;
  root.fixed_parent = 1;  // the directory the tree is in is not ours to change
  root.pinned = true;
  root.dev = ost.st_dev;
  root.ino = ost.st_ino;
  root.emptied = true;
  remove_walk(w, pfd, std::move(root), rd);
  for (const rm_level& l : w.levels)
    if (l.fd >= 0) close(l.fd);
  return req->first_err;
}

// ---- persist and atomic replacement ------------------------------------------

#include <stdio.h>  // snprintf; renamex_np on macOS

#if defined(__linux__) && !defined(ST_POSIX_PORTABLE)
#include <sys/syscall.h>
#define ST_HAVE_LINK_FD 1  // linkat from a descriptor (AT_EMPTY_PATH, /proc/self/fd)
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#endif

const int ST_ATOMIC_CLOSES_FD = 1;

static std::string join_name(const std::string& dir, const std::string& name) {
  if (name.empty()) return dir;
  return !dir.empty() && dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Gives the open file `fd` the name `name` in `dirfd`. Only an O_TMPFILE file or a
// file that still has a name can be linked again; a file unlinked after creation
// cannot (the kernel refuses to resurrect it).
static int link_fd_at(int fd, int dirfd, const char* name) {
#if defined(ST_HAVE_LINK_FD)
  if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0) return 0;
  int e = errno;
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH: ENOENT without it (EPERM, EINVAL on
  // older kernels). /proc/self/fd/N followed as a link does the same for anyone.
  if (e != ENOENT && e != EPERM && e != EINVAL) return -e;
  char proc[48];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0) return 0;
  e = errno;
  if (e == ENOENT) {
    // The directory is open and /proc is there: the file itself cannot be linked.
    struct stat st;
    if (access(proc, F_OK) == 0 && fstat(fd, &st) == 0 && st.st_nlink == 0) return ST_ENOTLINKABLE;
  }
  return -e;
#else
  (void)fd;
  (void)dirfd;
  (void)name;
  return ST_ENOTLINKABLE;  // macOS and the BSDs have no way to name an unlinked file
#endif
}

struct link_ctx {
  int fd;
  int dirfd;
};

static int link_step(st_create_req* req, const std::string& name, void* ctx) {
  const link_ctx* c = static_cast<const link_ctx*>(ctx);
  int rc = link_fd_at(c->fd, c->dirfd, name.c_str());
  if (rc < 0) {
    req->syscall = "link";
    req->err_name = name;
  }
  return rc;
}

// A fresh name in dirfd for the open file fd (st_retry: EEXIST is a collision).
static int link_fresh(int fd, int dirfd, const std::string& dir, const std::string& prefix,
                      const std::string& suffix, const std::vector<std::string>& names,
                      std::string* name, const char** syscall, std::string* err_name) {
  st_create_req c;
  c.dir = dir;
  c.prefix = prefix;
  c.suffix = suffix;
  c.names = names;
  link_ctx ctx = {fd, dirfd};
  int rc = st_retry(&c, link_step, &ctx);
  if (rc < 0) {
    *syscall = c.syscall;
    *err_name = c.err_name;
    return rc;
  }
  *name = c.name;
  return 0;
}

int st_rename(st_move_req* req) {
  const std::string to = join_name(req->dir, req->name);
  const char* from = req->from.c_str();
  req->syscall = "rename";
  req->err_path = req->from;
  req->err_dest = to;
  if (!(req->flags & ST_MOVE_NOREPLACE)) return rename(from, to.c_str()) == 0 ? 0 : -errno;
#if defined(ST_HAVE_LINK_FD) && defined(SYS_renameat2)
  if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  // ENOSYS: a kernel before 3.15; EINVAL: a file system without the flag.
  if (errno != ENOSYS && errno != EINVAL) return -errno;
#elif defined(__APPLE__) && defined(RENAME_EXCL)
  if (renamex_np(from, to.c_str(), RENAME_EXCL) == 0) return 0;
  if (errno != ENOTSUP && errno != EINVAL) return -errno;
#endif
  // link() fails on any existing name (a symbolic link included) and never follows
  // one at the source (no AT_SYMLINK_FOLLOW); then the old name goes.
  if (linkat(AT_FDCWD, from, AT_FDCWD, to.c_str(), 0) < 0) {
    req->syscall = "link";
    return -errno;
  }
  if (unlink(from) < 0) {
    int rc = -errno;
    if (unlink(to.c_str()) < 0) req->leftover = to;  // undo: the file keeps the name it had
    req->syscall = "unlink";
    req->err_dest.clear();
    return rc;
  }
  return 0;
}

int st_link_fd(st_move_req* req) {
  const std::string to = join_name(req->dir, req->name);
  int dirfd = retry_eintr_open(AT_FDCWD, req->dir.c_str(), ST_DIR_HANDLE_FLAGS, 0);
  if (dirfd < 0) {
    req->syscall = "open";
    req->err_path = req->dir;
    return dirfd;
  }
  int rc;
  if (req->flags & ST_MOVE_NOREPLACE) {
    rc = link_fd_at(req->fd, dirfd, req->name.c_str());
    if (rc < 0) {
      req->syscall = "link";
      req->err_path = to;
    }
  } else {
    // link() cannot replace: a fresh name first, then rename() over the target.
    std::string tmp, err_name;
    rc = link_fresh(req->fd, dirfd, req->dir, req->prefix, req->suffix, req->names, &tmp,
                    &req->syscall, &err_name);
    if (rc < 0) {
      // A file that cannot be named is about the target, not the intermediate name.
      req->err_path = rc == ST_ENOTLINKABLE ? to : join_name(req->dir, err_name);
    } else if (renameat(dirfd, tmp.c_str(), dirfd, req->name.c_str()) < 0) {
      rc = -errno;
      req->syscall = "rename";
      req->err_path = join_name(req->dir, tmp);
      req->err_dest = to;
      if (unlinkat(dirfd, tmp.c_str(), 0) < 0) req->leftover = join_name(req->dir, tmp);
    }
  }
  close(dirfd);
  return rc;
}

int st_persist_at(st_move_req* req) {
  const std::string to = join_name(req->dir, req->name);
  req->err_path = to;
  int held = dir_fd(req->handle);
  if (held < 0) {
    req->syscall = "rename";
    return -EBADF;
  }
  struct stat ours, there;
  if (fstat(req->fd, &ours) < 0) {
    req->syscall = "fstat";
    return -errno;
  }
  // The old name must still be ours, whichever way the file is moved.
  // Gone (ENOENT) or another file there: replaced. Any other failure (EIO, EACCES) is the
  // system's, reported as itself (test/faults).
  bool gone = false;
  if (fstatat(held, req->from_name.c_str(), &there, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno != ENOENT) {
      int e = -errno;
      req->syscall = "stat";
      req->err_path = req->from.empty() ? to : req->from;
      return e;
    }
    gone = true;
  }
  if (gone || there.st_dev != ours.st_dev || there.st_ino != ours.st_ino) {
    req->syscall = "rename";
    return ST_EREPLACED;
  }
  int tdir = open_dir_retry(req->dir.c_str(), ST_DIR_HANDLE_FLAGS);
  if (tdir < 0) {
    req->syscall = "open";
    req->err_path = req->dir;
    return tdir;
  }
  struct stat hst, tst;
  // The target is the very entry the file has: nothing to do (a rename onto itself).
  if (fstat(held, &hst) == 0 && fstat(tdir, &tst) == 0 && hst.st_dev == tst.st_dev && hst.st_ino == tst.st_ino &&
      req->from_name == req->name) {
    close(tdir);
    if (req->flags & ST_MOVE_NOREPLACE) {
      req->syscall = "rename";
      return -EEXIST;
    }
    return 0;
  }
  int rc = 0;
#if defined(ST_HAVE_LINK_FD)
  if (req->flags & ST_MOVE_NOREPLACE) {
    rc = link_fd_at(req->fd, tdir, req->name.c_str());
    if (rc < 0) {
      // Reported as the rename it stands for (renameat2 RENAME_NOREPLACE): old -> target.
      req->syscall = "rename";
      req->err_path = req->from;
      req->err_dest = to;
    }
  } else {
    std::string tmp, err_name;
    rc = link_fresh(req->fd, tdir, req->dir, req->prefix, req->suffix, req->names, &tmp, &req->syscall, &err_name);
    if (rc == -EXDEV) {
      req->syscall = "rename";
      req->err_path = req->from;
      req->err_dest = to;
    } else if (rc < 0) {
      req->err_path = join_name(req->dir, err_name);
    } else if (renameat(tdir, tmp.c_str(), tdir, req->name.c_str()) < 0) {
      rc = -errno;
      req->syscall = "rename";
      req->err_path = join_name(req->dir, tmp);
      req->err_dest = to;
      if (unlinkat(tdir, tmp.c_str(), 0) < 0) req->leftover = join_name(req->dir, tmp);
    } else {
      // Renamed onto another link of our own file: rename() does nothing then, and the fresh
      // name stays; it goes (only while it is ours).
      struct stat st;
      if (fstatat(tdir, tmp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == ours.st_dev && st.st_ino == ours.st_ino)
        unlinkat(tdir, tmp.c_str(), 0);
    }
  }
  if (rc == ST_ENOTLINKABLE) rc = -ENOTSUP;
  if (rc == 0) {
    // The target has our inode; the old name goes, through the held handle, only if ours.
    const char* sc = "";
    int u = st_unlink_at(req->handle, req->from_name, req->fd, &sc);
    if (u < 0) {
      // Persisted all the same: the target is ours. The old name stays as a second link.
      req->leftover = req->from_name;
    }
  }
#else
  req->syscall = "rename";
  req->err_path = req->from;
  req->err_dest = to;
  if (!(req->flags & ST_MOVE_NOREPLACE)) {
    if (renameat(held, req->from_name.c_str(), tdir, req->name.c_str()) < 0) rc = -errno;
  } else {
#if defined(__APPLE__) && defined(RENAME_EXCL)
    if (renameatx_np(held, req->from_name.c_str(), tdir, req->name.c_str(), RENAME_EXCL) == 0) {
      close(tdir);
      return 0;
    }
    if (errno != ENOTSUP && errno != EINVAL) {
      rc = -errno;
      close(tdir);
      return rc;
    }
#endif
    if (linkat(held, req->from_name.c_str(), tdir, req->name.c_str(), 0) < 0) {
      rc = -errno;
      req->syscall = "link";
    } else if (unlinkat(held, req->from_name.c_str(), 0) < 0) {
      rc = -errno;
      req->syscall = "unlink";
      if (unlinkat(tdir, req->name.c_str(), 0) < 0) req->leftover = to;
    }
  }
#endif
  close(tdir);
  return rc;
}

// The trust rule of core.h, on what the directory handle (dst) and the target seen through
// it (st) showed.
static void keep_of_target(st_atomic_req* req, const struct stat& dst, const struct stat& st) {
  const uid_t me = geteuid();
  const bool mine = st.st_uid == me;
  // Whoever can add entries to the directory can also move a file there, the caller's own
  // included (its 0664 notes over its 0600 secret; a root file from elsewhere): in such a
  // directory not even the caller's own file is taken at its word (outside review, 2026-12-03).
  const bool others_add = (dst.st_mode & (S_ISVTX | S_IWGRP | S_IWOTH)) != 0 ||
                          (dst.st_uid != me && dst.st_uid != 0 && dst.st_uid != st.st_uid);
  if (st.st_nlink > 1 || others_add) {
    req->untrusted = 1;  // as if no file were there, but never wider than what was there:
    // the caller's own 0600 secret moved or linked there must not come out 0644 (second
    // outside review, 2026-12-03); a planter can only narrow the new file's mode.
    if (!(req->flags & ST_ATOMIC_UMASK_MODE)) req->create_perms &= (unsigned)(st.st_mode & 0777);
    return;
  }
  mode_t mode = st.st_mode & 07777;
  if (!mine) mode &= ~(mode_t)(S_ISUID | S_ISGID);
  req->mode = (req->flags & ST_ATOMIC_UMASK_MODE) ? -1 : (long)mode;
  req->uid = (long)st.st_uid;
  req->gid = (long)st.st_gid;
}

int st_atomic_begin(st_atomic_req* req) {
  req->fd = req->dirfd = -1;
  req->tmp_name.clear();
  req->mode = req->uid = req->gid = -1;
  req->untrusted = 0;
  // Read access, so the directory can be fsynced after the rename. A directory we may
  // write but not read (0300) still works, without that fsync.
  int dirfd = retry_eintr_open(AT_FDCWD, req->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
#if defined(O_PATH) && !defined(ST_POSIX_PORTABLE)
  if (dirfd == -EACCES) {
    dirfd = retry_eintr_open(AT_FDCWD, req->dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (dirfd >= 0) req->flags |= ST_ATOMIC_NO_DIRSYNC;
  }
#endif
  if (dirfd < 0) {
    req->syscall = "open";
    req->err_name.clear();
    return dirfd;
  }
  // The directory as the handle has it, and the target as it is, never through a link:
  // a link there is replaced, not followed.
  struct stat dst, st;
  if (fstat(dirfd, &dst) < 0) {
    int e = -errno;
    req->syscall = "fstat";
    req->err_name.clear();
    close(dirfd);
    return e;
  }
  int rc = 0;
  if (fstatat(dirfd, req->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) {
      rc = -EISDIR;
      req->syscall = "open";
    } else if (S_ISREG(st.st_mode)) {
      keep_of_target(req, dst, st);
    }
  } else if (errno != ENOENT) {
    rc = -errno;
    req->syscall = "stat";
  }
  if (rc < 0) {
    req->err_name = req->name;
    close(dirfd);
    return rc;
  }

  st_create_req c;
  c.dir = req->dir;
  c.prefix = req->prefix;
  c.suffix = req->suffix;
  c.names = req->names;
  c.kind = ST_KIND_FILE;
  c.flags = req->flags & ST_FLAG_NO_TMPFILE;
  c.perms = req->mode >= 0 ? 0600 : req->create_perms;  // private while it is written, or as any new file
#if defined(ST_HAVE_O_TMPFILE)
  rc = try_o_tmpfile(&c, dirfd, ".");
  if (rc == 1) {
    req->fd = c.fd;
    req->dirfd = dirfd;
    return 0;
  }
  if (rc < 0) {
    req->syscall = c.syscall;
    req->err_name.clear();
    close(dirfd);
    return rc;
  }
#endif
  rc = st_retry(&c, create_file_step, &dirfd);
  if (rc < 0) {
    req->syscall = c.syscall;
    req->err_name = c.err_name;
    close(dirfd);
    return rc;
  }
  req->fd = c.fd;
  req->dirfd = dirfd;
  req->tmp_name = c.name;
  return 0;
}

static int fsync_eintr(int fd) {
  int r;
  do {
    r = fsync(fd);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

int st_atomic_commit(st_atomic_req* req) {
  const int fd = req->fd, dirfd = req->dirfd;
  int rc = 0;
  req->err_name = req->name;  // the file being written, as the caller knows it
  long uid = -1, gid = -1;
  if (req->flags & ST_ATOMIC_CHOWN) {
    uid = req->set_uid;
    gid = req->set_gid;
  } else if (req->uid >= 0 && geteuid() == 0) {
    uid = req->uid;  // kept by begin's trust rule
    gid = req->gid;
  }
  // Owner first: fchown clears the set-user-ID and set-group-ID bits, fchmod sets them.
  if ((uid != -1 || gid != -1) && fchown(fd, (uid_t)uid, (gid_t)gid) < 0) {
    rc = -errno;
    req->syscall = "fchown";
  }
  long mode = req->set_mode >= 0 ? req->set_mode : req->mode;
  if (rc == 0 && mode >= 0 && fchmod(fd, (mode_t)mode) < 0) {
    rc = -errno;
    req->syscall = "fchmod";
  }
  if (rc == 0 && (req->flags & ST_ATOMIC_FSYNC) && (rc = fsync_eintr(fd)) < 0) req->syscall = "fsync";
  if (rc == 0 && req->tmp_name.empty()) {
    // O_TMPFILE: the file gets a name only now, a fresh one, for the rename.
    std::string err_name;
    rc = link_fresh(fd, dirfd, req->dir, req->prefix, req->suffix, req->names, &req->tmp_name,
                    &req->syscall, &err_name);
    if (rc < 0) req->err_name = err_name;
  }
  if (rc == 0 && renameat(dirfd, req->tmp_name.c_str(), dirfd, req->name.c_str()) < 0) {
    rc = -errno;
    req->syscall = "rename";
    req->err_name = req->tmp_name;
    req->err_dest = req->name;
  }
  if (rc < 0) {
    if (!req->tmp_name.empty() && unlinkat(dirfd, req->tmp_name.c_str(), 0) < 0 && errno != ENOENT)
      req->leftover = req->tmp_name;
    close(fd);
    close(dirfd);
    return rc;
  }
  req->tmp_name.clear();  // renamed: it is the target now
  if ((req->flags & ST_ATOMIC_FSYNC) && !(req->flags & ST_ATOMIC_NO_DIRSYNC) && (rc = fsync_eintr(dirfd)) < 0) {
    req->syscall = "fsync";
    req->err_name.clear();
  }
  close(fd);
  close(dirfd);
  return rc;
}

int st_atomic_abort(st_atomic_req* req) {
  int rc = 0;
  if (!req->tmp_name.empty() && unlinkat(req->dirfd, req->tmp_name.c_str(), 0) < 0 && errno != ENOENT) {
    rc = -errno;
    req->syscall = "unlink";
    req->err_name = req->tmp_name;
  }
  if (req->fd >= 0) close(req->fd);
  if (req->dirfd >= 0) close(req->dirfd);
  return rc;
}

int st_atomic_write(st_atomic_req* req, const unsigned char* data, size_t len) {
  int rc = st_atomic_begin(req);
  if (rc < 0) return rc;
  for (size_t off = 0; off < len;) {
    ssize_t n = pwrite(req->fd, data + off, len - off, (off_t)off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = -errno;
      if (st_atomic_abort(req) < 0) req->leftover = req->tmp_name;
      req->syscall = "write";
      req->err_name = req->name;
      return rc;
    }
    off += (size_t)n;
  }
  return st_atomic_commit(req);
}

int st_exit_remove(const st_exit_entry& e, const char** syscall) {
  struct stat st;
  if (lstat(e.path.c_str(), &st) < 0) {
    if (errno == ENOENT) return 0;
    *syscall = "lstat";
    return -errno;
  }
  if (e.dev >= 0 && ((double)st.st_dev != e.dev || (double)st.st_ino != e.ino)) return 0;  // not ours
  if (e.kind == ST_EXIT_FILE) {
    if (unlink(e.path.c_str()) < 0 && errno != ENOENT) {
      *syscall = "unlink";
      return -errno;
    }
    return 0;
  }
  if (e.kind == ST_EXIT_EMPTY_DIR) {
    if (rmdir(e.path.c_str()) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST) {
      *syscall = "rmdir";
      return -errno;
    }
    return 0;
  }
  st_remove_req req;
  req.path = e.path;
  st_remove_tree(&req);
  if (req.errors == 0) return 0;
  *syscall = req.syscall;
  return req.first_err;
}

// ---- memory-only files -------------------------------------------------------------

int st_memfd_create(void) {
#if defined(ST_HAVE_MEMFD)
  // A fixed name: it shows in /proc/PID/fd as "memfd:securetemp (deleted)", so no user data.
  int fd = memfd_create("securetemp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -errno;
  // The kernel makes a memfd 0777, umask or not: another user handed a read-only descriptor
  // could open /proc/PID/fd/N for writing (fifth outside review). 0600, as every other file.
  if (fchmod(fd, S_IRUSR | S_IWUSR) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
#else
  return -ENOSYS;
#endif
}

int st_memfd_seal(int fd) {
#if defined(ST_HAVE_MEMFD)
  int rc;
  do rc = fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  while (rc < 0 && errno == EINTR);
  return rc < 0 ? -errno : 0;
#else
  (void)fd;
  return -ENOSYS;
#endif
}

int st_memfd_seals(int fd) {
#if defined(ST_HAVE_MEMFD)
  int rc = fcntl(fd, F_GET_SEALS);
  return rc < 0 ? -errno : rc;
#else
  (void)fd;
  return -ENOSYS;
#endif
}

// ---- memory for files in memory --------------------------------------------------------

#include <sys/mman.h>

void* st_pages_alloc(size_t n) {
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void st_pages_free(void* p, size_t n) {
  munmap(p, n);
}
