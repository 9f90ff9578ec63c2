// Windows. As in posix.cc, the target directory is opened once and every
// object is created relative to that handle: NtCreateFile with RootDirectory is
// Windows' openat. The directory handle is opened without FILE_SHARE_DELETE, so
// while we create in it nobody can rename or delete that directory: the path we
// hand back, dir + name, names what we created.
//
// Error codes are libuv's (uv_translate_sys_error), not the C runtime's errno
// values: binding.cc passes them to uv_err_name/uv_strerror, as Node does.
//
// Differences from POSIX, by design:
// - The directory policy (ST_EINSECURE) reads the directory's DACL on the creation
//   handle instead of mode bits: see dir_policy below. Every object created here gets
//   a protected DACL granting only the user of the process token (never a thread's
//   impersonation token: sync and async agree).
// - req->perms: the DACL is always current-user-only (never wider than any
//   mode asks). The only bit with a meaning is owner-write: without it a named
//   file gets FILE_ATTRIBUTE_READONLY, as libuv does for fs.open's mode.
// - The directory is opened through reparse points (a junction as %TEMP% is
//   legitimate); objects land in the final target, which the handle pins.
// - ST_KIND_UNNAMED: FILE_FLAG_DELETE_ON_CLOSE. The file has a name while it is
//   open (visible in the directory, openable with FILE_SHARE_DELETE); it goes
//   when the last handle closes, including at process exit or a crash.
//   req->name is left empty, as for an O_TMPFILE file.
#include <uv.h>  // first: it includes winsock2.h and windows.h in the right order

#include <windows.h>
#include <winternl.h>
#include <bcrypt.h>
#include <aclapi.h>
#include <sddl.h>

#include <cstring>
#include <cwchar>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core.h"
#include "platform.h"

static_assert(ST_ERR_EEXIST == UV_EEXIST, "platform.h must use libuv's Windows EEXIST");

namespace {

// Not taken from ntstatus.h, which clashes with windows.h under MSVC.
const NTSTATUS kStatusObjectNameCollision = (NTSTATUS)0xC0000035L;
const NTSTATUS kStatusDeletePending = (NTSTATUS)0xC0000056L;

const ULONG kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

// ntdll has no import library in every toolchain; resolve it as libuv does.
// Not every SDK's winternl.h declares it; the class is a ULONG in the ABI.
typedef NTSTATUS(NTAPI* nt_set_information_file_fn)(HANDLE, PIO_STATUS_BLOCK, PVOID, ULONG, ULONG);

struct nt_api {
  decltype(&::NtCreateFile) create_file = nullptr;
  nt_set_information_file_fn set_information_file = nullptr;
  decltype(&::RtlNtStatusToDosError) status_to_dos = nullptr;
};

template <typename Fn>
Fn nt_proc(HMODULE ntdll, const char* name) {
  // Through void(*)(void), the one cast GCC's -Wcast-function-type allows.
  return reinterpret_cast<Fn>(reinterpret_cast<void (*)(void)>(GetProcAddress(ntdll, name)));
}

const nt_api& nt() {
  static const nt_api api = [] {
    nt_api a;
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    if (ntdll != nullptr) {
      a.create_file = nt_proc<decltype(a.create_file)>(ntdll, "NtCreateFile");
      a.set_information_file = nt_proc<decltype(a.set_information_file)>(ntdll, "NtSetInformationFile");
      a.status_to_dos = nt_proc<decltype(a.status_to_dos)>(ntdll, "RtlNtStatusToDosError");
    }
    return a;
  }();
  return api;
}

int win32_to_uv(DWORD err) {
  int rc = uv_translate_sys_error((int)err);
  return rc < 0 ? rc : UV_EIO;  // never 0 or positive: that would read as success
}

int nt_to_uv(NTSTATUS st) {
  if (nt().status_to_dos == nullptr) return UV_EIO;
  return win32_to_uv(nt().status_to_dos(st));
}

// A name in use, even by a file that is only waiting to be deleted, is a
// collision: try another name. Access denied is not (libuv: EPERM), and is
// returned at once.
int status_to_uv(NTSTATUS st) {
  if (st == kStatusObjectNameCollision || st == kStatusDeletePending) return ST_ERR_EEXIST;
  return nt_to_uv(st);
}

int to_wide(const std::string& s, std::wstring* out) {
  out->clear();
  if (s.empty()) return 0;
  if (s.size() > 0x7fffffff) return UV_ENAMETOOLONG;
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), (int)s.size(), nullptr, 0);
  if (n <= 0) return UV_EINVAL;
  out->resize((size_t)n);
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), (int)s.size(), &(*out)[0], n) != n)
    return UV_EINVAL;
  if (out->find(L'\0') != std::wstring::npos) return UV_EINVAL;
  return 0;
}

wchar_t ascii_upper(wchar_t c) { return (c >= L'a' && c <= L'z') ? (wchar_t)(c - 32) : c; }

// NtCreateFile takes a name literally; Win32 paths (Node's fs) do not. A name
// that Win32 would rewrite (trailing dot or space), read as a device (NUL.x,
// COM1) or a stream (a:b) would be created as something fs cannot reach, so it
// is refused. The random part never triggers this: only a prefix or suffix can.
int check_name(const std::wstring& name) {
  if (name.empty()) return UV_EINVAL;
  if (name.size() > 255) return UV_ENAMETOOLONG;  // NTFS, ReFS, FAT: 255 UTF-16 units
  for (wchar_t c : name) {
    if (c < 0x20 || wcschr(L"<>:\"/\\|?*", c) != nullptr) return UV_EINVAL;
  }
  if (name.back() == L'.' || name.back() == L' ') return UV_EINVAL;
  std::wstring base = name.substr(0, name.find(L'.'));
  while (!base.empty() && base.back() == L' ') base.pop_back();
  for (wchar_t& c : base) c = ascii_upper(c);
  static const wchar_t* const kDevices[] = {L"CON", L"PRN", L"AUX", L"NUL", L"CONIN$", L"CONOUT$"};
  for (const wchar_t* d : kDevices) {
    if (base == d) return UV_EINVAL;
  }
  if (base.size() == 4 && (base.compare(0, 3, L"COM") == 0 || base.compare(0, 3, L"LPT") == 0)) {
    wchar_t n = base[3];
    if ((n >= L'0' && n <= L'9') || n == 0x00b9 || n == 0x00b2 || n == 0x00b3) return UV_EINVAL;
  }
  return 0;
}

// A directory path whose parts Win32 would rewrite: a part ending in a dot or a
// space ("foo." or "foo ") is opened as "foo", while the path handed back would
// keep the dot, and Node's fs (\\?\ paths, taken literally) would reach
// "foo.", a different directory someone else may create. Refused (EINVAL), as
// src/_names.ts refuses it before the addon is called. "." and ".." are left to
// the normalisation that removes them.
int check_dir_path(const std::wstring& path) {
  size_t start = 0;
  for (;;) {
    size_t end = path.find_first_of(L"\\/", start);
    std::wstring part = path.substr(start, end == std::wstring::npos ? std::wstring::npos : end - start);
    if (!part.empty() && part != L"." && part != L".." && (part.back() == L'.' || part.back() == L' '))
      return UV_EINVAL;
    if (end == std::wstring::npos) return 0;
    start = end + 1;
  }
}

// TokenUser or TokenOwner of the process token, into `out` (aligned: operator new).
// Never the thread's token: a thread that impersonates another user (async work runs
// on libuv's pool threads, sync work on the caller's) would give sync and async
// creation different ACLs.
int process_token_info(TOKEN_INFORMATION_CLASS cls, std::vector<unsigned char>* out) {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return win32_to_uv(GetLastError());
  DWORD len = 0;
  GetTokenInformation(token, cls, nullptr, 0, &len);
  DWORD err = GetLastError();
  if (len == 0 || err != ERROR_INSUFFICIENT_BUFFER) {
    CloseHandle(token);
    return win32_to_uv(err);
  }
  out->assign(len, 0);
  BOOL ok = GetTokenInformation(token, cls, out->data(), len, &len);
  err = GetLastError();
  CloseHandle(token);
  return ok ? 0 : win32_to_uv(err);
}

// An absolute security descriptor: a protected DACL (nothing inherited from
// the directory) with one ACE, full control for the user the process runs as
// (its process token, whatever the calling thread impersonates). A directory's
// ACE is inheritable, so what is created inside gets it.
struct owner_only_sd {
  SECURITY_DESCRIPTOR sd;
  std::vector<unsigned char> token_user;  // TOKEN_USER and the SID it points into
  std::vector<unsigned char> acl;
};

int build_owner_only_sd(owner_only_sd* out, bool inheritable) {
  int rc = process_token_info(TokenUser, &out->token_user);
  if (rc < 0) return rc;
  PSID sid = reinterpret_cast<TOKEN_USER*>(out->token_user.data())->User.Sid;

  DWORD acl_len = sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) - sizeof(DWORD) + GetLengthSid(sid);
  acl_len = (acl_len + sizeof(DWORD) - 1) & ~(DWORD)(sizeof(DWORD) - 1);
  out->acl.assign(acl_len, 0);
  PACL acl = reinterpret_cast<PACL>(out->acl.data());
  DWORD ace_flags = inheritable ? (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE) : 0;
  if (!InitializeAcl(acl, acl_len, ACL_REVISION) ||
      !AddAccessAllowedAceEx(acl, ACL_REVISION, ace_flags, FILE_ALL_ACCESS, sid) ||
      !InitializeSecurityDescriptor(&out->sd, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorDacl(&out->sd, TRUE, acl, FALSE) ||
      !SetSecurityDescriptorControl(&out->sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED))
    return win32_to_uv(GetLastError());
  return 0;
}

// openat for Windows: `name` inside the directory `dir`, never a path. The
// handle is not inheritable (no OBJ_INHERIT): the O_CLOEXEC of Windows.
NTSTATUS create_at(HANDLE dir, const std::wstring& name, ACCESS_MASK access, ULONG attrs,
                   ULONG disposition, ULONG options, PSECURITY_DESCRIPTOR sd, HANDLE* out) {
  *out = INVALID_HANDLE_VALUE;
  if (nt().create_file == nullptr) return (NTSTATUS)0xC0000002L;  // STATUS_NOT_IMPLEMENTED
  UNICODE_STRING uname;
  uname.Buffer = const_cast<PWSTR>(name.c_str());
  uname.Length = (USHORT)(name.size() * sizeof(wchar_t));  // <= 255: check_name, or a listed name
  uname.MaximumLength = uname.Length;
  OBJECT_ATTRIBUTES oa;
  // Case-insensitive, as every Win32 open is: "TMPX" collides with "tmpx".
  InitializeObjectAttributes(&oa, &uname, OBJ_CASE_INSENSITIVE, dir, sd);
  IO_STATUS_BLOCK iosb;
  HANDLE h = nullptr;
  NTSTATUS st = nt().create_file(&h, access | SYNCHRONIZE, &oa, &iosb, nullptr, attrs, kShareAll,
                                 disposition, options | FILE_SYNCHRONOUS_IO_NONALERT, nullptr, 0);
  if (st >= 0) *out = h;
  return st;
}

