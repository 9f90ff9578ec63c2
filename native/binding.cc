// The only file that knows JavaScript: unpack arguments, call the core, and
// turn results into values or fs-style errors (code, errno, syscall, path).
// Argument checking is the TypeScript layer's job; here only cheap asserts.
// A worker that exits while an async call is in flight tears its environment down first:
// the call's completion can then no longer create or throw a JavaScript value, and without
// this node-addon-api aborts the whole process (FATAL ERROR ... napi_throw). With it the
// result is dropped: nobody is left in that worker to receive it.
#define NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
#include <napi.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#include <process.h>
#define getpid _getpid
#else
#include <dlfcn.h>
#include <unistd.h>
#endif

#include "core.h"
#include "platform.h"

namespace {

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (name.empty()) return dir;
#ifdef _WIN32
  const char sep = '\\';
  bool ends = !dir.empty() && (dir.back() == '\\' || dir.back() == '/');
#else
  const char sep = '/';
  bool ends = !dir.empty() && dir.back() == '/';
#endif
  return ends ? dir + name : dir + sep + name;
}

// An Error shaped like Node's fs errors; `dest` for a two-path call (rename, link).
// Why a directory failed the policy, as the message says it.
std::string InsecureReason(int why, unsigned long uid) {
  switch (why) {
    case ST_INSECURE_GROUP:
      return "group-writable without the sticky bit";
    case ST_INSECURE_STICKY:
      return "sticky but owned by uid " + std::to_string(uid);
    default:
      return "world-writable without the sticky bit";
  }
}

Napi::Error MakeError(Napi::Env env, int rc, const char* syscall, const std::string& path,
                      const std::string& dest = std::string(), const std::string& reason = std::string()) {
  if (rc == ST_EINSECURE) {
    std::string msg = "refusing insecure temporary directory '" + path + "': it is " +
                      (reason.empty() ? InsecureReason(ST_INSECURE_WORLD, 0) : reason) +
                      " (pass allowInsecureDir: true to use it anyway)";
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("code", "ERR_INSECURE_TEMPDIR");
    e.Set("reason", reason.empty() ? InsecureReason(ST_INSECURE_WORLD, 0) : reason);
    e.Set("syscall", syscall);
    e.Set("path", path);
    return e;
  }
  if (rc == ST_EREPLACED) {
    // persist.ts's replaced(): the name no longer leads to the file the object holds.
    Napi::Error e = Napi::Error::New(
        env, "the temporary file '" + path +
                 "' was replaced: that name no longer leads to the file this object holds (a temp "
                 "cleaner or another process removed or swapped it)");
    e.Set("code", "ERR_TEMPFILE_REPLACED");
    e.Set("path", path);
    return e;
  }
  if (rc == ST_EOUTSIDE) {
    // Found on the handle, after the caller's own check of the path passed: the path
    // changed in between. The caller (securetemp/tmp) turns it into its argument error.
    Napi::Error e = Napi::Error::New(env, "'" + path + "' is not inside '" + dest +
                                              "': it led out of it when it was opened");
    e.Set("code", "ERR_OUTSIDE_ROOT");
    e.Set("syscall", syscall);
    e.Set("path", path);
    e.Set("root", dest);
    return e;
  }
  std::string detail;
  if (rc == ST_ENOTLINKABLE) {
    rc = UV_ENOTSUP;
    detail =
        "this unnamed temporary file cannot be given a name (only an O_TMPFILE file on Linux "
        "can; this one was unlinked after creation or is a Windows delete-on-close file: use "
        "NamedTemporaryFile to persist)";
  } else if (rc == UV_EXDEV) {
    detail = std::string(uv_strerror(rc)) +
             ": the target is on another file system than the temporary file, which is "
             "unchanged (still open, still temporary)";
  } else {
    detail = uv_strerror(rc);
  }
  const char* code = uv_err_name(rc);
  std::string msg = std::string(code) + ": " + detail + ", " + syscall + " '" + path + "'";
  if (!dest.empty()) msg += " -> '" + dest + "'";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, rc));
  e.Set("code", code);
  e.Set("syscall", syscall);
  e.Set("path", path);
  if (!dest.empty()) e.Set("dest", dest);
  return e;
}

