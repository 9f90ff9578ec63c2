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
// - No ST_EINSECURE check: Windows has no "world-writable without the sticky
//   bit"; who may delete or replace a child is the directory's ACL, and every
//   object created here gets a protected DACL granting only the current user.
//   ST_FLAG_ALLOW_INSECURE is accepted and has nothing to skip.
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

#include <cwchar>
#include <string>
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
struct nt_api {
  decltype(&::NtCreateFile) create_file = nullptr;
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

// A name in use, even by a file that is only waiting to be deleted, is a
// collision: try another name. Access denied is not (libuv: EPERM), and is
// returned at once.
int status_to_uv(NTSTATUS st) {
  if (st == kStatusObjectNameCollision || st == kStatusDeletePending) return ST_ERR_EEXIST;
  if (nt().status_to_dos == nullptr) return UV_EIO;
  return win32_to_uv(nt().status_to_dos(st));
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

// An absolute security descriptor: a protected DACL (nothing inherited from
// the directory) with one ACE, full control for the user the calling thread
// runs as. A directory's ACE is inheritable, so what is created inside gets it.
struct owner_only_sd {
  SECURITY_DESCRIPTOR sd;
  std::vector<unsigned char> token_user;  // TOKEN_USER and the SID it points into
  std::vector<unsigned char> acl;
};

int build_owner_only_sd(owner_only_sd* out, bool inheritable) {
  HANDLE token = nullptr;
  if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token)) {
    DWORD err = GetLastError();
    if (err != ERROR_NO_TOKEN) return win32_to_uv(err);
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return win32_to_uv(GetLastError());
  }
  DWORD len = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &len);
  DWORD err = GetLastError();
  if (len == 0 || err != ERROR_INSUFFICIENT_BUFFER) {
    CloseHandle(token);
    return win32_to_uv(err);
  }
  // A vector's buffer comes from operator new: aligned for TOKEN_USER and ACL.
  out->token_user.assign(len, 0);
  BOOL ok = GetTokenInformation(token, TokenUser, out->token_user.data(), len, &len);
  err = GetLastError();
  CloseHandle(token);
  if (!ok) return win32_to_uv(err);
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
  uname.Length = (USHORT)(name.size() * sizeof(wchar_t));  // check_name caps it at 255
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
void remove_created(HANDLE dir, const std::wstring& name, HANDLE created) {
  HANDLE h;
  if (create_at(dir, name, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES, 0, FILE_OPEN,
                FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT, nullptr, &h) < 0)
    return;
  if (same_file(h, created)) {
    FILE_BASIC_INFO basic = {};
    basic.FileAttributes = FILE_ATTRIBUTE_NORMAL;  // a read-only file cannot be deleted
    SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic);
    FILE_DISPOSITION_INFO disp = {};
    disp.DeleteFile = TRUE;
    SetFileInformationByHandle(h, FileDispositionInfo, &disp, sizeof disp);
  }
  CloseHandle(h);
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
  NTSTATUS st = create_at(c->dir, wname, FILE_READ_ATTRIBUTES, FILE_ATTRIBUTE_NORMAL, FILE_CREATE,
                          FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT, c->sd, &h);
  if (st < 0) return status_to_uv(st);
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

int st_create(st_create_req* req) {
  req->syscall = "open";
  req->err_name.clear();
  if (req->kind != ST_KIND_FILE && req->kind != ST_KIND_DIR && req->kind != ST_KIND_UNNAMED)
    return UV_EINVAL;

  std::wstring wdir;
  int rc = to_wide(req->dir, &wdir);
  if (rc < 0) return rc;

  owner_only_sd sd;
  rc = build_owner_only_sd(&sd, req->kind == ST_KIND_DIR);
  if (rc < 0) {
    if (req->kind == ST_KIND_DIR) req->syscall = "mkdir";
    return rc;
  }

  // FILE_TRAVERSE | FILE_READ_ATTRIBUTES: the least a handle needs for its share
  // mode to count (traverse is "execute" access), and what a create-only
  // directory such as C:\Windows\Temp grants its users (no FILE_LIST_DIRECTORY).
  // No FILE_SHARE_DELETE: see the top of this file. The other side of it: if
  // someone holds the directory open with DELETE access (renaming or removing
  // it right now), this fails with EBUSY.
  HANDLE dir = CreateFileW(wdir.c_str(), FILE_TRAVERSE | FILE_READ_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (dir == INVALID_HANDLE_VALUE) return win32_to_uv(GetLastError());
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(dir, &info)) {
    rc = win32_to_uv(GetLastError());
  } else if (!(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    rc = UV_ENOTDIR;
  }
  // No ST_EINSECURE check here: see the top of this file.
  if (rc < 0) {
    CloseHandle(dir);
    return rc;
  }

  win_ctx ctx = {dir, &sd.sd};
  switch (req->kind) {
    case ST_KIND_FILE:
      rc = st_retry(req, create_file_step, &ctx);
      break;
    case ST_KIND_DIR:
      rc = st_retry(req, create_dir_step, &ctx);
      break;
    case ST_KIND_UNNAMED:
      rc = st_retry(req, create_unnamed_step, &ctx);
      if (rc == 0) req->name.clear();  // named while open, but not the caller's to use
      break;
  }
  req->used_tmpfile = 0;
  CloseHandle(dir);
  return rc;
}