struct win_ctx {
  HANDLE dir;
  PSECURITY_DESCRIPTOR sd;
  HANDLE* keep_handle;  // when set: the file's HANDLE goes here, and no C runtime fd is made
};

bool same_file(HANDLE a, HANDLE b) {
  BY_HANDLE_FILE_INFORMATION ia, ib;
  return GetFileInformationByHandle(a, &ia) && GetFileInformationByHandle(b, &ib) &&
         ia.dwVolumeSerialNumber == ib.dwVolumeSerialNumber &&
         ia.nFileIndexHigh == ib.nFileIndexHigh && ia.nFileIndexLow == ib.nFileIndexLow;
}

// Best effort, for the one failure that can follow a successful creation (no
// free C runtime fd): remove the file we just made, and only that file. The
// creating handle has no DELETE access (it would make every other opener need
// FILE_SHARE_DELETE), so the name is opened again and checked to be ours.
// Returns 0 when the name is gone or no longer ours, else the failure.
int remove_created(HANDLE dir, const std::wstring& name, HANDLE created) {
  HANDLE h;
  NTSTATUS st = create_at(dir, name, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES, 0, FILE_OPEN,
                          FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT, nullptr, &h);
  if (st == (NTSTATUS)0xC0000034L || st == kStatusDeletePending) return 0;  // OBJECT_NAME_NOT_FOUND
  if (st < 0) return nt_to_uv(st);
  int rc = 0;
  if (same_file(h, created)) {
    FILE_BASIC_INFO basic = {};
    basic.FileAttributes = FILE_ATTRIBUTE_NORMAL;  // a read-only file cannot be deleted
    SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic);
    FILE_DISPOSITION_INFO disp = {};
    disp.DeleteFile = TRUE;
    if (!SetFileInformationByHandle(h, FileDispositionInfo, &disp, sizeof disp)) rc = win32_to_uv(GetLastError());
  }
  CloseHandle(h);
  return rc;
}

// One creation attempt of a file; delete_on_close makes it ST_KIND_UNNAMED.
int create_file(st_create_req* req, const std::string& name, const win_ctx* c, bool delete_on_close) {
  req->syscall = "open";
  req->err_name = name;
  std::wstring wname;
  int rc = to_wide(name, &wname);
  if (rc == 0) rc = check_name(wname);
  if (rc < 0) return rc;

  ACCESS_MASK access = GENERIC_READ | GENERIC_WRITE;
  ULONG attrs = FILE_ATTRIBUTE_NORMAL;
  ULONG options = FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT;
  if (delete_on_close) {
    access |= DELETE;
    attrs = FILE_ATTRIBUTE_TEMPORARY;  // a read-only file could not be deleted on close
    options |= FILE_DELETE_ON_CLOSE;
  } else if (!(req->perms & 0200)) {
    attrs = FILE_ATTRIBUTE_READONLY;  // the creating handle still writes
  }
  HANDLE h;
  // FILE_CREATE never opens an existing name, a planted link included
  // (FILE_OPEN_REPARSE_POINT only makes sure of it).
  NTSTATUS st = create_at(c->dir, wname, access, attrs, FILE_CREATE, options, c->sd, &h);
  if (st < 0) return status_to_uv(st);

  int rc2 = 0;
  if (attrs == FILE_ATTRIBUTE_READONLY) {
    // Again through the handle: Wine drops the create-time attribute when a
    // security descriptor is given (NTFS does not; there this is a no-op).
    FILE_BASIC_INFO basic = {};
    basic.FileAttributes = FILE_ATTRIBUTE_READONLY;
    if (!SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic))
      rc2 = win32_to_uv(GetLastError());
  }
  if (rc2 == 0 && c->keep_handle != nullptr) {
    *c->keep_handle = h;
    return 0;
  }
  // An fd of Node's own C runtime: one from the addon's CRT would be EBADF to fs.
  int fd = rc2 < 0 ? -1 : uv_open_osfhandle(h);
  if (fd < 0) {
    if (!delete_on_close) remove_created(c->dir, wname, h);
    CloseHandle(h);  // deletes an unnamed file
    return rc2 < 0 ? rc2 : UV_EMFILE;
  }
  req->fd = fd;
  return 0;
}

int create_file_step(st_create_req* req, const std::string& name, void* ctx) {
  return create_file(req, name, static_cast<const win_ctx*>(ctx), false);
}

int create_unnamed_step(st_create_req* req, const std::string& name, void* ctx) {
  return create_file(req, name, static_cast<const win_ctx*>(ctx), true);
}

int create_dir_step(st_create_req* req, const std::string& name, void* ctx) {
  const win_ctx* c = static_cast<const win_ctx*>(ctx);
  req->syscall = "mkdir";
  req->err_name = name;
  std::wstring wname;
  int rc = to_wide(name, &wname);
  if (rc == 0) rc = check_name(wname);
  if (rc < 0) return rc;
  HANDLE h;
  NTSTATUS st = create_at(c->dir, wname, FILE_TRAVERSE | FILE_READ_ATTRIBUTES, FILE_ATTRIBUTE_NORMAL, FILE_CREATE,
                          FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT, c->sd, &h);
  if (st < 0) return status_to_uv(st);
  if (c->keep_handle != nullptr)
    *c->keep_handle = h;  // its own handle (ST_FLAG_HOLD): shares read, write and delete
  else
    CloseHandle(h);
  return 0;
}

}  // namespace