// A failure that also left an intermediate file behind says so.
Napi::Error WithLeftover(Napi::Error e, const std::string& leftover) {
  if (leftover.empty()) return e;
  e.Set("leftover", leftover);
  std::string msg = e.Get("message").As<Napi::String>().Utf8Value();
  e.Set("message", msg + " (and the intermediate file '" + leftover + "' could not be removed)");
  return e;
}

void ReadNames(const Napi::Value& v, std::vector<std::string>* out) {
  if (!v.IsArray()) return;
  Napi::Array names = v.As<Napi::Array>();
  uint32_t n = names.Length();
  out->reserve(n);
  for (uint32_t i = 0; i < n; i++) out->push_back(names.Get(i).As<Napi::String>().Utf8Value());
}

std::string Str(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }
int32_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
int64_t Long(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
double Num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }

// Arguments: dir, prefix, suffix, kind, flags, perms, names (array or null), and
// optionally beneath (a string: dir is relative to it and must stay inside it).
void ReadCreateArgs(const Napi::CallbackInfo& info, st_create_req* req) {
  req->dir = info[0].As<Napi::String>().Utf8Value();
  req->prefix = info[1].As<Napi::String>().Utf8Value();
  req->suffix = info[2].As<Napi::String>().Utf8Value();
  req->kind = info[3].As<Napi::Number>().Int32Value();
  req->flags = info[4].As<Napi::Number>().Int32Value();
  req->perms = info[5].As<Napi::Number>().Uint32Value();
  if (info.Length() > 6) ReadNames(info[6], &req->names);
  if (info.Length() > 7 && info[7].IsString()) req->beneath = info[7].As<Napi::String>().Utf8Value();
}

// The directory as the caller knows it: dir, or beneath joined with dir.
std::string CreateDir(const st_create_req& req) {
  return req.beneath.empty() ? req.dir : JoinPath(req.beneath, req.dir);
}

Napi::Error CreateError(Napi::Env env, int rc, const st_create_req& req) {
  return MakeError(env, rc, req.syscall, JoinPath(CreateDir(req), req.err_name),
                   rc == ST_EOUTSIDE ? req.beneath : std::string(),
                   rc == ST_EINSECURE ? (req.insecure == ST_INSECURE_TEXT ? req.insecure_text
                                                                     : InsecureReason(req.insecure, req.insecure_uid))
                                       : std::string());
}

// An unnamed file: its fd. A directory: its name ([name, dev, ino] with beneath; -1 for
// an identity the platform does not give). A named file: [fd, name].
// With ST_FLAG_HOLD: a named file [fd, name, handle], a directory [name, handle, ownHandle]
// (handles 0 where the platform has no table).
Napi::Value CreateResult(Napi::Env env, const st_create_req& req) {
  if (req.kind == ST_KIND_UNNAMED) return Napi::Number::New(env, req.fd);
  if ((req.flags & ST_FLAG_HOLD) && req.beneath.empty()) {
    Napi::Array out = Napi::Array::New(env, 3);
    if (req.kind == ST_KIND_DIR) {
      out.Set(0u, Napi::String::New(env, req.name));
      out.Set(1u, Napi::Number::New(env, (double)req.handle));
      out.Set(2u, Napi::Number::New(env, (double)req.own_handle));
    } else {
      out.Set(0u, Napi::Number::New(env, req.fd));
      out.Set(1u, Napi::String::New(env, req.name));
      out.Set(2u, Napi::Number::New(env, (double)req.handle));
    }
    return out;
  }
  if (req.kind == ST_KIND_DIR && !req.beneath.empty()) {
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, Napi::String::New(env, req.name));
    out.Set(1u, Napi::Number::New(env, req.has_id ? (double)req.id_dev : -1));
    out.Set(2u, Napi::Number::New(env, req.has_id ? (double)req.id_ino : -1));
    return out;
  }
  if (req.kind == ST_KIND_DIR) return Napi::String::New(env, req.name);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, req.fd));
  out.Set(1u, Napi::String::New(env, req.name));
  return out;
}

Napi::Value CreateSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  st_create_req req;
  ReadCreateArgs(info, &req);
  int rc = st_create(&req);
  if (rc < 0) {
    CreateError(env, rc, req).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return CreateResult(env, req);
}

class CreateWorker : public Napi::AsyncWorker {
 public:
  CreateWorker(Napi::Env env, Napi::Promise::Deferred deferred)
      : Napi::AsyncWorker(env, "securetemp:create"), deferred_(deferred) {}
  st_create_req req;

