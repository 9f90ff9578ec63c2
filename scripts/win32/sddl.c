/* Test helper for the Windows suite (test/windows/persist.test.mjs), cross-built by
 * scripts/build-win32.sh as build-win32/sddl.exe: Wine's icacls and cacls are stubs
 * that print nothing, so the suite reads and sets security descriptors through this.
 *
 *   sddl get PATH          prints the owner and DACL of PATH in SDDL ("O:...D:...")
 *   sddl set PATH SDDL     gives PATH the DACL of SDDL as it is (SetFileSecurityW: no
 *                          inheritance applied; protected when SDDL says "D:P")
 *
 * Exit status 0 on success; on failure the Win32 error number is printed to stderr. */
#ifndef UNICODE
#define UNICODE
#endif
#include <windows.h>
#include <sddl.h>
#include <stdio.h>
#include <wchar.h>

static int fail(const char *what, DWORD err) {
  fprintf(stderr, "sddl: %s failed: error %lu\n", what, (unsigned long)err);
  return 1;
}

int wmain(int argc, wchar_t **argv) {
  if (argc == 3 && wcscmp(argv[1], L"get") == 0) {
    static unsigned char buf[65536];
    PSECURITY_DESCRIPTOR sd = (PSECURITY_DESCRIPTOR)buf;
    DWORD need = 0;
    if (!GetFileSecurityW(argv[2], OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, sd,
                          sizeof buf, &need))
      return fail("GetFileSecurityW", GetLastError());
    LPWSTR s = NULL;
    if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &s, NULL))
      return fail("ConvertSecurityDescriptorToStringSecurityDescriptorW", GetLastError());
    /* UTF-8 on stdout, whatever the console code page. */
    int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, NULL, 0, NULL, NULL);
    char *u = n > 0 ? (char *)LocalAlloc(LMEM_FIXED, (SIZE_T)n) : NULL;
    if (u == NULL || WideCharToMultiByte(CP_UTF8, 0, s, -1, u, n, NULL, NULL) != n)
      return fail("WideCharToMultiByte", GetLastError());
    fputs(u, stdout);
    fputs("\n", stdout);
    LocalFree(u);
    LocalFree(s);
    return 0;
  }
  if (argc == 4 && wcscmp(argv[1], L"set") == 0) {
    PSECURITY_DESCRIPTOR sd = NULL;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(argv[3], SDDL_REVISION_1, &sd, NULL))
      return fail("ConvertStringSecurityDescriptorToSecurityDescriptorW", GetLastError());
    BOOL ok = SetFileSecurityW(argv[2], DACL_SECURITY_INFORMATION, sd);
    DWORD err = GetLastError();
    LocalFree(sd);
    if (!ok) return fail("SetFileSecurityW", err);
    return 0;
  }
  fprintf(stderr, "usage: sddl get PATH | sddl set PATH SDDL\n");
  return 2;
}