int st_os_random(unsigned char* buf, size_t n) {
  while (n > 0) {
    ULONG chunk = n > 0x40000000 ? 0x40000000 : (ULONG)n;
    NTSTATUS st = BCryptGenRandom(nullptr, buf, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
    if (st < 0) return status_to_uv(st);
    buf += chunk;
    n -= chunk;
  }
  return 0;
}

const char* st_strerror(int err) { return uv_strerror(err); }

int st_tmpfile_known_unsupported(void) { return 1; }  // no O_TMPFILE on Windows

// No memory-only files or seals on Windows (a section object is no file descriptor children
// can read as a file): the JavaScript side reports ERR_UNSUPPORTED_OPERATION.
int st_memfd_create(void) { return UV_ENOSYS; }
int st_memfd_seal(int) { return UV_ENOSYS; }
int st_memfd_seals(int) { return UV_ENOSYS; }

void* st_pages_alloc(size_t n) {
  return VirtualAlloc(nullptr, n, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void st_pages_free(void* p, size_t) {
  VirtualFree(p, 0, MEM_RELEASE);
}

// st_create_req::beneath: the directory to open, `dir` below the root.
static std::string create_dir_path(const st_create_req& req) {
  if (req.beneath.empty()) return req.dir;
  if (req.dir.empty()) return req.beneath;
  char last = req.beneath.back();
  return (last == '\\' || last == '/') ? req.beneath + req.dir : req.beneath + "\\" + req.dir;
}

// The final path of a handle: reparse points (junctions, links) resolved, \\?\ form.
static int final_path(HANDLE h, std::wstring* out) {
  const DWORD flags = FILE_NAME_NORMALIZED | VOLUME_NAME_DOS;
  DWORD n = GetFinalPathNameByHandleW(h, nullptr, 0, flags);
  if (n == 0) return win32_to_uv(GetLastError());
  out->assign(n, L'\0');
  DWORD m = GetFinalPathNameByHandleW(h, &(*out)[0], n, flags);
  if (m == 0) return win32_to_uv(GetLastError());
  if (m >= n) return UV_EIO;  // changed between the two calls
  out->resize(m);
  return 0;
}

// With `beneath`: 0 when the directory handle `dir` is the root or inside it, compared by
// the final paths of both handles (case-insensitive, as the file system), ST_EOUTSIDE when
// it is not (a junction or link swapped in after the caller's check of the path). `dir` is
// held without FILE_SHARE_DELETE, so it cannot be renamed while we create in it, and NTFS
// refuses to rename a directory while a handle below it is open: the path checked stays
// the path created in.
static int check_beneath(const std::string& beneath, HANDLE dir) {
  std::wstring wroot, r, d;
  int rc = to_wide(beneath, &wroot);
  if (rc < 0) return rc;
  HANDLE root = CreateFileW(wroot.c_str(), FILE_READ_ATTRIBUTES, kShareAll, nullptr, OPEN_EXISTING,
                            FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (root == INVALID_HANDLE_VALUE) return win32_to_uv(GetLastError());
  rc = final_path(root, &r);
  CloseHandle(root);
  if (rc == 0) rc = final_path(dir, &d);
  if (rc < 0) return rc;
  while (!r.empty() && r.back() == L'\\') r.pop_back();  // a volume's root: \\?\C:\ -> \\?\C:
  if (d.size() < r.size() ||
      CompareStringOrdinal(d.c_str(), (int)r.size(), r.c_str(), (int)r.size(), TRUE) != CSTR_EQUAL ||
      (d.size() > r.size() && d[r.size()] != L'\\'))
    return ST_EOUTSIDE;
  return 0;
}

// ---- the directory handle table (core.h), Windows ------------------------------
//
// As posix.cc's: one table per process under a mutex, ids (never HANDLE values) travel through
// JavaScript, an entry per directory keyed by volume serial number and file index
// (GetFileInformationByHandle), counted references. The held HANDLE is a second handle of the
// directory creation went through, opened relative to it (NtCreateFile with RootDirectory and
// an empty name: that very directory, no path resolved) and checked to be the same file. It
// shares read, write and delete: holding it never keeps anyone from renaming or deleting the
// directory (the creation handle, held only during the call, is the one that pins the path).
// Creation always opens the path (the "still the same directory" check, and the handle the
// policy is read from); the table then gives the held handle for that directory's id.
// No idle handles on Windows: an entry nobody holds is closed at once. A directory deleted
// with the older semantics (before Windows 10 1607, FAT, Wine) stays until its last handle is
// closed, so an idle cache would keep deleted directories' names around for our process.
namespace {
struct win_dir_slot {
  HANDLE h = INVALID_HANDLE_VALUE;
  DWORD vol = 0;
  unsigned long long idx = 0;
  long refs = 0;
};
std::mutex g_dir_mu;
std::unordered_map<long long, win_dir_slot> g_dirs;
std::map<std::pair<DWORD, unsigned long long>, long long> g_dir_by_id;
long long g_dir_next = 1;

bool file_id(HANDLE h, DWORD* vol, unsigned long long* idx) {
  BY_HANDLE_FILE_INFORMATION i;
  if (!GetFileInformationByHandle(h, &i)) return false;
  *vol = i.dwVolumeSerialNumber;
  *idx = ((unsigned long long)i.nFileIndexHigh << 32) | i.nFileIndexLow;
  return true;
}

// Under g_dir_mu: `h` (the directory vol/idx) registered, or closed when the table already
// holds that directory; one reference taken.
long long dir_insert(HANDLE h, DWORD vol, unsigned long long idx) {
  auto known = g_dir_by_id.find({vol, idx});
  long long id;
  if (known != g_dir_by_id.end()) {
    CloseHandle(h);
    id = known->second;
  } else {
    id = g_dir_next++;
    win_dir_slot& d = g_dirs[id];
    d.h = h;
    d.vol = vol;
    d.idx = idx;
    g_dir_by_id[{vol, idx}] = id;
  }
  g_dirs[id].refs++;
  return id;
}

// A reference to the table's handle of the directory `dir` is open on: the held one, or a new
// one opened relative to `dir`. 0 or an error code.
int dir_hold(HANDLE dir, long long* id) {
  DWORD vol;
  unsigned long long idx;
  if (!file_id(dir, &vol, &idx)) return win32_to_uv(GetLastError());
  {
    std::lock_guard<std::mutex> lock(g_dir_mu);
    auto known = g_dir_by_id.find({vol, idx});
    if (known != g_dir_by_id.end()) {
      g_dirs[known->second].refs++;
      *id = known->second;
      return 0;
    }
  }
  HANDLE h;
  NTSTATUS st = create_at(dir, std::wstring(), FILE_TRAVERSE | FILE_READ_ATTRIBUTES, 0, FILE_OPEN,
                          FILE_DIRECTORY_FILE, nullptr, &h);
  if (st < 0) return nt_to_uv(st);
  DWORD v2;
  unsigned long long i2;
  if (!file_id(h, &v2, &i2) || v2 != vol || i2 != idx) {
    CloseHandle(h);
    return UV_EIO;  // not the directory it was opened from: never expected
  }
  std::lock_guard<std::mutex> lock(g_dir_mu);
  *id = dir_insert(h, vol, idx);
  return 0;
}

// The HANDLE of a held id (INVALID_HANDLE_VALUE: unknown). The caller holds a reference.
HANDLE dir_handle(long long id) {
  std::lock_guard<std::mutex> lock(g_dir_mu);
  auto it = g_dirs.find(id);
  return it == g_dirs.end() || it->second.refs <= 0 ? INVALID_HANDLE_VALUE : it->second.h;
}
}  // namespace

int st_dir_release(long long id) {
  std::lock_guard<std::mutex> lock(g_dir_mu);
  auto it = g_dirs.find(id);
  if (it == g_dirs.end() || it->second.refs <= 0) return UV_EBADF;
  if (--it->second.refs == 0) {
    g_dir_by_id.erase({it->second.vol, it->second.idx});
    CloseHandle(it->second.h);
    g_dirs.erase(it);
  }
  return 0;
}

int st_dir_release_idle(void) { return 0; }  // none kept: see above

int st_dir_open_count(void) {
  std::lock_guard<std::mutex> lock(g_dir_mu);
  return (int)g_dirs.size();
}

// ---- the directory policy on Windows (issue 12) --------------------------------
//
// POSIX's rule in DACL terms, read from the handle creation goes through (GetSecurityInfo).
// "Others" are every SID but the directory's owner, the user of the process token (and its
// default owner: Administrators for an elevated process), LocalSystem and BUILTIN\Administrators
// (root's place: they can take ownership of anything and rewrite any DACL, so refusing what
// they may write protects against nobody), CREATOR OWNER and OWNER RIGHTS (they stand for the
// owner). Only ACEs that apply to the directory itself count (not INHERIT_ONLY_ACE); generic
// rights are mapped to file rights first (GENERIC_WRITE: add file and subdirectory;
// GENERIC_ALL: everything).
// - Others allowed FILE_DELETE_CHILD, WRITE_DAC or WRITE_OWNER (the last two grant themselves
//   anything): untrusted, as a directory others may remove entries from (POSIX: group- or
//   world-writable without the sticky bit).
// - Others allowed only FILE_ADD_FILE / FILE_ADD_SUBDIRECTORY: trusted when the directory is
//   owned by us, LocalSystem or Administrators, the sticky directory of POSIX (C:\Windows\Temp:
//   BUILTIN\Users may add, not delete); else untrusted (its owner may rewrite its DACL).
// - A NULL DACL (everyone, everything), a file system without security (FAT), a DACL we may
//   not read (no READ_CONTROL): untrusted.
// Deny ACEs are not subtracted: an allow ACE for others is enough (conservative: a DACL that
// denies with one ACE what it allows with another is refused; allowInsecureDir skips).
namespace {

std::string sid_text(PSID sid) {
  std::string out;
  wchar_t name[256], domain[256];
  DWORD nn = 256, dn = 256;
  SID_NAME_USE use;
  if (LookupAccountSidW(nullptr, sid, name, &nn, domain, &dn, &use)) {
    std::wstring w = dn > 0 && domain[0] ? std::wstring(domain) + L"\\" + name : std::wstring(name);
    int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), (int)w.size(), nullptr, 0, nullptr, nullptr);
    if (n > 0) {
      out.assign((size_t)n, '\0');
      WideCharToMultiByte(CP_UTF8, 0, w.data(), (int)w.size(), &out[0], n, nullptr, nullptr);
    }
  }
  LPWSTR s = nullptr;
  std::string str;
  if (ConvertSidToStringSidW(sid, &s)) {
    for (const wchar_t* p = s; *p; p++) str += (char)*p;  // ASCII: S-1-...
    LocalFree(s);
  }
  if (out.empty()) return str.empty() ? std::string("an unknown SID") : str;
  return str.empty() ? out : out + " (" + str + ")";
}

bool root_like(PSID sid) {
  return IsWellKnownSid(sid, WinLocalSystemSid) || IsWellKnownSid(sid, WinBuiltinAdministratorsSid);
}

// 0 (trusted) or ST_EINSECURE with req->insecure_text.
int dir_policy(HANDLE dir, st_create_req* req) {
  req->insecure = ST_INSECURE_TEXT;
  PSID owner = nullptr;
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD err = GetSecurityInfo(dir, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                              &owner, nullptr, &dacl, nullptr, &sd);
  if (err == ERROR_NOT_SUPPORTED || err == ERROR_INVALID_FUNCTION) {
    req->insecure_text = "on a file system without access control: anyone may add and delete entries";
    return ST_EINSECURE;
  }
  if (err != ERROR_SUCCESS) {
    req->insecure = 0;
    return win32_to_uv(err);
  }
  struct freer {
    PSECURITY_DESCRIPTOR p;
    ~freer() { LocalFree(p); }
  } f{sd};
  if (dacl == nullptr) {
    req->insecure_text = "without a DACL: everyone may add and delete entries";
    return ST_EINSECURE;
  }
  std::vector<unsigned char> user, default_owner;
  int rc = process_token_info(TokenUser, &user);
  if (rc == 0) rc = process_token_info(TokenOwner, &default_owner);
  if (rc < 0) {
    req->insecure = 0;
    return rc;
  }
  PSID me = reinterpret_cast<TOKEN_USER*>(user.data())->User.Sid;
  PSID my_owner = reinterpret_cast<TOKEN_OWNER*>(default_owner.data())->Owner;
  auto ours = [&](PSID s) {
    return s != nullptr && (EqualSid(s, me) || (my_owner != nullptr && EqualSid(s, my_owner)));
  };
  auto trusted = [&](PSID s) {
    return (owner != nullptr && EqualSid(s, owner)) || ours(s) || root_like(s) ||
           IsWellKnownSid(s, WinCreatorOwnerSid) || IsWellKnownSid(s, WinCreatorOwnerRightsSid);
  };
  GENERIC_MAPPING map = {FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS};
  PSID adder = nullptr;
  for (DWORD i = 0; i < dacl->AceCount; i++) {
    void* a = nullptr;
    if (!GetAce(dacl, i, &a)) continue;
    const ACE_HEADER* hdr = static_cast<const ACE_HEADER*>(a);
    if (hdr->AceFlags & INHERIT_ONLY_ACE) continue;
    // ACCESS_ALLOWED_ACE and ACCESS_ALLOWED_CALLBACK_ACE: Mask, then the SID.
    if (hdr->AceType != ACCESS_ALLOWED_ACE_TYPE && hdr->AceType != ACCESS_ALLOWED_CALLBACK_ACE_TYPE) continue;
    ACCESS_ALLOWED_ACE* ace = static_cast<ACCESS_ALLOWED_ACE*>(a);
    PSID sid = reinterpret_cast<PSID>(&ace->SidStart);
    if (trusted(sid)) continue;
    DWORD mask = ace->Mask;
    MapGenericMask(&mask, &map);
    const char* what = (mask & FILE_DELETE_CHILD) ? "FILE_DELETE_CHILD"
                       : (mask & WRITE_DAC)       ? "WRITE_DAC"
                       : (mask & WRITE_OWNER)     ? "WRITE_OWNER"
                                                  : nullptr;
    if (what != nullptr) {
      req->insecure_text = "writable by " + sid_text(sid) + ", which may delete entries (" + what + ")";
      return ST_EINSECURE;
    }
    if ((mask & (FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY)) && adder == nullptr) adder = sid;
  }
  if (adder != nullptr && !(owner != nullptr && (ours(owner) || root_like(owner)))) {
    req->insecure_text = "writable by " + sid_text(adder) + ", which may add entries, and owned by " +
                         (owner != nullptr ? sid_text(owner) : std::string("nobody"));
    return ST_EINSECURE;
  }
  req->insecure = 0;
  return 0;
}

}  // namespace

int st_create(st_create_req* req) {
  req->syscall = "open";
  req->err_name.clear();
  if (req->kind != ST_KIND_FILE && req->kind != ST_KIND_DIR && req->kind != ST_KIND_UNNAMED)
    return UV_EINVAL;

  std::wstring wdir;
  int rc = to_wide(create_dir_path(*req), &wdir);
  if (rc == 0) rc = check_dir_path(wdir);
  if (rc < 0) return rc;

  owner_only_sd sd;
  rc = build_owner_only_sd(&sd, req->kind == ST_KIND_DIR);
  if (rc < 0) {
    if (req->kind == ST_KIND_DIR) req->syscall = "mkdir";
    return rc;
  }

  // FILE_TRAVERSE | FILE_READ_ATTRIBUTES: the least a handle needs for its share
  // mode to count (traverse is "execute" access), and what a create-only
  // directory such as C:\Windows\Temp grants its users (no FILE_LIST_DIRECTORY);
  // READ_CONTROL for the directory policy (GetSecurityInfo on this handle).
  // No FILE_SHARE_DELETE: see the top of this file. The other side of it: if
  // someone holds the directory open with DELETE access (renaming or removing
  // it right now), this fails with EBUSY.
  const bool policy = !(req->flags & ST_FLAG_ALLOW_INSECURE);
  const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE;
  HANDLE dir = CreateFileW(wdir.c_str(), FILE_TRAVERSE | FILE_READ_ATTRIBUTES | (policy ? READ_CONTROL : 0), share,
                           nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  bool unreadable = false;
  if (dir == INVALID_HANDLE_VALUE && policy && GetLastError() == ERROR_ACCESS_DENIED) {
    // Maybe only its DACL is closed to us: then it is refused by the policy, not EACCES.
    dir = CreateFileW(wdir.c_str(), FILE_TRAVERSE | FILE_READ_ATTRIBUTES, share, nullptr, OPEN_EXISTING,
                      FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    unreadable = dir != INVALID_HANDLE_VALUE;
    if (!unreadable) SetLastError(ERROR_ACCESS_DENIED);
  }
  if (dir == INVALID_HANDLE_VALUE) return win32_to_uv(GetLastError());
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(dir, &info)) {
    rc = win32_to_uv(GetLastError());
  } else if (!(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    rc = UV_ENOTDIR;
  }
  if (rc == 0 && policy) {
    if (unreadable) {
      req->insecure = ST_INSECURE_TEXT;
      req->insecure_text = "closed to us: its DACL cannot be read (no READ_CONTROL), so it cannot be checked";
      rc = ST_EINSECURE;
    } else {
      rc = dir_policy(dir, req);
    }
    if (rc < 0) req->syscall = "stat";
  }
  if (rc == 0 && !req->beneath.empty()) rc = check_beneath(req->beneath, dir);
  // A named object keeps a reference to the table's handle of this directory (ST_FLAG_HOLD);
  // taken before creating, so that a failure leaves nothing made.
  const bool hold = (req->flags & ST_FLAG_HOLD) && req->beneath.empty() && req->kind != ST_KIND_UNNAMED;
  if (rc == 0 && hold) rc = dir_hold(dir, &req->handle);
  if (rc < 0) {
    CloseHandle(dir);
    return rc;
  }

  HANDLE own = INVALID_HANDLE_VALUE;
  win_ctx ctx = {dir, &sd.sd, nullptr};
  switch (req->kind) {
    case ST_KIND_FILE:
      rc = st_retry(req, create_file_step, &ctx);
      break;
    case ST_KIND_DIR:
      if (hold) ctx.keep_handle = &own;
      rc = st_retry(req, create_dir_step, &ctx);
      if (rc == 0 && hold) {
        DWORD vol;
        unsigned long long idx;
        if (file_id(own, &vol, &idx)) {
          std::lock_guard<std::mutex> lock(g_dir_mu);
          req->own_handle = dir_insert(own, vol, idx);
        } else {
          rc = win32_to_uv(GetLastError());
          req->syscall = "open";
          req->err_name = req->name;
          // Nothing half-made is handed back: the new (empty) directory goes, if still ours.
          std::wstring wname;
          HANDLE d;
          if (to_wide(req->name, &wname) == 0 &&
              create_at(dir, wname, DELETE | FILE_READ_ATTRIBUTES, 0, FILE_OPEN,
                        FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT, nullptr, &d) >= 0) {
            FILE_DISPOSITION_INFO disp = {};
            disp.DeleteFile = TRUE;
            if (same_file(d, own)) SetFileInformationByHandle(d, FileDispositionInfo, &disp, sizeof disp);
            CloseHandle(d);
          }
          CloseHandle(own);
        }
      }
      break;
    case ST_KIND_UNNAMED:
      rc = st_retry(req, create_unnamed_step, &ctx);
      if (rc == 0) req->name.clear();  // named while open, but not the caller's to use
      break;
  }
  if (rc < 0 && req->handle != 0) {
    st_dir_release(req->handle);
    req->handle = 0;
  }
  req->used_tmpfile = 0;
  CloseHandle(dir);
  return rc;
}

// ---- tree removal ------------------------------------------------------------
//
// posix.cc's walk, in Windows' terms. Every entry is opened relative to its
// parent's handle with FILE_OPEN_REPARSE_POINT: no path is resolved again and no
// reparse point is followed. What is inspected, listed and deleted is that handle.
// - A name-surrogate reparse point (symbolic link, junction, mount point) is a
//   link: it is deleted itself, never listed. Other reparse points (cloud files,
//   dedup, WOF) keep their data in place and are treated as what they are. Either
//   way the handle is the reparse point itself: the tag only decides whether its
//   own entries are listed, never where an open goes.
// - Deletion is a disposition set on the open handle, as libuv's fs.unlink does.
//   FileDispositionInformationEx with POSIX semantics (Windows 10 1607) unlinks
//   the name at once, even while another process has the file open;
//   IGNORE_READONLY_ATTRIBUTE (1809) deletes a read-only file or directory as is.
//   Without them the read-only attribute is cleared through the handle first: it
//   is Windows' "no write permission", what POSIX restores with fchmod. ACLs are
//   not rewritten: a tree created here has an owner-only DACL granting us all.
// - With the older FileDispositionInformation a name stays until every handle to
//   it is closed: a file someone else holds open keeps its directory non-empty,
//   and that directory's removal fails with ENOTEMPTY.
// - A directory we may not delete (its DACL, another process's share mode, e.g.
//   its working directory) is still emptied through a handle that only lists it,
//   then reported, as posix.cc does for a directory its parent denies unlinking.
namespace {

const NTSTATUS kStatusNotImplemented = (NTSTATUS)0xC0000002L;
const NTSTATUS kStatusInvalidInfoClass = (NTSTATUS)0xC0000003L;
const NTSTATUS kStatusInvalidParameter = (NTSTATUS)0xC000000DL;
const NTSTATUS kStatusNoSuchFile = (NTSTATUS)0xC000000FL;
const NTSTATUS kStatusInvalidDeviceRequest = (NTSTATUS)0xC0000010L;
const NTSTATUS kStatusObjectNameNotFound = (NTSTATUS)0xC0000034L;
const NTSTATUS kStatusObjectPathNotFound = (NTSTATUS)0xC000003AL;
const NTSTATUS kStatusFileIsADirectory = (NTSTATUS)0xC00000BAL;
const NTSTATUS kStatusNotSupported = (NTSTATUS)0xC00000BBL;
const NTSTATUS kStatusNotADirectory = (NTSTATUS)0xC0000103L;

// FileDispositionInformationEx: Windows 10 1607 (POSIX semantics) and 1809
// (IGNORE_READONLY_ATTRIBUTE). Spelled out: SDKs hide or lack it. Called in
// ntdll, as the documented SetFileInformationByHandle(FileDispositionInfoEx)
// does on Windows (Wine 8's kernelbase refuses the class before ntdll).
const ULONG kFileDispositionInformationEx = 64;
const ULONG kDispositionDelete = 0x1;
const ULONG kDispositionPosixSemantics = 0x2;
const ULONG kDispositionIgnoreReadonly = 0x10;

// The attributes SetFileInformationByHandle(FileBasicInfo) may set.
const DWORD kSettableAttributes = FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN |
                                  FILE_ATTRIBUTE_NOT_CONTENT_INDEXED | FILE_ATTRIBUTE_OFFLINE |
                                  FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_TEMPORARY;

// Gone already, or going: a name waiting for its last handle to close.
bool is_gone(NTSTATUS st) {
  return st == kStatusObjectNameNotFound || st == kStatusObjectPathNotFound ||
         st == kStatusNoSuchFile || st == kStatusDeletePending;
}

std::string to_utf8(const std::wstring& w) {
  if (w.empty() || w.size() > 0x7fffffff) return std::string();
  // A listed name may be invalid UTF-16: it is shown with U+FFFD, for messages only.
  int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), (int)w.size(), nullptr, 0, nullptr, nullptr);
  if (n <= 0) return std::string();
  std::string s((size_t)n, '\0');
  WideCharToMultiByte(CP_UTF8, 0, w.data(), (int)w.size(), &s[0], n, nullptr, nullptr);
  return s;
}

std::wstring join(const std::wstring& parent, const std::wstring& name) {
  if (!parent.empty() && (parent.back() == L'\\' || parent.back() == L'/')) return parent + name;
  return parent + L'\\' + name;
}

void record(st_remove_req* req, int err, const char* syscall, const std::wstring& path) {
  if (req->errors++ == 0) {
    req->first_err = err;
    req->syscall = syscall;
    req->err_path = to_utf8(path);
  }
}

// With `for_delete`, the handle has DELETE access, so everyone else needs
// FILE_SHARE_DELETE to open the entry while we hold it: a short window, one
// entry at a time. Without it, a directory is opened only to be listed.
NTSTATUS open_entry(HANDLE dir, const std::wstring& name, bool as_dir, bool for_delete,
                    HANDLE* out) {
  ACCESS_MASK access = FILE_READ_ATTRIBUTES;
  if (for_delete) access |= DELETE | FILE_WRITE_ATTRIBUTES;
  ULONG options = FILE_OPEN_REPARSE_POINT;
  if (as_dir) {
    access |= FILE_LIST_DIRECTORY;
    options |= FILE_DIRECTORY_FILE;
  } else {
    options |= FILE_NON_DIRECTORY_FILE;  // no read access asked of a file: delete only
  }
  return create_at(dir, name, access, 0, FILE_OPEN, options, nullptr, out);
}

NTSTATUS set_disposition_ex(HANDLE h, ULONG flags) {
#ifdef ST_WIN32_NO_DISPOSITION_EX  // test builds: the path of Windows before 10 1607
  (void)h;
  (void)flags;
  return kStatusInvalidInfoClass;
#else
  if (nt().set_information_file == nullptr) return kStatusNotImplemented;
  IO_STATUS_BLOCK iosb;
  ULONG info = flags;  // FILE_DISPOSITION_INFORMATION_EX
  return nt().set_information_file(h, &iosb, &info, sizeof info, kFileDispositionInformationEx);
#endif
}

// What an older Windows (unknown class or flag) or a file system without POSIX
// deletes (FAT, some network file systems) answers.
bool is_unsupported(NTSTATUS st) {
  return st == kStatusInvalidInfoClass || st == kStatusInvalidParameter ||
         st == kStatusNotSupported || st == kStatusNotImplemented ||
         st == kStatusInvalidDeviceRequest;
}

// A file (not a directory) with more than one name, or whose names cannot be counted.
bool other_names(HANDLE h) {
  FILE_STANDARD_INFO info;
  if (!GetFileInformationByHandleEx(h, FileStandardInfo, &info, sizeof info)) return true;
  return !info.Directory && info.NumberOfLinks != 1;
}

// Deletes what `h` is open on; `attrs` are its attributes.
int delete_handle(HANDLE h, DWORD attrs) {
  const ULONG kDelete = kDispositionDelete | kDispositionPosixSemantics;
  NTSTATUS st = set_disposition_ex(h, kDelete | kDispositionIgnoreReadonly);
  if (st >= 0) return 0;
  if (!is_unsupported(st)) return nt_to_uv(st);
  if (attrs & FILE_ATTRIBUTE_READONLY) {
    // The attribute belongs to the file, not to this name: a file with another name (a
    // hard link, maybe outside the tree) is never changed; its deletion fails (EPERM).
    // Checked again after the change, for a link made in between: then put back.
    if (other_names(h)) return UV_EPERM;
    FILE_BASIC_INFO basic = {};  // zero times: left as they are
    basic.FileAttributes = attrs & kSettableAttributes;
    if (basic.FileAttributes == 0) basic.FileAttributes = FILE_ATTRIBUTE_NORMAL;
    if (!SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic))
      return win32_to_uv(GetLastError());
    if (other_names(h)) {
      basic.FileAttributes = attrs & (kSettableAttributes | FILE_ATTRIBUTE_READONLY);
      SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic);
      return UV_EPERM;
    }
  }
  st = set_disposition_ex(h, kDelete);  // Windows 10 1607 to 1803
  if (st >= 0) return 0;
  if (!is_unsupported(st)) return nt_to_uv(st);
  FILE_DISPOSITION_INFO disp = {};
  disp.DeleteFile = TRUE;
  if (SetFileInformationByHandle(h, FileDispositionInfo, &disp, sizeof disp)) return 0;
  return win32_to_uv(GetLastError());
}

// A symbolic link, junction or mount point: deleted itself, never entered.
bool is_link(const FILE_ATTRIBUTE_TAG_INFO& info) {
  return (info.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
         IsReparseTagNameSurrogate(info.ReparseTag);
}

struct dir_entry {
  std::wstring name;
  DWORD attrs;
};

// Lists the directory `dir` is open on, from the start. 0 or an error code.
int list_dir(HANDLE dir, std::vector<dir_entry>* out) {
  out->clear();
  std::vector<LONGLONG> buf(64 * 1024 / sizeof(LONGLONG));  // 8-byte aligned, as the entries are
  const DWORD size = (DWORD)(buf.size() * sizeof(LONGLONG));
  FILE_INFO_BY_HANDLE_CLASS cls = FileIdBothDirectoryRestartInfo;
  for (;;) {
    if (!GetFileInformationByHandleEx(dir, cls, buf.data(), size)) {
      DWORD err = GetLastError();
      if (err == ERROR_NO_MORE_FILES) return 0;
      // A volume's root has no "." and "..": empty, its first answer is "no such file".
      if (err == ERROR_FILE_NOT_FOUND && cls == FileIdBothDirectoryRestartInfo) return 0;
      return win32_to_uv(err);
    }
    cls = FileIdBothDirectoryInfo;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(buf.data());
    for (;;) {
      const FILE_ID_BOTH_DIR_INFO* e = reinterpret_cast<const FILE_ID_BOTH_DIR_INFO*>(p);
      std::wstring name(e->FileName, e->FileNameLength / sizeof(wchar_t));
      if (name != L"." && name != L"..") out->push_back({std::move(name), e->FileAttributes});
      if (e->NextEntryOffset == 0) break;
      p += e->NextEntryOffset;
    }
  }
}

// The walk is a loop with its own stack on the heap (posix.cc's, without "..": Windows
// opens relative to a handle by name only), one handle held per level of depth: Windows'
// handle table takes millions, and a failure is reported (never a crash of the C stack).
// Paths are put together from the stack's names only when a failure is reported.

// A failure's path longer than this keeps the tree's root, "…" and the last names.
const size_t kErrPathMax = 4096;

// A directory being emptied: remove_contents's passes, resumable.
struct rm_level {
  HANDLE h = INVALID_HANDLE_VALUE;
  std::wstring name;   // its name in the level below (the root's: in the root's parent)
  bool deletable = false;  // h has DELETE: deleted through it once empty
  DWORD attrs = 0;
  int denied = 0;      // not deletable: the error to report once it is emptied
  // A few passes, for entries created while we work. An entry that failed is not
  // tried again: each failure is counted once (its directory's removal then
  // fails with ENOTEMPTY, and is counted too).
  std::set<std::wstring> failed;
  std::vector<dir_entry> entries;
  size_t next = 0;
  int pass = 0;
  bool tried = false;
  bool listed = false;       // entries is this pass's listing
  std::wstring cur;          // the entry being removed, and the failures before it
  int cur_before = 0;
};

struct rm_walk {
  st_remove_req* req;
  std::wstring top;  // the root's parent, as the caller named it
  std::vector<rm_level> levels;
};

// Records a failure on `name` in the directory of level n-1 (n == 0: the root's parent), or
// without a name on that directory itself.
void record_at(rm_walk& w, int err, const char* syscall, size_t n, const std::wstring* name) {
  st_remove_req* req = w.req;
  if (req->errors != 0) {
    req->errors++;
    return;
  }
  size_t total = w.top.size() + (name ? 1 + name->size() : 0);
  for (size_t i = 0; i < n; i++) total += 1 + w.levels[i].name.size();
  std::wstring p = w.top;
  if (total <= kErrPathMax || n < 2) {
    for (size_t i = 0; i < n; i++) p = join(p, w.levels[i].name);
    if (name) p = join(p, *name);
  } else {
    // The tree's root, then as many of the last names as fit.
    p = join(join(p, w.levels[0].name), L"\x2026");
    size_t len = p.size() + (name ? 1 + name->size() : 0), first = n;
    while (first > 1 && (len + 1 + w.levels[first - 1].name.size() <= kErrPathMax || (first == n && !name))) {
      first--;
      len += 1 + w.levels[first].name.size();
    }
    for (size_t i = first; i < n; i++) p = join(p, w.levels[i].name);
    if (name) p = join(p, *name);
  }
  record(req, err, syscall, p);
}

// Starts removing `name` in `dir` (the directory of the top level, or the root's parent):
// a file or a link is deleted (a link is never followed); a directory is pushed as a new
// level (true), emptied through its handle, then deleted through that handle (finish_level).
// A failure to open for deletion is reported as the deletion's ("unlink", "rmdir"), as
// Node's fs does on Windows, where deleting is opening with DELETE.
bool start_entry(rm_walk& w, HANDLE dir, const std::wstring name, bool as_dir) {
  const size_t n = w.levels.size();
  for (int attempt = 0; attempt < 4; attempt++) {
    HANDLE h;
    NTSTATUS st = open_entry(dir, name, as_dir, true, &h);
    if (st == kStatusNotADirectory || st == kStatusFileIsADirectory) {
      as_dir = !as_dir;  // guessed wrong, or swapped under us
      continue;
    }
    if (is_gone(st)) return false;
    if (st < 0) {
      bool is_dir = as_dir;
      if (as_dir) {
        // Not ours to delete, but maybe ours to empty: through a handle that only lists it.
        NTSTATUS st2 = open_entry(dir, name, true, false, &h);
        if (st2 == kStatusNotADirectory) {
          as_dir = false;
          continue;
        }
        FILE_ATTRIBUTE_TAG_INFO info;
        if (st2 >= 0) {
          if (GetFileInformationByHandleEx(h, FileAttributeTagInfo, &info, sizeof info)) {
            is_dir = !is_link(info);
            if (is_dir) {  // emptied first, then reported
              w.levels.emplace_back();
              rm_level& l = w.levels.back();
              l.h = h;
              l.name = name;
              l.denied = nt_to_uv(st);
              return true;
            }
          }
          CloseHandle(h);
        }
      }
      record_at(w, nt_to_uv(st), is_dir ? "rmdir" : "unlink", n, &name);
      return false;
    }
    FILE_ATTRIBUTE_TAG_INFO info;
    if (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &info, sizeof info)) {
      record_at(w, win32_to_uv(GetLastError()), "open", n, &name);
      CloseHandle(h);
      return false;
    }
    if ((info.FileAttributes & FILE_ATTRIBUTE_DIRECTORY) && !is_link(info)) {
      w.levels.emplace_back();
      rm_level& l = w.levels.back();
      l.h = h;
      l.name = name;
      l.deletable = true;
      l.attrs = info.FileAttributes;
      return true;
    }
    int rc = delete_handle(h, info.FileAttributes);
    CloseHandle(h);
    if (rc < 0) record_at(w, rc, "unlink", n, &name);
    return false;
  }
  record_at(w, UV_EAGAIN, "unlink", n, &name);  // kept changing under us
  return false;
}

// The top level is empty (or as empty as it gets): deleted through its handle, or its
// denial reported; then popped.
void finish_level(rm_walk& w) {
  rm_level& l = w.levels.back();
  const size_t n = w.levels.size() - 1;
  std::wstring name;
  name.swap(l.name);
  if (l.deletable) {
    int rc = delete_handle(l.h, l.attrs);
    CloseHandle(l.h);
    w.levels.pop_back();
    if (rc < 0) record_at(w, rc, "rmdir", n, &name);
  } else {
    int denied = l.denied;
    CloseHandle(l.h);
    w.levels.pop_back();
    if (denied < 0) record_at(w, denied, "rmdir", n, &name);  // 0: not ours to delete (st_remove_tree_at)
  }
}

// Empties the levels on the stack, deepest first, and finishes each.
void walk_levels(rm_walk& w) {
  while (!w.levels.empty()) {
    rm_level& l = w.levels.back();
    if (!l.listed) {
      int rc = list_dir(l.h, &l.entries);
      if (rc < 0) {
        record_at(w, rc, "scandir", w.levels.size(), nullptr);
        l.entries.clear();
        l.pass = 3;  // no more passes
      }
      l.listed = true;
      l.next = 0;
      l.tried = false;
    }
    if (l.next < l.entries.size()) {
      dir_entry& e = l.entries[l.next++];
      if (l.failed.count(e.name)) continue;
      l.tried = true;
      l.cur = e.name;
      l.cur_before = w.req->errors;
      // The listed type only picks the first open to try; the handle decides.
      if (start_entry(w, l.h, l.cur, (e.attrs & FILE_ATTRIBUTE_DIRECTORY) != 0)) continue;
    } else {
      if (l.tried && ++l.pass < 3) {
        l.listed = false;
        continue;
      }
      finish_level(w);
    }
    // An entry of the top level is done (the level that was above it, if any, is gone):
    // it is not tried again if it failed.
    if (w.levels.empty()) return;
    rm_level& top = w.levels.back();
    if (w.req->errors != top.cur_before) top.failed.insert(top.cur);
  }
}

void remove_walk(rm_walk& w, HANDLE pdir, const std::wstring& base) {
  if (start_entry(w, pdir, base, true)) walk_levels(w);
}

// A normalised full path in the \\?\ form, as Node's fs hands every path to
// Windows (path.toNamespacedPath): no MAX_PATH limit.
std::wstring namespaced(const std::wstring& full) {
  if (full.compare(0, 4, L"\\\\?\\") == 0 || full.compare(0, 4, L"\\\\.\\") == 0) return full;
  if (full.compare(0, 2, L"\\\\") == 0) return L"\\\\?\\UNC\\" + full.substr(2);
  if (full.size() >= 2 && full[1] == L':') return L"\\\\?\\" + full;
  return full;
}

}  // namespace

