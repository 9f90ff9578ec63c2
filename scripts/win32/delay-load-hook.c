/* Delay-load hook for the mingw-w64 cross build (scripts/build-win32.sh), as node-gyp's
 * win_delay_load_hook.cc does for MSVC builds: the addon's imports from "node.exe" are
 * delay-loaded, and when they are first resolved this hands back the running executable
 * itself, whatever its name. An addon bound straight to node.exe fails to load in a
 * renamed host (Electron, a packaged app's .exe): "Module not found".
 */
#include <windows.h>
#include <delayimp.h>
#include <string.h>

static FARPROC WINAPI load_exe_hook(unsigned int event, DelayLoadInfo* info) {
  if (event != dliNotePreLoadLibrary) return NULL;
  if (_stricmp(info->szDll, "node.exe") != 0) return NULL;
  return (FARPROC)GetModuleHandleW(NULL);
}

/* Defined here, the helper in libmingwex (delayimp.o) uses it instead of its null default. */
PfnDliHook __pfnDliNotifyHook2 = load_exe_hook;
