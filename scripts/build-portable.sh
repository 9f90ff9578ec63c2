#!/usr/bin/env bash
# Builds the addon with st_posix_portable=1: the POSIX code without the Linux
# extras (O_TMPFILE, getrandom, O_PATH, renameat2, /proc/self/fd), i.e. the
# path macOS and the BSDs take, compiled and run on Linux.
#
#   scripts/build-portable.sh   -> build-portable/build/Release/securetemp.node
#
# node-gyp always builds into ./build of the directory it runs in, so the build
# runs in build-portable/ (gitignored) holding a copy of binding.gyp and a link
# to native/: the regular build/ is left alone. The tests load this build with
# SECURETEMP_ADDON (see src/_binding.ts and scripts/test-portable.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build-portable

mkdir -p "$OUT"
cp binding.gyp "$OUT/binding.gyp"
ln -sfn ../native "$OUT/native"
# Headers: what npm passes (npm_config_nodedir), else the running Node's own
# when it has them (Debian/NodeSource packages), else node-gyp downloads them.
args=(rebuild --st_posix_portable=1 --loglevel=warn)
if [ -z "${npm_config_nodedir:-}" ]; then
  inc=$(node -p "require('path').resolve(process.execPath, '../..')")
  [ -f "$inc/include/node/node_api.h" ] && args+=(--nodedir="$inc")
fi
cd "$OUT"
# node_modules/.bin/node-gyp: the devDependency (npm ci), as build:native uses.
"$ROOT/node_modules/.bin/node-gyp" "${args[@]}"
test -f build/Release/securetemp.node
echo "build-portable: ok: build-portable/build/Release/securetemp.node" >&2