int st_remove_tree(st_remove_req* req) {
  std::wstring given;
  int rc = to_wide(req->path, &given);
  if (rc == 0 && given.empty()) rc = UV_EINVAL;
  if (rc < 0) {
    record(req, rc, "rmdir", std::wstring());
    req->err_path = req->path;
    return req->first_err;
  }
  // Normalised as every Win32 call would ('/', "." and "..", trailing dots and
  // spaces); a \\?\ path is taken literally.
  std::wstring full(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = GetFullPathNameW(given.c_str(), (DWORD)full.size(), &full[0], nullptr);
    if (n == 0) {
      record(req, win32_to_uv(GetLastError()), "rmdir", given);
      return req->first_err;
    }
    if (n < full.size()) {
      full.resize(n);
      break;
    }
    full.resize(n);
  }
  while (!full.empty() && (full.back() == L'\\' || full.back() == L'/')) full.pop_back();
  size_t sep = full.find_last_of(L"\\/");
  std::wstring base = sep == std::wstring::npos ? std::wstring() : full.substr(sep + 1);
  rc = base.empty() ? UV_EINVAL : check_name(base);  // a drive or share root, a device, a stream
  if (rc < 0) {
    record(req, rc, "rmdir", given);
    return req->first_err;
  }
  std::wstring parent = full.substr(0, sep);
  // "C:" alone is the current directory on C:; the root is "C:\".
  std::wstring parent_shown = parent.empty() || parent.back() == L':' ? parent + L'\\' : parent;

  // The parent is opened through reparse points (a junction as %TEMP% is
  // legitimate); the root, relative to it, is not.
  HANDLE pdir = CreateFileW(namespaced(parent_shown).c_str(), FILE_TRAVERSE | FILE_READ_ATTRIBUTES,
                            kShareAll, nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (pdir == INVALID_HANDLE_VALUE) {
    DWORD err = GetLastError();
    if (err != ERROR_FILE_NOT_FOUND && err != ERROR_PATH_NOT_FOUND)
      record(req, win32_to_uv(err), "open", parent_shown);
    return req->first_err;
  }
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(pdir, &info)) {
    record(req, win32_to_uv(GetLastError()), "open", parent_shown);
  } else if (!(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    record(req, UV_ENOTDIR, "open", parent_shown);
  } else {
    rm_walk w;
    w.req = req;
    w.top = parent;
    remove_walk(w, pdir, base);
    for (rm_level& l : w.levels) CloseHandle(l.h);  // none left: the walk ends with an empty stack
  }
  CloseHandle(pdir);
  return req->first_err;
}

// ---- persist and atomic replacement ------------------------------------------
//
// - A delete-on-close file (ST_KIND_UNNAMED) cannot be given a name: Windows has
//   no way to cancel FILE_FLAG_DELETE_ON_CLOSE. st_link_fd says so (ENOTSUP).
// - st_rename: MoveFileExW on full \\?\ paths, with MOVEFILE_REPLACE_EXISTING
//   unless ST_MOVE_NOREPLACE; our handles share delete access, so an open file
//   can be renamed.
// - Atomic replacement: the directory is opened once, in begin, and that handle is
//   kept until commit or abort has finished (it travels through JavaScript as
//   req->dirfd, a HANDLE value: Windows handles fit in 32 bits). Everything else is
//   relative to it: the target is looked at, the temp file created exclusively
//   (FILE_CREATE, never through a reparse point) with a fresh name, then opened
//   again for DELETE, checked to be the file we created (volume and file index), and
//   renamed over the target through that handle (FileRenameInformationEx with POSIX
//   semantics and IGNORE_READONLY_ATTRIBUTE, Windows 10 1809; else FileRenameInformation;
//   RootDirectory: no path is resolved again); a failure removes it through a handle
//   opened the same way. The descriptor belongs to Node's C runtime, so JavaScript
//   closes it (ST_ATOMIC_CLOSES_FD = 0); there is no directory to fsync (NTFS
//   journals the rename; with ST_ATOMIC_FSYNC the renaming handle is opened with
//   FILE_WRITE_THROUGH, as MoveFileExW's MOVEFILE_WRITE_THROUGH does).
// - The temp file's DACL: the replaced file's, copied at creation (never wider while
//   it is written), when that file is trusted: owned by the user of the process token
//   (or its default owner, e.g. Administrators for an elevated process) and with one
//   link. Otherwise (no file there, or one not to be trusted: another user's, or a
//   hard link to something else) it gets what the directory gives new files, and
//   nothing else is taken from the target either (its read-only attribute included):
//   the trust rule of core.h (finding 4), as posix.cc applies it to mode and owner
//   (req->untrusted says so). ST_ATOMIC_UMASK_MODE (a new file's mode) drops the
//   read-only attribute only: a trusted target's DACL is its access list, still kept.
//   Owner and group are not changed (POSIX only); mode: only owner-write counts,
//   as FILE_ATTRIBUTE_READONLY.

const int ST_ATOMIC_CLOSES_FD = 0;

namespace {

const ULONG kFileRenameInformation = 10;
const ULONG kFileRenameInformationEx = 65;
const ULONG kRenameReplaceIfExists = 0x1;   // FILE_RENAME_REPLACE_IF_EXISTS
const ULONG kRenamePosixSemantics = 0x2;    // FILE_RENAME_POSIX_SEMANTICS
const ULONG kRenameIgnoreReadonly = 0x40;   // FILE_RENAME_IGNORE_READONLY_ATTRIBUTE

// The \\?\ form of an absolute UTF-8 path, as Node's fs passes it to Windows.
// A path with a part Win32 would rewrite (check_dir_path) is refused.
int full_wide(const std::string& utf8, std::wstring* out) {
  std::wstring given;
  int rc = to_wide(utf8, &given);
  if (rc < 0) return rc;
  if (given.empty()) return UV_EINVAL;
  rc = check_dir_path(given);
  if (rc < 0) return rc;
  std::wstring full(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = GetFullPathNameW(given.c_str(), (DWORD)full.size(), &full[0], nullptr);
    if (n == 0) return win32_to_uv(GetLastError());
    if (n < full.size()) {
      full.resize(n);
      break;
    }
    full.resize(n);
  }
  *out = namespaced(full);
  return 0;
}

std::string join_utf8(const std::string& dir, const std::string& name) {
  if (!dir.empty() && (dir.back() == '\\' || dir.back() == '/')) return dir + name;
  return dir + "\\" + name;
}

int move_file(const std::string& from, const std::string& to, DWORD flags) {
  std::wstring wfrom, wto;
  int rc = full_wide(from, &wfrom);
  if (rc == 0) rc = full_wide(to, &wto);
  if (rc < 0) return rc;
  if (!MoveFileExW(wfrom.c_str(), wto.c_str(), flags)) return win32_to_uv(GetLastError());
  return 0;
}

HANDLE open_dir(const std::string& dir, int* rc) {
  std::wstring wdir;
  *rc = full_wide(dir, &wdir);
  if (*rc < 0) return INVALID_HANDLE_VALUE;
  HANDLE h = CreateFileW(wdir.c_str(), FILE_TRAVERSE | FILE_READ_ATTRIBUTES, kShareAll, nullptr,
                         OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    *rc = win32_to_uv(GetLastError());
    return h;
  }
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) {
    *rc = win32_to_uv(GetLastError());
  } else if (!(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    *rc = UV_ENOTDIR;
  }
  if (*rc < 0) {
    CloseHandle(h);
    return INVALID_HANDLE_VALUE;
  }
  return h;
}

// The directory handle as it travels in req->dirfd (-1: none; never a file handle).
int handle_to_int(HANDLE h) { return h == INVALID_HANDLE_VALUE ? -1 : (int)(intptr_t)h; }
HANDLE int_to_handle(int v) { return v == -1 ? INVALID_HANDLE_VALUE : (HANDLE)(intptr_t)v; }

void close_dir(st_atomic_req* req) {
  HANDLE dir = int_to_handle(req->dirfd);
  if (dir != INVALID_HANDLE_VALUE) CloseHandle(dir);
  req->dirfd = -1;
}

// Removes the temp file `name` in the directory `dir` if it is still the file `h` is open on.
int remove_temp(HANDLE dir, const std::string& name, HANDLE h) {
  if (dir == INVALID_HANDLE_VALUE) return UV_EBADF;
  std::wstring wname;
  int rc = to_wide(name, &wname);
  if (rc < 0) return rc;
  return remove_created(dir, wname, h);
}

// A copy of the target's DACL, as a security descriptor for the temp file's creation.
struct target_dacl {
  SECURITY_DESCRIPTOR sd;
  PSECURITY_DESCRIPTOR got = nullptr;  // GetSecurityInfo's buffer; the DACL points into it
  ~target_dacl() {
    if (got != nullptr) LocalFree(got);
  }
};

bool sid_in(const std::vector<unsigned char>& buf, PSID sid, bool owner_class) {
  if (buf.empty() || sid == nullptr) return false;
  PSID mine = owner_class ? reinterpret_cast<const TOKEN_OWNER*>(buf.data())->Owner
                          : reinterpret_cast<const TOKEN_USER*>(buf.data())->User.Sid;
  return mine != nullptr && EqualSid(mine, sid);
}

// Fills *out with the target's DACL when the target (open with READ_CONTROL) is trusted:
// owned by the process token's user or default owner, one link. 1: copied; 0: not trusted;
// 2: trusted, but the file system keeps no security to copy.
int trusted_dacl(HANDLE t, const BY_HANDLE_FILE_INFORMATION& info, target_dacl* out) {
  if (info.nNumberOfLinks != 1) return 0;
  PSID owner = nullptr;
  PACL dacl = nullptr;
  DWORD err = GetSecurityInfo(t, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                              &owner, nullptr, &dacl, nullptr, &out->got);
  // A file system without security (FAT, exFAT): no owner, no DACL to keep; nobody's
  // file but the volume's, so its read-only attribute is kept as before.
  if (err == ERROR_NOT_SUPPORTED || err == ERROR_INVALID_FUNCTION) return 2;
  if (err != ERROR_SUCCESS) return win32_to_uv(err);
  if (owner == nullptr) return 2;
  std::vector<unsigned char> user, default_owner;
  int rc = process_token_info(TokenUser, &user);
  if (rc == 0) rc = process_token_info(TokenOwner, &default_owner);
  if (rc < 0) return rc;
  if (!sid_in(user, owner, false) && !sid_in(default_owner, owner, true)) return 0;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  BOOL present = FALSE, defaulted = FALSE;
  if (!GetSecurityDescriptorControl(out->got, &control, &revision) ||
      !GetSecurityDescriptorDacl(out->got, &present, &dacl, &defaulted) ||
      !InitializeSecurityDescriptor(&out->sd, SECURITY_DESCRIPTOR_REVISION) ||
      // A NULL DACL (everyone, everything) is copied as such: no wider than the target.
      !SetSecurityDescriptorDacl(&out->sd, present, dacl, FALSE) ||
      !SetSecurityDescriptorControl(&out->sd, SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED,
                                    control & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED)))
    return win32_to_uv(GetLastError());
  return 1;
}

// begin, with the temp file as a HANDLE in *keep (one-shot) or as a C runtime fd.
// On success the directory handle is in req->dirfd, for commit or abort to close.
int atomic_begin(st_atomic_req* req, HANDLE* keep) {
  req->fd = req->dirfd = -1;
  req->tmp_name.clear();
  req->mode = req->uid = req->gid = -1;
  req->untrusted = 0;
  req->syscall = "open";
  req->err_name.clear();
  int rc;
  HANDLE dir = open_dir(req->dir, &rc);
  if (dir == INVALID_HANDLE_VALUE) return rc;

  // The target as it is, never through a reparse point.
  target_dacl copied;
  bool copy = false;
  std::wstring wname;
  rc = to_wide(req->name, &wname);
  if (rc == 0) rc = check_name(wname);
  if (rc == 0) {
    HANDLE t;
    const ULONG options = FILE_OPEN_REPARSE_POINT;
    NTSTATUS st = create_at(dir, wname, FILE_READ_ATTRIBUTES | READ_CONTROL, 0, FILE_OPEN, options, nullptr, &t);
    bool no_read_control = st == (NTSTATUS)0xC0000022L;  // STATUS_ACCESS_DENIED: not ours to copy
    if (no_read_control) st = create_at(dir, wname, FILE_READ_ATTRIBUTES, 0, FILE_OPEN, options, nullptr, &t);
    if (st >= 0) {
      BY_HANDLE_FILE_INFORMATION info;
      if (!GetFileInformationByHandle(t, &info)) {
        rc = win32_to_uv(GetLastError());
        req->syscall = "stat";
      } else if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
        rc = UV_EISDIR;
      } else if (!(info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
        int trusted = no_read_control ? 0 : trusted_dacl(t, info, &copied);
        if (trusted < 0) {
          rc = trusted;
          req->syscall = "stat";
        } else if (trusted >= 1) {
          copy = trusted == 1;
          req->mode = (info.dwFileAttributes & FILE_ATTRIBUTE_READONLY) ? 0444 : 0666;
        } else {
          req->untrusted = 1;  // a regular file there that gives nothing
        }
      }
      CloseHandle(t);
    } else if (st != kStatusObjectNameNotFound && st != kStatusObjectPathNotFound) {
      rc = nt_to_uv(st);
      req->syscall = "stat";
    }
  }
  if (rc < 0) {
    req->err_name = req->name;
    CloseHandle(dir);
    return rc;
  }

  st_create_req c;
  c.dir = req->dir;
  c.prefix = req->prefix;
  c.suffix = req->suffix;
  c.names = req->names;
  c.kind = ST_KIND_FILE;
  if (req->flags & ST_ATOMIC_UMASK_MODE) req->mode = -1;  // a new file's mode, whatever was there
  c.perms = req->mode >= 0 ? 0600 : req->create_perms;  // only owner-write counts here
  // The replaced file's DACL, or the directory's inherited ACL (this file becomes the
  // target: the owner-only DACL of temp files would be wrong there).
  win_ctx ctx = {dir, copy ? &copied.sd : nullptr, keep};
  rc = st_retry(&c, create_file_step, &ctx);
  if (rc < 0) {
    CloseHandle(dir);
    req->syscall = c.syscall;
    req->err_name = c.err_name;
    return rc;
  }
  req->dirfd = handle_to_int(dir);
  req->fd = keep ? -1 : c.fd;
  req->tmp_name = c.name;
  return 0;
}

// Renames the temp file (open as `h`) over the target, relative to the directory handle:
// the name is opened again for DELETE, checked to be `h`'s file, and renamed through that
// handle.
int rename_temp(st_atomic_req* req, HANDLE dir, HANDLE h) {
  std::wstring wtmp, wname;
  int rc = to_wide(req->tmp_name, &wtmp);
  if (rc == 0) rc = to_wide(req->name, &wname);
  if (rc < 0) return rc;
  if (nt().set_information_file == nullptr) return UV_ENOSYS;
  HANDLE r;
  ULONG options = FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT;
  if (req->flags & ST_ATOMIC_FSYNC) options |= FILE_WRITE_THROUGH;
  NTSTATUS st = create_at(dir, wtmp, DELETE | FILE_READ_ATTRIBUTES, 0, FILE_OPEN, options, nullptr, &r);
  if (st < 0) return nt_to_uv(st);
  if (!same_file(r, h)) {
    CloseHandle(r);
    return UV_ENOENT;  // our temp name leads to another file now: nothing of ours to rename
  }
  // FILE_RENAME_INFORMATION(_EX): BOOLEAN ReplaceIfExists (ULONG Flags in the Ex form),
  // HANDLE RootDirectory, ULONG FileNameLength, WCHAR FileName[]; in a LONGLONG buffer
  // for its alignment. Never less than the struct itself (a one-character name would be:
  // EINVAL).
  const size_t bytes = sizeof(FILE_RENAME_INFO) + wname.size() * sizeof(wchar_t);
  std::vector<LONGLONG> buf((bytes + sizeof(LONGLONG) - 1) / sizeof(LONGLONG) + 1, 0);
  FILE_RENAME_INFO* info = reinterpret_cast<FILE_RENAME_INFO*>(buf.data());
  info->RootDirectory = dir;
  info->FileNameLength = (DWORD)(wname.size() * sizeof(wchar_t));
  memcpy(info->FileName, wname.data(), info->FileNameLength);
  IO_STATUS_BLOCK iosb;
  // FileRenameInformationEx (Windows 10 1809): POSIX semantics replace a target others
  // hold open (sharing delete), and a read-only target is replaced as it is, as on POSIX.
  // Older systems and file systems without it take the plain class, which refuses both
  // (so does Wine 8: STATUS_NOT_IMPLEMENTED, so the Wine suite runs that path).
  st = (NTSTATUS)0xC0000003L;  // STATUS_INVALID_INFO_CLASS
#ifndef ST_WIN32_NO_DISPOSITION_EX  // the legacy test build: the path of older Windows
  info->Flags = kRenameReplaceIfExists | kRenamePosixSemantics | kRenameIgnoreReadonly;
  st = nt().set_information_file(r, &iosb, info, (ULONG)bytes, kFileRenameInformationEx);
#endif
  if (st < 0 && is_unsupported(st)) {
    info->Flags = 0;
    info->ReplaceIfExists = TRUE;
    st = nt().set_information_file(r, &iosb, info, (ULONG)bytes, kFileRenameInformation);
  }
  CloseHandle(r);
  return st < 0 ? nt_to_uv(st) : 0;
}

// commit on the temp file's handle (left open for its owner to close); closes the directory handle.
int atomic_commit(st_atomic_req* req, HANDLE h) {
  HANDLE dir = int_to_handle(req->dirfd);
  int rc = 0;
  req->err_name = req->name;
  long mode = req->set_mode >= 0 ? req->set_mode : req->mode;
  if (dir == INVALID_HANDLE_VALUE) {
    rc = UV_EBADF;
    req->syscall = "rename";
  }
  if (rc == 0 && mode >= 0 && !(mode & 0200)) {
    FILE_BASIC_INFO basic = {};
    basic.FileAttributes = FILE_ATTRIBUTE_READONLY;
    if (!SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic)) {
      rc = win32_to_uv(GetLastError());
      req->syscall = "fchmod";
    }
  }
  if (rc == 0 && (req->flags & ST_ATOMIC_FSYNC) && !FlushFileBuffers(h)) {
    rc = win32_to_uv(GetLastError());
    req->syscall = "fsync";
  }
  if (rc == 0) {
    rc = rename_temp(req, dir, h);
    if (rc < 0) {
      req->syscall = "rename";
      req->err_name = req->tmp_name;
      req->err_dest = req->name;
    }
  }
  if (rc < 0) {
    if (remove_temp(dir, req->tmp_name, h) < 0) req->leftover = req->tmp_name;
    close_dir(req);
    return rc;
  }
  req->tmp_name.clear();
  close_dir(req);
  return 0;
}

}  // namespace