  void Execute() override { rc_ = st_create(&req); }
  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ < 0)
      deferred_.Reject(CreateError(env, rc_, req).Value());
    else
      deferred_.Resolve(CreateResult(env, req));
  }

 private:
  Napi::Promise::Deferred deferred_;
  int rc_ = 0;
};

Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  CreateWorker* w = new CreateWorker(env, deferred);
  ReadCreateArgs(info, &w->req);
  w->Queue();
  return deferred.Promise();
}

// Resolves/returns undefined, or throws the first failure with `errors` = how many there were.
Napi::Value RemoveResult(Napi::Env env, const st_remove_req& req) {
  if (req.errors == 0) return env.Undefined();
  Napi::Error e = MakeError(env, req.first_err, req.syscall, req.err_path);
  e.Set("errors", Napi::Number::New(env, req.errors));
  return e.Value();
}

Napi::Value RemoveTreeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  st_remove_req req;
  req.path = info[0].As<Napi::String>().Utf8Value();
  st_remove_tree(&req);
  if (req.errors == 0) return env.Undefined();
  Napi::Error(env, RemoveResult(env, req)).ThrowAsJavaScriptException();
  return env.Undefined();
}

class RemoveWorker : public Napi::AsyncWorker {
 public:
  RemoveWorker(Napi::Env env, Napi::Promise::Deferred deferred)
      : Napi::AsyncWorker(env, "securetemp:remove"), deferred_(deferred) {}
  st_remove_req req;

  void Execute() override { st_remove_tree(&req); }
  void OnOK() override {
    Napi::Env env = Env();
    if (req.errors == 0)
      deferred_.Resolve(env.Undefined());
    else
      deferred_.Reject(RemoveResult(env, req));
  }

 private:
  Napi::Promise::Deferred deferred_;
};

Napi::Value RemoveTree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  RemoveWorker* w = new RemoveWorker(env, deferred);
  w->req.path = info[0].As<Napi::String>().Utf8Value();
  w->Queue();
  return deferred.Promise();
}

// ---- the directory handle table ----------------------------------------------------

Napi::Value DirRelease(const Napi::CallbackInfo& info) {
  st_dir_release((long long)Long(info, 0));
  return info.Env().Undefined();
}

Napi::Value DirReleaseIdle(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), st_dir_release_idle());
}

Napi::Value DirOpenCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), st_dir_open_count());
}

// unlinkAtSync(handle, name, fd, path): path only for the message.
Napi::Value UnlinkAtSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* syscall = "";
  int rc = st_unlink_at((long long)Long(info, 0), Str(info, 1), Int(info, 2), &syscall);
  if (rc < 0) MakeError(env, rc, syscall, Str(info, 3)).ThrowAsJavaScriptException();
  return env.Undefined();
}

// reopenAtSync(handle, name, fd, path): the new fd, or -1 when the name no longer leads to
// the file fd holds (the caller throws ERR_TEMPFILE_REPLACED).
Napi::Value ReopenAtSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* syscall = "";
  int rc = st_reopen_at((long long)Long(info, 0), Str(info, 1), Int(info, 2), &syscall);
  if (rc == ST_EREPLACED) return Napi::Number::New(env, -1);
  if (rc < 0) {
    MakeError(env, rc, syscall, Str(info, 3)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, rc);
}

// removeTreeAt(parent, own, name, path)
void ReadRemoveAt(const Napi::CallbackInfo& info, st_remove_req* req) {
  req->parent = (long long)Long(info, 0);
  req->own = (long long)Long(info, 1);
  req->name = Str(info, 2);
  req->path = Str(info, 3);
}

Napi::Value TmpfileKnownUnsupported(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), st_tmpfile_known_unsupported() != 0);
}

// Tests only (test/faults): every thread's pool of random bytes made stale, so the next name
// drawn on any thread reads the OS CSPRNG (getrandom) again, deterministically.
Napi::Value RandomInvalidate(const Napi::CallbackInfo& info) {
  st_random_invalidate();
  return info.Env().Undefined();
}

