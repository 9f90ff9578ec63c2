// test/security/asan.sh: a deliberate heap overflow, built and run with the same sanitizer
// options as the suite, to show that a report is produced and caught (a run that finds
// nothing has then shown it could have found something).
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  (void)argv;
  char* p = static_cast<char*>(malloc(8));
  memset(p, 'x', 8 + (size_t)argc);  // argc >= 1: one byte past the end
  int r = p[3];
  free(p);
  return r == 'x' ? 0 : 1;
}