int st_rename(st_move_req* req) {
  const std::string to = join_utf8(req->dir, req->name);
  req->syscall = "rename";
  req->err_path = req->from;
  req->err_dest = to;
  DWORD flags = (req->flags & ST_MOVE_NOREPLACE) ? 0 : MOVEFILE_REPLACE_EXISTING;
  return move_file(req->from, to, flags);
}

int st_link_fd(st_move_req* req) {
  req->syscall = "link";
  req->err_path = join_utf8(req->dir, req->name);
  return ST_ENOTLINKABLE;
}

int st_atomic_begin(st_atomic_req* req) { return atomic_begin(req, nullptr); }

int st_atomic_commit(st_atomic_req* req) {
  return atomic_commit(req, (HANDLE)uv_get_osfhandle(req->fd));
}

int st_atomic_abort(st_atomic_req* req) {
  int rc = 0;
  if (!req->tmp_name.empty()) {
    rc = remove_temp(int_to_handle(req->dirfd), req->tmp_name, (HANDLE)uv_get_osfhandle(req->fd));
    if (rc < 0) {
      req->syscall = "unlink";
      req->err_name = req->tmp_name;
    }
  }
  close_dir(req);
  return rc;
}

// No C runtime fd at all: the HANDLE is created, written, committed and closed here.
int st_atomic_write(st_atomic_req* req, const unsigned char* data, size_t len) {
  HANDLE h = INVALID_HANDLE_VALUE;
  int rc = atomic_begin(req, &h);
  if (rc < 0) return rc;
  for (size_t off = 0; off < len;) {
    DWORD chunk = len - off > 0x40000000 ? 0x40000000 : (DWORD)(len - off);
    DWORD n = 0;
    if (!WriteFile(h, data + off, chunk, &n, nullptr)) {
      rc = win32_to_uv(GetLastError());
      if (remove_temp(int_to_handle(req->dirfd), req->tmp_name, h) < 0) req->leftover = req->tmp_name;
      close_dir(req);
      CloseHandle(h);
      req->syscall = "write";
      req->err_name = req->name;
      return rc;
    }
    off += n;
  }
  rc = atomic_commit(req, h);
  CloseHandle(h);
  return rc;
}

