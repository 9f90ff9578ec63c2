// securetemp's C-level core: system calls only. Every function returns 0 or a
// negative errno (or ST_EINSECURE); nothing here knows about JavaScript.
// One implementation file per platform family: posix.cc, win32.cc.
#ifndef SECURETEMP_CORE_H
#define SECURETEMP_CORE_H

#include <stddef.h>
#include <string>
#include <vector>

// The directory fails the directory policy (st_dir_policy): others than its owner can add or
// remove entries and it is not sticky, or it is sticky and owned by another user than root and
// us. The reason is in the request's `insecure` and `insecure_uid` (Windows, from the DACL:
// `insecure_text`).
#define ST_EINSECURE (-0x10001)

// Why a directory failed the policy (st_create_req::insecure).
enum st_insecure {
  ST_INSECURE_NONE = 0,
  ST_INSECURE_WORLD = 1,   // world-writable without the sticky bit
  ST_INSECURE_GROUP = 2,   // group-writable without the sticky bit
  ST_INSECURE_STICKY = 3,  // sticky but owned by uid N (not root, not us)
  ST_INSECURE_TEXT = 4,    // the reason is st_create_req::insecure_text (Windows: from the DACL)
};

// An unnamed file that cannot be given a name: it was not made with O_TMPFILE
// (unlinked after creation, or a Windows delete-on-close file). binding.cc
// reports it as ENOTSUP with a message that says so.
#define ST_ENOTLINKABLE (-0x10002)

// st_create with `beneath`: the directory is not inside the root (it led out of it,
// by a link or a '..', when it was opened). binding.cc reports it as ERR_OUTSIDE_ROOT.
#define ST_EOUTSIDE (-0x10003)

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
  ST_FLAG_ALLOW_INSECURE = 1,  // skip the directory policy
  ST_FLAG_NO_TMPFILE = 2,      // force the create-then-unlink path for unnamed files
  // Named file or directory: keep a reference to the directory handle it was made through
  // (req->handle), and for a directory a handle of its own (req->own_handle), for the object
  // to remove, persist or reopen it through later. Released with st_dir_release. Where there
  // is none (0) the caller works by path.
  ST_FLAG_HOLD = 64,
};

struct st_create_req {
  // in
  std::string dir;     // the directory, absolute; with `beneath`: relative to it ("" = beneath)
  // When not empty: the root (absolute, opened following links) that `dir` must be inside.
  // `dir` is then opened from the root's handle so that the handle is provably beneath it
  // (openat2 RESOLVE_BENEATH, or a walk up '..' comparing device and inode), and creation is
  // relative to that handle; ST_EOUTSIDE when it is not. The TypeScript layer passes a `dir`
  // it resolved and checked by path: this closes the race between that check and the open.
  std::string beneath;
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
  // With `beneath`, a directory created: its device and inode, read from the proven handle
  // (has_id 0 where the platform does not give them).
  int has_id = 0;
  unsigned long long id_dev = 0, id_ino = 0;
  // With ST_EINSECURE: why (st_insecure), and the owner for ST_INSECURE_STICKY.
  int insecure = 0;
  unsigned long insecure_uid = 0;
  std::string insecure_text;  // ST_INSECURE_TEXT: the reason, whole ("writable by Everyone (S-1-1-0), ...")
  // With ST_FLAG_HOLD: the directory handle's id in the table (0: none), and a created
  // directory's own handle.
  long long handle = 0, own_handle = 0;
};

// ---- the directory handle table (issue 12) --------------------------------------
//
// One table per process (descriptors are per process; every worker thread shares it, under a
// mutex). An entry is an open directory handle keyed by device and inode, with a count of the
// objects holding it; ids, not descriptor numbers, travel through JavaScript, so a released id
// can never name someone else's descriptor. Creation reuses the handle last opened for the
// same path after one stat of the path shows the same device and inode. Entries nobody holds
// stay open (at most ST_IDLE_HANDLES, least recently used closed first) and are all closed on
// EMFILE/ENFILE before an open is tried again. Windows (win32.cc) keys by volume serial number
// and file index, and keeps no idle handles.
#define ST_IDLE_HANDLES 8

// Drops one reference; 0, or -EBADF for an unknown id.
int st_dir_release(long long id);
// Closes every handle no object holds; returns how many.
int st_dir_release_idle(void);
// How many handles the table holds open (held and idle), for tests.
int st_dir_open_count(void);

// The name `name` in the held directory `handle` is removed only while it is the file `fd`
// holds (fstat(fd), fstatat(handle, name, AT_SYMLINK_NOFOLLOW), device and inode compared,
// unlinkat(handle, name)). 0 also when it is gone or no longer ours (left alone).
int st_unlink_at(long long handle, const std::string& name, int fd, const char** syscall);

// openat(handle, name, O_RDWR|O_NOFOLLOW|O_CLOEXEC), kept only when it is the file `fd` holds:
// the new descriptor, ST_EREPLACED, or a negative errno.
#define ST_EREPLACED (-0x10004)
int st_reopen_at(long long handle, const std::string& name, int fd, const char** syscall);

