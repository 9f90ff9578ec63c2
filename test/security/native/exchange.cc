// tmp-dir-swap.test.ts's attacker: exchanges two names (renameat2 RENAME_EXCHANGE, so both
// exist at every instant) as fast as it can, until its parent goes away or 120 s have passed.
// Prints "started" once the first exchange has worked. Run as another user (setpriv).
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static long exchange(const char* a, const char* b) {
  return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  if (exchange(argv[1], argv[2]) != 0) {
    perror("renameat2");
    return 1;
  }
  puts("started");
  fflush(stdout);
  pid_t parent = getppid();
  time_t end = time(nullptr) + 120;
  while (time(nullptr) < end && getppid() == parent)
    for (int i = 0; i < 1000; i++) exchange(argv[1], argv[2]);
  return 0;
}