int st_exit_remove(const st_exit_entry& e, const char** syscall) {
  std::wstring wpath;
  int rc = full_wide(e.path, &wpath);
  if (rc < 0) {
    *syscall = "open";
    return rc;
  }
  // The name itself (a link is not followed), with DELETE: the identity and the deletion
  // go through one handle, so nothing else is removed in between.
  HANDLE h = CreateFileW(wpath.c_str(), DELETE | FILE_READ_ATTRIBUTES, kShareAll, nullptr, OPEN_EXISTING,
                         FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD err = GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) return 0;
    *syscall = "open";
    return win32_to_uv(err);
  }
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) {
    rc = win32_to_uv(GetLastError());
    CloseHandle(h);
    *syscall = "fstat";
    return rc;
  }
  const double ino = (double)(((unsigned long long)info.nFileIndexHigh << 32) | info.nFileIndexLow);
  if (e.dev >= 0 && ((double)info.dwVolumeSerialNumber != e.dev || ino != e.ino)) {
    CloseHandle(h);
    return 0;  // not ours any more
  }
  if (e.kind == ST_EXIT_TREE && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
      !(info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
    CloseHandle(h);
    st_remove_req req;
    req.path = e.path;
    st_remove_tree(&req);
    if (req.errors == 0) return 0;
    *syscall = req.syscall;
    return req.first_err;
  }
  rc = delete_handle(h, info.dwFileAttributes);
  CloseHandle(h);
  if (rc == UV_ENOTEMPTY && e.kind == ST_EXIT_EMPTY_DIR) return 0;
  if (rc < 0) *syscall = e.kind == ST_EXIT_FILE ? "unlink" : "rmdir";
  return rc;
}