Napi::Value RandomChars(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t n = info[0].As<Napi::Number>().Uint32Value();
  std::string s(n, '\0');
  int rc = st_random_name_chars(&s[0], n);
  if (rc < 0) {
    MakeError(env, rc, "getrandom", "").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::String::New(env, s);
}

// Closes a descriptor the addon opened, with the libuv of the Node.js that loaded the addon (on
// Windows: its C runtime's descriptor table, where uv_open_osfhandle put it), as fs.closeSync
// does. For worker threads: Node tracks the descriptors a worker's fs opened and warns ("File
// descriptor N closed but not opened in unmanaged mode") when its fs closes any other.
Napi::Value CloseSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  uv_fs_t req;
  int rc = uv_fs_close(loop, &req, fd, nullptr);
  uv_fs_req_cleanup(&req);
  if (rc < 0) MakeError(env, rc, "close", "").ThrowAsJavaScriptException();
  return env.Undefined();
}

// ---- memory for files in memory ----------------------------------------------------------

// pagesAlloc(n): a Buffer of n bytes of memory from the system (st_pages_alloc), given back to
// the system when the garbage collector frees the Buffer (never while a view of it is alive).
Napi::Value PagesAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = static_cast<size_t>(Int(info, 0));
  void* p = n > 0 ? st_pages_alloc(n) : nullptr;
  if (p == nullptr) {
    MakeError(env, UV_ENOMEM, "mmap", "").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Buffer<uint8_t>::New(
      env, static_cast<uint8_t*>(p), n,
      [](Napi::Env, uint8_t* data, void* hint) { st_pages_free(data, reinterpret_cast<uintptr_t>(hint)); },
      reinterpret_cast<void*>(static_cast<uintptr_t>(n)));
}

// ---- memory-only files ---------------------------------------------------------------
// memfd_create and fcntl touch no storage and do not block: sync only, from both JS forms.

// memfdCreateSync(): the descriptor; an fs-style error (ENOSYS where there is none).
Napi::Value MemfdCreateSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rc = st_memfd_create();
  if (rc < 0) {
    MakeError(env, rc, "memfd_create", "").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, rc);
}

// memfdSealSync(fd): F_ADD_SEALS shrink|grow|write|seal.
Napi::Value MemfdSealSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rc = st_memfd_seal(Int(info, 0));
  if (rc < 0) MakeError(env, rc, "fcntl", "").ThrowAsJavaScriptException();
  return env.Undefined();
}

// memfdSealsSync(fd): the F_GET_SEALS bits.
Napi::Value MemfdSealsSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rc = st_memfd_seals(Int(info, 0));
  if (rc < 0) {
    MakeError(env, rc, "fcntl", "").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, rc);
}

// ---- persist and atomic replacement ---------------------------------------------

// One core call on the thread pool: `run` off the main thread, then `ok` or `fail`.
template <typename Req>
class CallWorker : public Napi::AsyncWorker {
 public:
  using Run = int (*)(Req*);
  using Ok = Napi::Value (*)(Napi::Env, const Req&);
  using Fail = Napi::Error (*)(Napi::Env, int, const Req&);
  CallWorker(Napi::Env env, const char* name, Run run, Ok ok, Fail fail)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), run_(run), ok_(ok), fail_(fail) {}
  Req req;

  Napi::Value Start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }
  void Execute() override { rc_ = run_(&req); }
  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ < 0)
      deferred_.Reject(fail_(env, rc_, req).Value());
    else
      deferred_.Resolve(ok_(env, req));
  }

 private:
  Napi::Promise::Deferred deferred_;
  Run run_;
  Ok ok_;
  Fail fail_;
  int rc_ = 0;
};

