#!/usr/bin/env bash
# Cross-compiles the addon for win32-x64 with mingw-w64, to prove the Windows
# code compiles and links against what node.exe exports. node-gyp cannot
# cross-compile to Windows, hence one direct command line per step.
#
#   scripts/build-win32.sh          -> build-win32/securetemp.node
#   ST_WERROR=1 scripts/build-win32.sh   also turns warnings into errors
#   ST_WIN32_VARIANT=legacy-delete scripts/build-win32.sh
#       -> build-win32/legacy-delete/securetemp.node, a test build that never
#          uses FileDispositionInformationEx (the deletion path of Windows before 10
#          1607 and of file systems without POSIX deletes); scripts/wine-smoke.mjs
#          runs the tree-removal checks on both
#
# Needs: root for apt-get (only when the toolchain is missing), the npm
# registry (node-api-headers, once), node_modules/node-addon-api (npm ci), and
# the local Node's headers for uv.h (the Debian/NodeSource nodejs package).
#
# The imports from node.exe are delay-loaded, with a hook (scripts/win32/delay-load-hook.c,
# node-gyp's win_delay_load_hook for MSVC) that resolves them in the running executable
# whatever its name: the addon loads in a renamed host (Electron, a packaged app).
# scripts/test-windows.mjs checks that under Wine.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build-win32
NODE_API_HEADERS_VERSION=${NODE_API_HEADERS_VERSION:-1.9.0}
CXX=x86_64-w64-mingw32-g++-posix  # posix threads: node-addon-api needs std::mutex
DLLTOOL=x86_64-w64-mingw32-dlltool
OBJDUMP=x86_64-w64-mingw32-objdump

log() { printf 'build-win32: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- toolchain -----------------------------------------------------------------
if ! command -v "$CXX" >/dev/null || ! command -v "$DLLTOOL" >/dev/null; then
  log "installing mingw-w64"
  [ "$(id -u)" = 0 ] || die "$CXX missing and not root: apt-get install g++-mingw-w64-x86-64 mingw-w64-tools"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends g++-mingw-w64-x86-64 mingw-w64-tools >/dev/null
fi

mkdir -p "$OUT/obj"

# --- Node-API headers and .def files (node-api-headers, not a dependency) ------
NAH=$OUT/node-api-headers
if [ ! -f "$NAH/include/node_api.h" ] || [ "$(cat "$NAH/.version" 2>/dev/null)" != "$NODE_API_HEADERS_VERSION" ]; then
  log "fetching node-api-headers@$NODE_API_HEADERS_VERSION"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "node-api-headers@$NODE_API_HEADERS_VERSION" --silent >/dev/null)
  tar -xzf "$tmp"/node-api-headers-*.tgz -C "$tmp"
  rm -rf "$NAH"
  mv "$tmp/package" "$NAH"
  echo "$NODE_API_HEADERS_VERSION" >"$NAH/.version"
fi

# --- uv.h: node-api-headers has none; node.exe exports libuv -------------------
# Only uv.h and uv/ are copied, so the local Node's node_api.h cannot shadow
# node-api-headers'.
UV_SRC=""
for d in "$(node -p "require('path').resolve(process.execPath, '../../include/node')" 2>/dev/null || true)" \
         /usr/include/node /usr/local/include/node; do
  if [ -n "$d" ] && [ -f "$d/uv.h" ] && [ -d "$d/uv" ]; then UV_SRC=$d; break; fi
done
[ -n "$UV_SRC" ] || die "no uv.h found (looked next to node and in /usr/include/node)"
rm -rf "$OUT/uv-include"
mkdir -p "$OUT/uv-include"
cp -r "$UV_SRC/uv.h" "$UV_SRC/uv" "$OUT/uv-include/"

# --- delay-load import library for node.exe ---------------------------------------
{
  echo 'LIBRARY "node.exe"'
  echo 'EXPORTS'
  cat "$NAH/def/js_native_api.def" "$NAH/def/node_api.def" | grep -E '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*$' |
    grep -vE '^[[:space:]]*(NAME|LIBRARY|EXPORTS)' | tr -d ' \t\r'
  # The libuv functions the addon calls.
  printf '%s\n' uv_open_osfhandle uv_get_osfhandle uv_translate_sys_error uv_err_name uv_strerror uv_fs_close uv_fs_req_cleanup
} | awk 'NR <= 2 || !seen[$0]++' >"$OUT/node.def"
"$DLLTOOL" --input-def "$OUT/node.def" --dllname node.exe --output-delaylib "$OUT/libnode-delay.a"

