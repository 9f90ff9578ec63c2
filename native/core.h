// securetemp's C-level core: system calls only. Every function returns 0 or a
// negative errno (or ST_EINSECURE); nothing here knows about JavaScript.
// One implementation file per platform family: posix.cc, win32.cc.
#ifndef SECURETEMP_CORE_H
#define SECURETEMP_CORE_H

#include <stddef.h>
#include <string>
#include <vector>

// The directory is world-writable without the sticky bit.
#define ST_EINSECURE (-0x10001)

// TMP_MAX of the API contract: attempts before EEXIST is given up on.
#define ST_TMP_MAX 10000

// Random characters in a generated name (36^12 > 2^62).
#define ST_RANDOM_CHARS 12

enum st_kind {
  ST_KIND_FILE = 0,     // named file, O_CREAT|O_EXCL|O_NOFOLLOW|O_RDWR|O_CLOEXEC
  ST_KIND_DIR = 1,      // directory, mkdirat
  ST_KIND_UNNAMED = 2,  // a file that never has (or no longer has) a name
};

enum st_flag {
  ST_FLAG_ALLOW_INSECURE = 1,  // skip the world-writable-without-sticky check
  ST_FLAG_NO_TMPFILE = 2,      // force the create-then-unlink path for unnamed files
};

struct st_create_req {
  // in
  std::string dir;     // the directory, absolute
  std::string prefix;  // validated by the caller: no separator, no NUL
  std::string suffix;
  std::vector<std::string> names;  // when not empty: the candidate names, tried in order
  int kind = ST_KIND_FILE;
  int flags = 0;
  unsigned perms = 0600;
  // out
  int fd = -1;            // an fd usable with Node's fs (on Windows: uv_open_osfhandle)
  std::string name;       // the name created (empty for an O_TMPFILE file)
  const char* syscall = "";  // the system call that failed
  std::string err_name;   // the name it failed on ("" = the directory itself)
  int used_tmpfile = 0;   // 1 when the unnamed file came from O_TMPFILE
};

struct st_remove_req {
  // in
  std::string path;  // absolute path of the tree's root
  // out
  int errors = 0;          // how many removals failed
  int first_err = 0;       // the first failure
  const char* syscall = "";
  std::string err_path;
};

// Removes the tree at req->path without ever following a symbolic link: the walk
// goes from open directory handles (openat O_NOFOLLOW, unlinkat), and a directory
// that denies us is given back owner rwx through its handle. Removes everything it
// can; returns 0 or the first failure (also in req->first_err). A root that is
// already gone is not an error.
int st_remove_tree(st_remove_req* req);

// Opens req->dir once and creates relative to that handle, retrying on EEXIST.
int st_create(st_create_req* req);

// Fills out with n random characters of [a-z0-9] from the OS CSPRNG.
int st_random_name_chars(char* out, size_t n);

// 1 when the kernel has been seen to lack O_TMPFILE (or the build lacks it).
int st_tmpfile_known_unsupported(void);

// The platform's name for a failed call, for messages (strerror-like).
const char* st_strerror(int err);

#endif