// Runs `run` now (sync) or on the thread pool (async).
template <typename Req>
Napi::Value Call(const Napi::CallbackInfo& info, bool async, const char* name, int (*run)(Req*),
                 void (*read)(const Napi::CallbackInfo&, Req*),
                 Napi::Value (*ok)(Napi::Env, const Req&),
                 Napi::Error (*fail)(Napi::Env, int, const Req&)) {
  Napi::Env env = info.Env();
  if (async) {
    CallWorker<Req>* w = new CallWorker<Req>(env, name, run, ok, fail);
    read(info, &w->req);
    return w->Start();
  }
  Req req;
  read(info, &req);
  int rc = run(&req);
  if (rc < 0) {
    fail(env, rc, req).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return ok(env, req);
}

Napi::Value Nothing(Napi::Env env, const st_move_req&) { return env.Undefined(); }
Napi::Value NothingAtomic(Napi::Env env, const st_atomic_req&) { return env.Undefined(); }

Napi::Error MoveError(Napi::Env env, int rc, const st_move_req& req) {
  return WithLeftover(MakeError(env, rc, req.syscall, req.err_path, req.err_dest), req.leftover);
}

Napi::Error AtomicError(Napi::Env env, int rc, const st_atomic_req& req) {
  std::string dest = req.err_dest.empty() ? std::string() : JoinPath(req.dir, req.err_dest);
  std::string leftover = req.leftover.empty() ? std::string() : JoinPath(req.dir, req.leftover);
  return WithLeftover(MakeError(env, rc, req.syscall, JoinPath(req.dir, req.err_name), dest), leftover);
}

// rename(from, dir, name, flags)
void ReadRename(const Napi::CallbackInfo& info, st_move_req* req) {
  req->from = Str(info, 0);
  req->dir = Str(info, 1);
  req->name = Str(info, 2);
  req->flags = Int(info, 3);
}

// linkFd(fd, dir, name, flags, prefix, suffix, names)
void ReadLinkFd(const Napi::CallbackInfo& info, st_move_req* req) {
  req->fd = Int(info, 0);
  req->dir = Str(info, 1);
  req->name = Str(info, 2);
  req->flags = Int(info, 3);
  req->prefix = Str(info, 4);
  req->suffix = Str(info, 5);
  ReadNames(info[6], &req->names);
}

// persistAt(handle, fromName, fromPath, fd, dir, name, flags, prefix, suffix, names)
void ReadPersistAt(const Napi::CallbackInfo& info, st_move_req* req) {
  req->handle = (long long)Long(info, 0);
  req->from_name = Str(info, 1);
  req->from = Str(info, 2);
  req->fd = Int(info, 3);
  req->dir = Str(info, 4);
  req->name = Str(info, 5);
  req->flags = Int(info, 6);
  req->prefix = Str(info, 7);
  req->suffix = Str(info, 8);
  ReadNames(info[9], &req->names);
}

Napi::Error PersistAtError(Napi::Env env, int rc, const st_move_req& req) {
  if (rc == ST_EREPLACED) return MakeError(env, rc, req.syscall, req.from);
  return MoveError(env, rc, req);
}

// atomicBegin(dir, name, prefix, suffix, flags, names, createPerms)
void ReadBegin(const Napi::CallbackInfo& info, st_atomic_req* req) {
  req->dir = Str(info, 0);
  req->name = Str(info, 1);
  req->prefix = Str(info, 2);
  req->suffix = Str(info, 3);
  req->flags = Int(info, 4);
  ReadNames(info[5], &req->names);
  req->create_perms = info[6].As<Napi::Number>().Uint32Value();
}

// [fd, dirfd, tmpName, flags, mode, uid, gid]; mode/uid/gid: what the trust rule kept of the
// target (core.h), -1: nothing (no regular file there, or one not to be trusted).
Napi::Value BeginResult(Napi::Env env, const st_atomic_req& req) {
  Napi::Array out = Napi::Array::New(env, 7);
  out.Set(0u, Napi::Number::New(env, req.fd));
  out.Set(1u, Napi::Number::New(env, req.dirfd));
  out.Set(2u, Napi::String::New(env, req.tmp_name));
  out.Set(3u, Napi::Number::New(env, req.flags));
  out.Set(4u, Napi::Number::New(env, (double)req.mode));
  out.Set(5u, Napi::Number::New(env, (double)req.uid));
  out.Set(6u, Napi::Number::New(env, (double)req.gid));
  return out;
}

// atomicCommit(fd, dirfd, dir, name, tmpName, flags, mode, uid, gid, setMode, setUid, setGid,
//              prefix, suffix, names): mode/uid/gid as begin gave them
void ReadCommit(const Napi::CallbackInfo& info, st_atomic_req* req) {
  req->fd = Int(info, 0);
  req->dirfd = Int(info, 1);
  req->dir = Str(info, 2);
  req->name = Str(info, 3);
  req->tmp_name = Str(info, 4);
  req->flags = Int(info, 5);
  req->mode = (long)Long(info, 6);
  req->uid = (long)Long(info, 7);
  req->gid = (long)Long(info, 8);
  req->set_mode = (long)Long(info, 9);
  req->set_uid = (long)Long(info, 10);
  req->set_gid = (long)Long(info, 11);
  req->prefix = Str(info, 12);
  req->suffix = Str(info, 13);
  ReadNames(info[14], &req->names);
}

// The one-shot form: begin's arguments, the data, and commit's settings.
struct write_req {
  st_atomic_req r;
  const unsigned char* data = nullptr;
  size_t len = 0;
  // The async form writes from a copy of its own: a reference to the Uint8Array keeps the view
  // alive, not its memory; the caller may transfer (detach) the ArrayBuffer while the worker
  // writes, and the worker would write freed memory (seventh outside review: another file's
  // bytes in the target). The sync form writes before anything else can run.
  std::vector<unsigned char> copy;
};

// atomicWrite(dir, name, prefix, suffix, flags, names, createPerms, data, setMode, setUid, setGid)
void ReadWriteArgs(const Napi::CallbackInfo& info, write_req* w, bool own) {
  ReadBegin(info, &w->r);
  Napi::Uint8Array data = info[7].As<Napi::Uint8Array>();
  w->len = data.ByteLength();
  if (own) {
    w->copy.assign(data.Data(), data.Data() + w->len);
    w->data = w->copy.data();
  } else {
    w->data = data.Data();
  }
  w->r.set_mode = (long)Long(info, 8);
  w->r.set_uid = (long)Long(info, 9);
  w->r.set_gid = (long)Long(info, 10);
}
void ReadWrite(const Napi::CallbackInfo& info, write_req* w) { ReadWriteArgs(info, w, false); }
void ReadWriteOwn(const Napi::CallbackInfo& info, write_req* w) { ReadWriteArgs(info, w, true); }

int RunWrite(write_req* w) { return st_atomic_write(&w->r, w->data, w->len); }
Napi::Value NothingWrite(Napi::Env env, const write_req&) { return env.Undefined(); }
Napi::Error WriteError(Napi::Env env, int rc, const write_req& w) { return AtomicError(env, rc, w.r); }

// atomicAbort(fd, dirfd, dir, tmpName)
void ReadAbort(const Napi::CallbackInfo& info, st_atomic_req* req) {
  req->fd = Int(info, 0);
  req->dirfd = Int(info, 1);
  req->dir = Str(info, 2);
  req->tmp_name = Str(info, 3);
}

int RunRemoveAt(st_remove_req* r) {
  st_remove_tree_at(r);
  return r->errors ? -1 : 0;
}
Napi::Value NothingRemove(Napi::Env env, const st_remove_req&) { return env.Undefined(); }
Napi::Error RemoveAtError(Napi::Env env, int, const st_remove_req& r) {
  return Napi::Error(env, RemoveResult(env, r));
}
Napi::Value RemoveTreeAtSync(const Napi::CallbackInfo& i) {
  return Call<st_remove_req>(i, false, "", RunRemoveAt, ReadRemoveAt, NothingRemove, RemoveAtError);
}
Napi::Value RemoveTreeAt(const Napi::CallbackInfo& i) {
  return Call<st_remove_req>(i, true, "securetemp:remove", RunRemoveAt, ReadRemoveAt, NothingRemove, RemoveAtError);
}

Napi::Value RenameSync(const Napi::CallbackInfo& i) {
  return Call<st_move_req>(i, false, "", st_rename, ReadRename, Nothing, MoveError);
}
Napi::Value Rename(const Napi::CallbackInfo& i) {
  return Call<st_move_req>(i, true, "securetemp:rename", st_rename, ReadRename, Nothing, MoveError);
}
Napi::Value LinkFdSync(const Napi::CallbackInfo& i) {
  return Call<st_move_req>(i, false, "", st_link_fd, ReadLinkFd, Nothing, MoveError);
}
Napi::Value LinkFd(const Napi::CallbackInfo& i) {
  return Call<st_move_req>(i, true, "securetemp:link", st_link_fd, ReadLinkFd, Nothing, MoveError);
}
Napi::Value PersistAtSync(const Napi::CallbackInfo& i) {
  return Call<st_move_req>(i, false, "", st_persist_at, ReadPersistAt, Nothing, PersistAtError);
}
Napi::Value PersistAt(const Napi::CallbackInfo& i) {
  return Call<st_move_req>(i, true, "securetemp:persist", st_persist_at, ReadPersistAt, Nothing, PersistAtError);
}
Napi::Value AtomicBeginSync(const Napi::CallbackInfo& i) {
  return Call<st_atomic_req>(i, false, "", st_atomic_begin, ReadBegin, BeginResult, AtomicError);
}
Napi::Value AtomicBegin(const Napi::CallbackInfo& i) {
  return Call<st_atomic_req>(i, true, "securetemp:atomic", st_atomic_begin, ReadBegin, BeginResult, AtomicError);
}
Napi::Value AtomicCommitSync(const Napi::CallbackInfo& i) {
  return Call<st_atomic_req>(i, false, "", st_atomic_commit, ReadCommit, NothingAtomic, AtomicError);
}
Napi::Value AtomicCommit(const Napi::CallbackInfo& i) {
  return Call<st_atomic_req>(i, true, "securetemp:atomic", st_atomic_commit, ReadCommit, NothingAtomic, AtomicError);
}
Napi::Value AtomicWriteSync(const Napi::CallbackInfo& i) {
  return Call<write_req>(i, false, "", RunWrite, ReadWrite, NothingWrite, WriteError);
}
Napi::Value AtomicWrite(const Napi::CallbackInfo& i) {
  return Call<write_req>(i, true, "securetemp:atomic", RunWrite, ReadWriteOwn, NothingWrite, WriteError);
}
Napi::Value AtomicAbortSync(const Napi::CallbackInfo& i) {
  return Call<st_atomic_req>(i, false, "", st_atomic_abort, ReadAbort, NothingAtomic, AtomicError);
}
Napi::Value AtomicAbort(const Napi::CallbackInfo& i) {
  return Call<st_atomic_req>(i, true, "securetemp:atomic", st_atomic_abort, ReadAbort, NothingAtomic, AtomicError);
}

// Objects a worker thread handed over, removed when the process exits (C atexit: after the
// main thread's own exit hook, whichever threads loaded the addon). The list is never freed:
// it is used from atexit.
namespace {
std::mutex g_exit_mu;
std::vector<st_exit_entry>* g_exit_list = nullptr;
// The process the list belongs to: a child forked without exec (a native module's pre-fork
// server, a daemonizer) inherits the list and the atexit function, and its exit() must not
// remove what its parent still uses (second outside review, 2026-12-03).
long g_exit_pid = 0;

void RemoveHandedOver() {
  std::vector<st_exit_entry> list;
  {
    std::lock_guard<std::mutex> lock(g_exit_mu);
    if (g_exit_list == nullptr || (long)getpid() != g_exit_pid) return;
    list.swap(*g_exit_list);
  }
  for (auto it = list.rbegin(); it != list.rend(); ++it) {  // newest first: files before their directory
    const char* syscall = "";
    int rc = st_exit_remove(*it, &syscall);
    if (rc < 0)
      fprintf(stderr, "(node:%d) CleanupWarning: securetemp: cleanup at exit failed: %s: %s, %s '%s'\n",
              (int)getpid(), uv_err_name(rc), uv_strerror(rc), syscall, it->path.c_str());
  }
}
}  // namespace

Napi::Value RemoveAtProcessExit(const Napi::CallbackInfo& info) {
  st_exit_entry e;
  e.kind = Int(info, 0);
  e.path = Str(info, 1);
  e.dev = Num(info, 2);  // as fs.Stats gives them: compared as doubles, as JavaScript rounded them
  e.ino = Num(info, 3);
  std::lock_guard<std::mutex> lock(g_exit_mu);
  if (g_exit_list == nullptr) {
    // Node unloads an addon when the last environment that loaded it ends (a worker's), and
    // unloading runs this module's atexit functions then: pinned first, they run at exit.
#ifdef _WIN32
    HMODULE self;
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                       reinterpret_cast<LPCWSTR>(&RemoveHandedOver), &self);
#else
    Dl_info self;
    if (dladdr(reinterpret_cast<void*>(&RemoveHandedOver), &self) != 0 && self.dli_fname != nullptr)
      dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
#endif
    g_exit_list = new std::vector<st_exit_entry>();
    g_exit_pid = (long)getpid();
    std::atexit(RemoveHandedOver);
  }
  g_exit_list->push_back(std::move(e));
  return info.Env().Undefined();
}