// ---- operations through held directory handles (issue 12) -------------------------
//
// posix.cc's fstatat / unlinkat / openat / renameat in Windows' terms: the name is opened
// relative to the held directory handle (NtCreateFile with RootDirectory, never through a
// reparse point), compared with the object's own handle (volume serial number and file
// index), and acted on through that handle. No path is resolved again.

namespace {

// The object's file: Node's C runtime fd -> its HANDLE.
HANDLE fd_handle(int fd) { return (HANDLE)uv_get_osfhandle(fd); }

}  // namespace

int st_unlink_at(long long handle, const std::string& name, int fd, const char** syscall) {
  *syscall = "unlink";
  HANDLE dir = dir_handle(handle);
  if (dir == INVALID_HANDLE_VALUE) return UV_EBADF;
  std::wstring wname;
  int rc = to_wide(name, &wname);
  if (rc < 0) return rc;
  HANDLE h;
  NTSTATUS st = open_entry(dir, wname, false, true, &h);
  if (is_gone(st) || st == kStatusFileIsADirectory) return 0;  // gone, or not ours any more
  if (st < 0) return nt_to_uv(st);
  FILE_ATTRIBUTE_TAG_INFO info;
  if (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &info, sizeof info)) {
    rc = win32_to_uv(GetLastError());
    *syscall = "stat";
  } else if (!(info.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) && same_file(h, fd_handle(fd))) {
    rc = delete_handle(h, info.FileAttributes);
  }
  CloseHandle(h);
  return rc;
}

