// What each platform file gives the shared code in retry.cc, and takes from it.
#ifndef SECURETEMP_PLATFORM_H
#define SECURETEMP_PLATFORM_H

#include "core.h"

// n bytes from the OS CSPRNG; never a weak fallback. 0 or -errno.
int st_os_random(unsigned char* buf, size_t n);

// One creation attempt for `name`: 0, -EEXIST (try another name) or another -errno.
typedef int (*st_step_fn)(st_create_req* req, const std::string& name, void* ctx);

// The retry loop: tries req->names in order, or up to ST_TMP_MAX random names.
int st_retry(st_create_req* req, st_step_fn step, void* ctx);

#endif