// The handed-over objects removed now: before a signal re-raised by cleanupOnSignals() ends
// the process, which runs no atexit function.
Napi::Value RemoveHandedOverNow(const Napi::CallbackInfo& info) {
  RemoveHandedOver();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createSync", Napi::Function::New(env, CreateSync, "createSync"));
  exports.Set("create", Napi::Function::New(env, Create, "create"));
  exports.Set("removeTreeSync", Napi::Function::New(env, RemoveTreeSync, "removeTreeSync"));
  exports.Set("removeTree", Napi::Function::New(env, RemoveTree, "removeTree"));
  exports.Set("removeAtProcessExit", Napi::Function::New(env, RemoveAtProcessExit, "removeAtProcessExit"));
  exports.Set("removeHandedOverNow", Napi::Function::New(env, RemoveHandedOverNow, "removeHandedOverNow"));
  exports.Set("closeSync", Napi::Function::New(env, CloseSync, "closeSync"));
  exports.Set("randomChars", Napi::Function::New(env, RandomChars, "randomChars"));
  exports.Set("randomInvalidate", Napi::Function::New(env, RandomInvalidate, "randomInvalidate"));
  exports.Set("tmpfileKnownUnsupported", Napi::Function::New(env, TmpfileKnownUnsupported, "tmpfileKnownUnsupported"));
  exports.Set("renameSync", Napi::Function::New(env, RenameSync, "renameSync"));
  exports.Set("rename", Napi::Function::New(env, Rename, "rename"));
  exports.Set("linkFdSync", Napi::Function::New(env, LinkFdSync, "linkFdSync"));
  exports.Set("linkFd", Napi::Function::New(env, LinkFd, "linkFd"));
  exports.Set("atomicBeginSync", Napi::Function::New(env, AtomicBeginSync, "atomicBeginSync"));
  exports.Set("atomicBegin", Napi::Function::New(env, AtomicBegin, "atomicBegin"));
  exports.Set("atomicCommitSync", Napi::Function::New(env, AtomicCommitSync, "atomicCommitSync"));
  exports.Set("atomicCommit", Napi::Function::New(env, AtomicCommit, "atomicCommit"));
  exports.Set("atomicWriteSync", Napi::Function::New(env, AtomicWriteSync, "atomicWriteSync"));
  exports.Set("atomicWrite", Napi::Function::New(env, AtomicWrite, "atomicWrite"));
  exports.Set("atomicAbortSync", Napi::Function::New(env, AtomicAbortSync, "atomicAbortSync"));
  exports.Set("atomicAbort", Napi::Function::New(env, AtomicAbort, "atomicAbort"));
  exports.Set("persistAtSync", Napi::Function::New(env, PersistAtSync, "persistAtSync"));
  exports.Set("persistAt", Napi::Function::New(env, PersistAt, "persistAt"));
  exports.Set("dirRelease", Napi::Function::New(env, DirRelease, "dirRelease"));
  exports.Set("dirReleaseIdle", Napi::Function::New(env, DirReleaseIdle, "dirReleaseIdle"));
  exports.Set("dirOpenCount", Napi::Function::New(env, DirOpenCount, "dirOpenCount"));
  exports.Set("unlinkAtSync", Napi::Function::New(env, UnlinkAtSync, "unlinkAtSync"));
  exports.Set("reopenAtSync", Napi::Function::New(env, ReopenAtSync, "reopenAtSync"));
  exports.Set("removeTreeAtSync", Napi::Function::New(env, RemoveTreeAtSync, "removeTreeAtSync"));
  exports.Set("removeTreeAt", Napi::Function::New(env, RemoveTreeAt, "removeTreeAt"));
  exports.Set("pagesAlloc", Napi::Function::New(env, PagesAlloc, "pagesAlloc"));
  exports.Set("memfdCreateSync", Napi::Function::New(env, MemfdCreateSync, "memfdCreateSync"));
  exports.Set("memfdSealSync", Napi::Function::New(env, MemfdSealSync, "memfdSealSync"));
  exports.Set("memfdSealsSync", Napi::Function::New(env, MemfdSealsSync, "memfdSealsSync"));
  exports.Set("ATOMIC_CLOSES_FD", Napi::Boolean::New(env, ST_ATOMIC_CLOSES_FD != 0));
#if defined(ST_POSIX_PORTABLE)
  exports.Set("PORTABLE", Napi::Boolean::New(env, true));  // binding.gyp: st_posix_portable=1
#else
  exports.Set("PORTABLE", Napi::Boolean::New(env, false));
#endif
  exports.Set("TMP_MAX", Napi::Number::New(env, ST_TMP_MAX));
  exports.Set("RANDOM_CHARS", Napi::Number::New(env, ST_RANDOM_CHARS));
  return exports;
}

}  // namespace

NODE_API_MODULE(securetemp, Init)