# --- compile and link -----------------------------------------------------------
NAA=$ROOT/node_modules/node-addon-api
[ -f "$NAA/napi.h" ] || die "node_modules/node-addon-api missing: run npm ci"

CXXFLAGS=(
  -std=c++17 -O2 -g0 -Wall -Wextra
  -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED
  -DBUILDING_NODE_EXTENSION -DUSING_UV_SHARED=1
  -DUNICODE -D_UNICODE -DWIN32_LEAN_AND_MEAN -DNOMINMAX
  -I "$NAA" -I "$NAH/include" -I "$OUT/uv-include"
)
[ "${ST_WERROR:-0}" = 1 ] && CXXFLAGS+=(-Werror)

DEST=$OUT
case ${ST_WIN32_VARIANT:-} in
  "") ;;
  legacy-delete) DEST=$OUT/legacy-delete; CXXFLAGS+=(-DST_WIN32_NO_DISPOSITION_EX) ;;
  *) die "unknown ST_WIN32_VARIANT '${ST_WIN32_VARIANT}' (known: legacy-delete)" ;;
esac
mkdir -p "$DEST/obj"
REL=${DEST#"$ROOT"/}

objs=()
for src in native/binding.cc native/retry.cc native/win32.cc; do
  obj=$DEST/obj/$(basename "$src" .cc).o
  log "compiling $src"
  "$CXX" "${CXXFLAGS[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
done
log "compiling scripts/win32/delay-load-hook.c"
CFLAGS=(-O2 -g0 -Wall -Wextra)
[ "${ST_WERROR:-0}" = 1 ] && CFLAGS+=(-Werror)
"${CXX/g++/gcc}" "${CFLAGS[@]}" -c scripts/win32/delay-load-hook.c -o "$DEST/obj/delay-load-hook.o"
objs+=("$DEST/obj/delay-load-hook.o")

log "linking $REL/securetemp.node"
"$CXX" -shared -static -static-libgcc -static-libstdc++ -s \
  -Wl,--dynamicbase -Wl,--nxcompat -Wl,--high-entropy-va \
  -o "$DEST/securetemp.node" "${objs[@]}" "$OUT/libnode-delay.a" -lbcrypt -ladvapi32

# --- test helper: sddl.exe (Wine's icacls and cacls are stubs) ---------------------
if [ "$DEST" = "$OUT" ]; then
  log "compiling scripts/win32/sddl.c (test helper)"
  "${CXX/g++/gcc}" "${CFLAGS[@]}" -municode -s -o "$OUT/sddl.exe" scripts/win32/sddl.c -ladvapi32
fi

# --- check what it imports and exports -----------------------------------------
dump=$("$OBJDUMP" -p "$DEST/securetemp.node")
grep -q 'napi_register_module_v1' <<<"$dump" || die "napi_register_module_v1 is not exported"
dlls=$(grep -oiE 'DLL Name: .*' <<<"$dump" | sed 's/DLL Name: //' | tr 'A-Z' 'a-z' | sort -u)
# node.exe only delay-loaded: a direct import would bind to the name. (GNU ld leaves the
# PE header's delay-import entry empty: mingw's __delayLoadHelper2 reads its own
# descriptors, which name node.exe. scripts/test-windows.mjs loads it in a renamed host.)
if grep -qix 'node.exe' <<<"$(grep -oiE 'DLL Name: .*' <<<"$dump" | sed 's/DLL Name: //')"; then
  die "node.exe is imported directly: the addon would not load in a renamed host"
fi
grep -qa 'node\.exe' "$DEST/securetemp.node" || die "no delay-load descriptor for node.exe"
for dll in $dlls; do
  case $dll in
    kernel32.dll | advapi32.dll | bcrypt.dll | msvcrt.dll | api-ms-win-crt-*.dll | ucrtbase.dll) ;;
    *) die "unexpected DLL import: $dll (the addon must be self-contained)" ;;
  esac
done
log "imports: $(echo $dlls)"
log "ok: $REL/securetemp.node ($(stat -c %s "$DEST/securetemp.node") bytes)"
