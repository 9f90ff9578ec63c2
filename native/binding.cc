// The only file that knows JavaScript: unpack arguments, call the core, and
// turn results into values or fs-style errors (code, errno, syscall, path).
// Argument checking is the TypeScript layer's job; here only cheap asserts.
#include <napi.h>
#include <uv.h>

#include "core.h"

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

// An Error shaped like Node's fs errors.
Napi::Error MakeError(Napi::Env env, int rc, const char* syscall, const std::string& path) {
  if (rc == ST_EINSECURE) {
    std::string msg = "refusing insecure temporary directory '" + path +
                      "': it is world-writable without the sticky bit "
                      "(pass allowInsecureDir: true to use it anyway)";
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("code", "ERR_INSECURE_TEMPDIR");
    e.Set("syscall", syscall);
    e.Set("path", path);
    return e;
  }
  const char* code = uv_err_name(rc);
  std::string msg = std::string(code) + ": " + uv_strerror(rc) + ", " + syscall + " '" + path + "'";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, rc));
  e.Set("code", code);
  e.Set("syscall", syscall);
  e.Set("path", path);
  return e;
}

// Arguments: dir, prefix, suffix, kind, flags, perms, names (array or null).
void ReadCreateArgs(const Napi::CallbackInfo& info, st_create_req* req) {
  req->dir = info[0].As<Napi::String>().Utf8Value();
  req->prefix = info[1].As<Napi::String>().Utf8Value();
  req->suffix = info[2].As<Napi::String>().Utf8Value();
  req->kind = info[3].As<Napi::Number>().Int32Value();
  req->flags = info[4].As<Napi::Number>().Int32Value();
  req->perms = info[5].As<Napi::Number>().Uint32Value();
  if (info.Length() > 6 && info[6].IsArray()) {
    Napi::Array names = info[6].As<Napi::Array>();
    uint32_t n = names.Length();
    req->names.reserve(n);
    for (uint32_t i = 0; i < n; i++) req->names.push_back(names.Get(i).As<Napi::String>().Utf8Value());
  }
}

// An unnamed file: its fd. A directory: its name. A named file: [fd, name].
Napi::Value CreateResult(Napi::Env env, const st_create_req& req) {
  if (req.kind == ST_KIND_UNNAMED) return Napi::Number::New(env, req.fd);
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
    MakeError(env, rc, req.syscall, JoinPath(req.dir, req.err_name)).ThrowAsJavaScriptException();
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
      deferred_.Reject(MakeError(env, rc_, req.syscall, JoinPath(req.dir, req.err_name)).Value());
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

Napi::Value TmpfileKnownUnsupported(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), st_tmpfile_known_unsupported() != 0);
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createSync", Napi::Function::New(env, CreateSync, "createSync"));
  exports.Set("create", Napi::Function::New(env, Create, "create"));
  exports.Set("removeTreeSync", Napi::Function::New(env, RemoveTreeSync, "removeTreeSync"));
  exports.Set("removeTree", Napi::Function::New(env, RemoveTree, "removeTree"));
  exports.Set("randomChars", Napi::Function::New(env, RandomChars, "randomChars"));
  exports.Set("tmpfileKnownUnsupported", Napi::Function::New(env, TmpfileKnownUnsupported, "tmpfileKnownUnsupported"));
  exports.Set("TMP_MAX", Napi::Number::New(env, ST_TMP_MAX));
  exports.Set("RANDOM_CHARS", Napi::Number::New(env, ST_RANDOM_CHARS));
  return exports;
}

}  // namespace

NODE_API_MODULE(securetemp, Init)
