// The one retry loop and the one name generator, shared by every platform and
// every kind of object (file, directory, unnamed file).
#include "core.h"
#include "platform.h"

#include <atomic>

static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

// Random bytes are drawn from the OS in blocks and used once each, so most names
// cost no system call. A fork() invalidates every pool (platform file's job), so a
// child never reuses its parent's bytes.
static std::atomic<unsigned> g_pool_generation{0};

void st_random_invalidate(void) { g_pool_generation.fetch_add(1, std::memory_order_relaxed); }

namespace {
struct Pool {
  unsigned char buf[256];
  size_t used = sizeof buf;
  unsigned generation = 0;
};
thread_local Pool t_pool;
}  // namespace

int st_random_name_chars(char* out, size_t n) {
  // Rejection sampling: bytes >= 252 (= 7 * 36) are dropped, so every
  // character is exactly uniform over the 36 of the alphabet (no modulo bias).
  Pool& p = t_pool;
  unsigned gen = g_pool_generation.load(std::memory_order_relaxed);
  if (p.generation != gen) {
    p.used = sizeof p.buf;
    p.generation = gen;
  }
  size_t done = 0;
  while (done < n) {
    if (p.used == sizeof p.buf) {
      int rc = st_os_random(p.buf, sizeof p.buf);
      if (rc < 0) return rc;
      p.used = 0;
    }
    unsigned char b = p.buf[p.used];
    p.buf[p.used++] = 0;  // used once, then forgotten
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
