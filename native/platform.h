// What each platform file gives the shared code in retry.cc, and takes from it.
#ifndef SECURETEMP_PLATFORM_H
#define SECURETEMP_PLATFORM_H

#include "core.h"

// The error codes are libuv's, since binding.cc names them with uv_err_name: on
// POSIX -errno, on Windows libuv's own numbers (uv_translate_sys_error), which
// are not the C runtime's errno values. ST_ERR_EEXIST, "this name is taken", is
// the one code the shared retry loop compares with.
#ifdef _WIN32
#define ST_ERR_EEXIST (-4075)  // UV_EEXIST on Windows; win32.cc static_asserts it
#else
#include <errno.h>
#define ST_ERR_EEXIST (-EEXIST)
#endif

// n bytes from the OS CSPRNG; never a weak fallback. 0 or a negative error code.
int st_os_random(unsigned char* buf, size_t n);

// Makes every thread's pool of random bytes stale (the platform calls it in a
// child after fork()).
void st_random_invalidate(void);

// One creation attempt for `name`: 0, ST_ERR_EEXIST (try another name) or
// another negative error code (returned at once).
typedef int (*st_step_fn)(st_create_req* req, const std::string& name, void* ctx);

// The retry loop: tries req->names in order, or up to ST_TMP_MAX random names.
int st_retry(st_create_req* req, st_step_fn step, void* ctx);

#endif
