// The one retry loop and the one name generator, shared by every platform and
// every kind of object (file, directory, unnamed file).
#include "core.h"
#include "platform.h"

static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

int st_random_name_chars(char* out, size_t n) {
  // Rejection sampling: bytes >= 252 (= 7 * 36) are dropped, so every
  // character is exactly uniform over the 36 of the alphabet (no modulo bias).
  unsigned char pool[64];
  size_t have = 0, used = 0, done = 0;
  while (done < n) {
    if (used == have) {
      size_t want = n - done + 4;
      if (want > sizeof pool) want = sizeof pool;
      int rc = st_os_random(pool, want);
      if (rc < 0) return rc;
      have = want;
      used = 0;
    }
    unsigned char b = pool[used++];
    if (b < 252) out[done++] = kAlphabet[b % 36];
  }
  return 0;
}

int st_retry(st_create_req* req, st_step_fn step, void* ctx) {
  std::string name;
  size_t forced = req->names.size();
  size_t attempts = forced > 0 ? forced : ST_TMP_MAX;
  int rc = ST_ERR_EEXIST;
  for (size_t i = 0; i < attempts; i++) {
    if (forced > 0) {
      name = req->names[i];
    } else {
      char rnd[ST_RANDOM_CHARS];
      rc = st_random_name_chars(rnd, sizeof rnd);
      if (rc < 0) {
        req->syscall = "getrandom";
        req->err_name.clear();
        return rc;
      }
      name.assign(req->prefix).append(rnd, sizeof rnd).append(req->suffix);
    }
    rc = step(req, name, ctx);
    if (rc != ST_ERR_EEXIST) {
      if (rc == 0) req->name = name;
      return rc;
    }
  }
  return rc;  // ST_ERR_EEXIST after every attempt collided; syscall/err_name set by the step
}