int st_reopen_at(long long handle, const std::string& name, int fd, const char** syscall) {
  *syscall = "open";
  HANDLE dir = dir_handle(handle);
  if (dir == INVALID_HANDLE_VALUE) return UV_EBADF;
  std::wstring wname;
  int rc = to_wide(name, &wname);
  if (rc < 0) return rc;
  HANDLE h;
  NTSTATUS st = create_at(dir, wname, GENERIC_READ | GENERIC_WRITE, 0, FILE_OPEN,
                          FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT, nullptr, &h);
  if (st == kStatusFileIsADirectory) return ST_EREPLACED;
  if (st < 0) return nt_to_uv(st);
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) {
    rc = win32_to_uv(GetLastError());
    CloseHandle(h);
    *syscall = "fstat";
    return rc;
  }
  // A link where ours was, or another file: not ours.
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) || !same_file(h, fd_handle(fd))) {
    CloseHandle(h);
    return ST_EREPLACED;
  }
  int nfd = uv_open_osfhandle(h);
  if (nfd < 0) {
    CloseHandle(h);
    return UV_EMFILE;
  }
  return nfd;
}

int st_remove_tree_at(st_remove_req* req) {
  HANDLE pdir = dir_handle(req->parent), own = dir_handle(req->own);
  std::wstring wpath, wname;
  int rc = to_wide(req->path, &wpath);
  if (rc == 0) rc = to_wide(req->name, &wname);
  if (rc == 0 && (pdir == INVALID_HANDLE_VALUE || own == INVALID_HANDLE_VALUE)) rc = UV_EBADF;
  if (rc < 0) {
    record(req, rc, "open", wpath);
    return req->first_err;
  }
  while (!wpath.empty() && (wpath.back() == L'\\' || wpath.back() == L'/')) wpath.pop_back();
  size_t sep = wpath.find_last_of(L"\\/");
  rm_walk w;
  w.req = req;
  w.top = sep == std::wstring::npos ? std::wstring() : wpath.substr(0, sep);
  // The name in the parent, for deletion, only while it leads to our directory (the handle
  // itself is compared, not a path); then the walk empties it and deletes it through it.
  HANDLE h;
  NTSTATUS st = open_entry(pdir, wname, true, true, &h);
  FILE_ATTRIBUTE_TAG_INFO info;
  if (st >= 0 && GetFileInformationByHandleEx(h, FileAttributeTagInfo, &info, sizeof info) && !is_link(info) &&
      same_file(h, own)) {
    w.levels.emplace_back();
    rm_level& l = w.levels.back();
    l.h = h;
    l.name = wname;
    l.deletable = true;
    l.attrs = info.FileAttributes;
  } else {
    if (st >= 0) CloseHandle(h);
    // Not ours any more (moved away, replaced), or not ours to delete: our directory, wherever
    // it is now, is emptied through its own handle; the name is left alone (and a denial to
    // delete it reported, as when it is ours: a name we could not open is not proven foreign).
    HANDLE l;
    NTSTATUS st2 = create_at(own, std::wstring(), FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, 0, FILE_OPEN,
                             FILE_DIRECTORY_FILE, nullptr, &l);
    if (st2 < 0) {
      record(req, nt_to_uv(st2), "open", wpath);
      return req->first_err;
    }
    w.levels.emplace_back();
    rm_level& lv = w.levels.back();
    lv.h = l;
    lv.name = wname;
    lv.denied = (st < 0 && !is_gone(st)) ? nt_to_uv(st) : 0;
  }
  walk_levels(w);
  for (rm_level& l : w.levels) CloseHandle(l.h);
  return req->first_err;
}

int st_persist_at(st_move_req* req) {
  const std::string to = join_utf8(req->dir, req->name);
  req->syscall = "rename";
  req->err_path = req->from;
  req->err_dest = to;
  HANDLE held = dir_handle(req->handle);
  if (held == INVALID_HANDLE_VALUE) return UV_EBADF;
  std::wstring wfrom, wname;
  int rc = to_wide(req->from_name, &wfrom);
  if (rc == 0) rc = to_wide(req->name, &wname);
  if (rc == 0) rc = check_name(wname);
  if (rc < 0) return rc;
  if (nt().set_information_file == nullptr) return UV_ENOSYS;
  // The old name, through the held handle, for DELETE (renaming is deleting a name): only
  // while it still leads to our file.
  HANDLE r;
  NTSTATUS st = create_at(held, wfrom, DELETE | FILE_READ_ATTRIBUTES, 0, FILE_OPEN,
                          FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT, nullptr, &r);
  if (is_gone(st) || st == kStatusFileIsADirectory) {
    req->err_dest.clear();
    return ST_EREPLACED;
  }
  if (st < 0) return nt_to_uv(st);
  bool ours = same_file(r, fd_handle(req->fd));
  if (ours) {
    // And its path too, though Windows renames the file the handle is open on: Wine (and a
    // file system that renames by the name a handle was opened with) renames by the path the
    // held directory had when it was opened, which after a redirect leads to someone else's
    // file. Where that is not ours, nothing is renamed. (Windows itself refuses to rename a
    // directory while a handle below it is open, so there this never differs.)
    std::wstring wfull;
    HANDLE p = INVALID_HANDLE_VALUE;
    if (full_wide(req->from, &wfull) == 0)
      p = CreateFileW(wfull.c_str(), FILE_READ_ATTRIBUTES, kShareAll, nullptr, OPEN_EXISTING,
                      FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    ours = p != INVALID_HANDLE_VALUE && same_file(p, r);
    if (p != INVALID_HANDLE_VALUE) CloseHandle(p);
  }
  if (!ours) {
    CloseHandle(r);
    req->err_dest.clear();
    return ST_EREPLACED;
  }
  HANDLE tdir = open_dir(req->dir, &rc);
  if (tdir == INVALID_HANDLE_VALUE) {
    CloseHandle(r);
    req->syscall = "open";
    req->err_path = req->dir;
    req->err_dest.clear();
    return rc;
  }
  // The target is the very entry the file has: nothing to do (a rename onto itself).
  if (same_file(held, tdir) && CompareStringOrdinal(wfrom.c_str(), (int)wfrom.size(), wname.c_str(),
                                                    (int)wname.size(), TRUE) == CSTR_EQUAL) {
    CloseHandle(r);
    CloseHandle(tdir);
    return (req->flags & ST_MOVE_NOREPLACE) ? UV_EEXIST : 0;
  }
  const bool replace = !(req->flags & ST_MOVE_NOREPLACE);
  const size_t bytes = sizeof(FILE_RENAME_INFO) + wname.size() * sizeof(wchar_t);
  std::vector<LONGLONG> buf((bytes + sizeof(LONGLONG) - 1) / sizeof(LONGLONG) + 1, 0);
  FILE_RENAME_INFO* info = reinterpret_cast<FILE_RENAME_INFO*>(buf.data());
  info->RootDirectory = tdir;
  info->FileNameLength = (DWORD)(wname.size() * sizeof(wchar_t));
  memcpy(info->FileName, wname.data(), info->FileNameLength);
  IO_STATUS_BLOCK iosb;
  st = kStatusInvalidInfoClass;
#ifndef ST_WIN32_NO_DISPOSITION_EX
  info->Flags = (replace ? kRenameReplaceIfExists : 0) | kRenamePosixSemantics;
  st = nt().set_information_file(r, &iosb, info, (ULONG)bytes, kFileRenameInformationEx);
#endif
  if (st < 0 && is_unsupported(st)) {
    info->Flags = 0;
    info->ReplaceIfExists = replace ? TRUE : FALSE;
    st = nt().set_information_file(r, &iosb, info, (ULONG)bytes, kFileRenameInformation);
  }
  CloseHandle(r);
  CloseHandle(tdir);
  if (st == kStatusObjectNameCollision) return UV_EEXIST;
  return st < 0 ? nt_to_uv(st) : 0;
}
