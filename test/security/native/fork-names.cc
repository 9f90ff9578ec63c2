// predictable-names.test.ts: the name generator across a real fork() (no exec), which
// Node cannot do but a native addon or an embedding program can. Random bytes are pooled
// per thread; a child that reused its parent's pool would produce the parent's next names.
// Prints the parent's first name, then the parent's and the child's next ones.
#include "core.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main() {
  char first[ST_RANDOM_CHARS], parent[ST_RANDOM_CHARS], child[ST_RANDOM_CHARS];
  if (st_random_name_chars(first, sizeof first) < 0) return 2;  // the pool is filled now
  int p[2];
  if (pipe(p) < 0) return 2;
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    if (st_random_name_chars(child, sizeof child) < 0) _exit(2);
    _exit(write(p[1], child, sizeof child) == (ssize_t)sizeof child ? 0 : 2);
  }
  if (st_random_name_chars(parent, sizeof parent) < 0) return 2;
  if (read(p[0], child, sizeof child) != (ssize_t)sizeof child) return 2;
  int status;
  waitpid(pid, &status, 0);
  printf("%.*s %.*s %.*s\n", ST_RANDOM_CHARS, first, ST_RANDOM_CHARS, parent, ST_RANDOM_CHARS, child);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 2;
}