struct st_remove_req {
  // in
  std::string path;  // absolute path of the tree's root
  // st_remove_tree_at: the held parent and the directory's own handle (table ids), its name
  long long parent = 0, own = 0;
  std::string name;
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

// What a worker thread hands over for removal at process exit (its own exit must not free a
// name the rest of the process may still use). dev/ino: the identity the path must still
// have (as Node's fs.Stats gives them), or dev < 0 for none.
enum st_exit_kind { ST_EXIT_FILE = 0, ST_EXIT_TREE = 1, ST_EXIT_EMPTY_DIR = 2 };
struct st_exit_entry {
  int kind;
  std::string path;
  double dev, ino;
};
// Removes one handed-over object: nothing when the path is gone or now leads to something
// else; ST_EXIT_EMPTY_DIR leaves a directory that is not empty (tmp's rule). 0 or a negative
// error code, with the failing call in *syscall.
int st_exit_remove(const st_exit_entry& e, const char** syscall);
// A TemporaryDirectory's removal through its handles: the contents through its own handle
// (wherever the directory is now), then the directory itself with unlinkat(parent, name,
// AT_REMOVEDIR) only while that name still leads to it (device and inode). req->path is only
// for messages.
int st_remove_tree_at(st_remove_req* req);

// Opens req->dir once and creates relative to that handle, retrying on EEXIST.
int st_create(st_create_req* req);

// Fills out with n random characters of [a-z0-9] from the OS CSPRNG.
int st_random_name_chars(char* out, size_t n);

// 1 when the kernel has been seen to lack O_TMPFILE (or the build lacks it).
int st_tmpfile_known_unsupported(void);

// A memory-only file: memfd_create("securetemp", MFD_CLOEXEC|MFD_ALLOW_SEALING) on Linux and
// FreeBSD. The descriptor, or a negative error code: ENOSYS where the build or the kernel has
// none (other platforms, the portable build).
int st_memfd_create(void);

// Seals a memory file for good: F_ADD_SEALS F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE|F_SEAL_SEAL.
// 0 or a negative error code (EBUSY: a writable shared mapping exists; EPERM: already sealed
// with F_SEAL_SEAL).
int st_memfd_seal(int fd);

// The seals on a memory file (F_GET_SEALS; 0 for none), or a negative error code.
int st_memfd_seals(int fd);

// n bytes of private, anonymous, zero-filled memory from the system (mmap; VirtualAlloc on
// Windows), not from the C heap: freeing it gives it back to the system at once, whatever else
// the heap holds. For the pooled buffers of files in memory. nullptr when there is none.
void* st_pages_alloc(size_t n);
void st_pages_free(void* p, size_t n);

// The platform's name for a failed call, for messages (strerror-like).
const char* st_strerror(int err);

// ---- persist and atomic replacement ------------------------------------------
//
// Paths arrive split as the TypeScript layer decided: an absolute directory and
// a name inside it (no separator). Names of intermediate files come from the
// same retry loop as creation (st_retry), with req-like prefix/suffix/names.

enum st_move_flag {
  ST_MOVE_NOREPLACE = 1,  // fail with EEXIST rather than replace the destination
};

struct st_move_req {
  // in
  std::string from;  // st_rename: the source path, absolute
  int fd = -1;       // st_link_fd, st_persist_at: the open file
  long long handle = 0;    // st_persist_at: the held directory the file was made in (table id)
  std::string from_name;   // st_persist_at: its name there
  std::string dir;   // the destination's directory, absolute
  std::string name;  // the destination's name in it
  int flags = 0;     // st_move_flag
  std::string prefix, suffix;      // st_link_fd replacing: the intermediate name
  std::vector<std::string> names;  // when not empty: candidate intermediate names
  // out
  const char* syscall = "";
  std::string err_path;  // the path the failed call names
  std::string err_dest;  // its second path ("" when it has one path)
  std::string leftover;  // an intermediate name that could not be removed after a failure
};

// Renames req->from to req->dir/req->name. ST_MOVE_NOREPLACE: atomically fails
// with EEXIST when the destination exists (renameat2 RENAME_NOREPLACE, renamex_np
// RENAME_EXCL, MoveFileExW without REPLACE_EXISTING; else link then unlink).
int st_rename(st_move_req* req);

// Gives the open file req->fd the name req->dir/req->name (Linux: linkat from the
// descriptor, for an O_TMPFILE file). Without ST_MOVE_NOREPLACE an existing
// destination is replaced: linked to a fresh name in the directory first, then
// renamed over it. ST_ENOTLINKABLE where the file cannot have a name again.
int st_link_fd(st_move_req* req);

// persist of a named file through the handle of the directory it was made in (issue 12).
// Linux: the target gets exactly our inode, linked from the descriptor (ST_MOVE_NOREPLACE:
// at the target's name, failing on any existing one; else at a fresh name renamed over the
// target); then the old name is removed through the held handle, only while it still leads to
// our file. Elsewhere: the old name is checked through the held handle (fstatat, device and
// inode: ST_EREPLACED when it is not ours) and renamed relative to it (renameat; NOREPLACE:
// renameatx_np RENAME_EXCL on macOS, else linkat + unlinkat). The target's directory is
// opened by path (it is the caller's path).
int st_persist_at(st_move_req* req);

enum st_atomic_flag {
  // ST_FLAG_NO_TMPFILE (2) is honoured too: a named temp file, as without O_TMPFILE.
  ST_ATOMIC_FSYNC = 4,       // fsync the file before the rename, the directory after it
  ST_ATOMIC_NO_DIRSYNC = 8,  // out of begin: the directory handle cannot be fsynced
  ST_ATOMIC_CHOWN = 16,      // commit: give the file set_uid/set_gid
  ST_ATOMIC_UMASK_MODE = 32, // begin: the new file's mode is create_perms narrowed by the umask
                             // (as for a new file) whatever is at the target; no mode is kept
};

// What begin keeps of a regular file at the target (the trust rule). Nothing from a file
// the caller should not trust: one with more than one link, or any file (the caller's own
// too: it may have been moved there) in a directory where others can add entries (sticky,
// group- or world-writable, or owned by a user other than the caller, root and the file's
// owner). Such a target is treated as if
// no file were there (mode/uid/gid -1, `untrusted` 1): a new file, create_perms narrowed
// by the umask, the caller's. From a trusted file: its mode, set-user-ID and set-group-ID
// bits only when the caller owns it; its owner and group (given back by commit as root).
// All of it comes from the directory handle begin opens (fstat) and the target seen
// through it (fstatat, no follow): the handle the rename goes through.

// One atomic replacement of req->dir/req->name, in three calls (the descriptor and the
// directory handle travel through JavaScript between them, which writes the data), or
// in one (st_atomic_write, for data given whole).
struct st_atomic_req {
  // in
  std::string dir;   // the target's directory, absolute
  std::string name;  // the target's name in it
  std::string prefix, suffix;      // the temp file's name (when it needs one)
  std::vector<std::string> names;  // when not empty: candidate temp names
  int flags = 0;                   // st_atomic_flag, ST_FLAG_NO_TMPFILE
  unsigned create_perms = 0600;    // when no regular file is there yet (else 0600, set by commit)
  long set_mode = -1;              // commit: the mode to give (-1: the replaced file's, if any)
  long set_uid = -1, set_gid = -1; // commit, with ST_ATOMIC_CHOWN (-1: leave that one)
  // out of begin; in to commit and abort
  int fd = -1;            // the temp file, usable with Node's fs
  int dirfd = -1;         // the directory handle (POSIX), -1 where there is none
  std::string tmp_name;   // the temp file's name, "" while it has none (O_TMPFILE)
  long mode = -1, uid = -1, gid = -1;  // what the trust rule keeps of the replaced regular
                                       // file (-1: nothing; mode -1 too with UMASK_MODE)
  int untrusted = 0;      // out of begin: a regular file was there, and gives nothing
  // out
  const char* syscall = "";
  std::string err_name;  // the name in dir the failed call names ("" = dir)
  std::string err_dest;  // its second name, if any
  std::string leftover;  // a temp name that could not be removed after a failure
};

// Opens the directory, looks at the target (never following a link) and applies the
// trust rule above, creates the temp file (O_TMPFILE, else O_CREAT|O_EXCL|O_NOFOLLOW
// with a fresh name): 0600 when a mode is kept (commit gives it), else create_perms,
// narrowed by the umask (and default ACLs) as for any new file.
// On failure nothing is left open or on disk.
int st_atomic_begin(st_atomic_req* req);

// Gives the file its owner and mode: set_uid/set_gid with ST_ATOMIC_CHOWN, else,
// running as root, the owner and group begin kept (uid/gid; a new file would be root's);
// set_mode, else the mode begin kept, if any. Then fsync, a name (O_TMPFILE: a link to a
// fresh name), the rename over the target, fsync of the directory. Success or not,
// the temp name is gone afterwards and the directory handle is closed; so is req->fd
// where ST_ATOMIC_CLOSES_FD (else the caller closes it).
int st_atomic_commit(st_atomic_req* req);

// Gives up: unlinks the temp name if there is one, closes what begin opened
// (req->fd only where ST_ATOMIC_CLOSES_FD). Returns the first failure.
int st_atomic_abort(st_atomic_req* req);

// begin, the whole of data written, commit (or abort): one call for data given whole.
int st_atomic_write(st_atomic_req* req, const unsigned char* data, size_t len);

// 1 where commit and abort close req->fd themselves (POSIX); 0 where the fd belongs
// to Node's C runtime and JavaScript closes it (Windows).
extern const int ST_ATOMIC_CLOSES_FD;

#endif
