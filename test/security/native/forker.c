/* A stand-in for any native module that forks without exec and lets the child leave through
 * exit() (a pre-fork server, a daemonizer): the child runs the atexit functions it inherited. */
#include <node_api.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static napi_value ForkExit(napi_env env, napi_callback_info info) {
  pid_t pid = fork();
  if (pid == 0) exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  napi_value r;
  napi_create_int32(env, WIFEXITED(status) ? WEXITSTATUS(status) : -1, &r);
  return r;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "forkExit", NAPI_AUTO_LENGTH, ForkExit, NULL, &fn);
  napi_set_named_property(env, exports, "forkExit", fn);
  return exports;
}
