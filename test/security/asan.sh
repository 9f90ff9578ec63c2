#!/usr/bin/env bash
# npm run test:asan: the addon built with AddressSanitizer and UndefinedBehaviorSanitizer
# (into build-asan/, the regular build/ untouched), then the native-heavy tests run against it.
#
#   npm run test:asan                         # the native-heavy tests (list below)
#   npm run test:asan -- test/security        # others (arguments replace the list)
#
# node itself is not instrumented, so the ASan runtime is preloaded into it (it must come
# first); leak detection is off because V8 and Node are not leak-clean at exit. The build is
# loaded through SECURETEMP_ADDON, which the child processes the tests start inherit, along
# with LD_PRELOAD. Any sanitizer report aborts that process (halt_on_error, and UBSan built
# with -fno-sanitize-recover), which fails its test; the report goes to stderr, and is also
# written to build-asan/reports/ so a report from a child whose stderr a test swallows is not
# lost: a non-empty reports directory fails the run. A canary (a deliberate overflow) shows
# first that reports are produced and found.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/build-asan

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
mkdir -p "$OUT"
cp binding.gyp "$OUT/binding.gyp"
ln -sfn ../native "$OUT/native"
args=(rebuild --loglevel=warn)
if [ -z "${npm_config_nodedir:-}" ]; then
  inc=$(node -p "require('path').resolve(process.execPath, '../..')")
  [ -f "$inc/include/node/node_api.h" ] && args+=(--nodedir="$inc")
fi
(cd "$OUT" && CXXFLAGS="$SAN" LDFLAGS="$SAN" "$ROOT/node_modules/.bin/node-gyp" "${args[@]}")
ADDON=$OUT/build/Release/securetemp.node
case "$(nm -D --undefined-only "$ADDON")" in
  *__asan_report*) ;;
  *) echo "test:asan: $ADDON is not instrumented" >&2; exit 1 ;;
esac

RUNTIME=$(gcc -print-file-name=libasan.so)
[ -f "$RUNTIME" ] || { echo "test:asan: no ASan runtime ($RUNTIME)" >&2; exit 1; }
REPORTS=$OUT/reports
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
# Signals are left to the programs: tests kill children (and shells kill themselves) on
# purpose, and the runtime is preloaded into every process the tests start, sh and strace too.
SIGNALS="handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0"
asan_env() {
  export SECURETEMP_ADDON=$ADDON LD_PRELOAD=$RUNTIME
  export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:$SIGNALS:log_path=$1/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$1/ubsan"
}

# The canary: a deliberate overflow must leave a report where the run looks for them.
mkdir -p "$OUT/canary"
g++ $SAN -o "$OUT/canary/overflow" test/security/native/asan-canary.cc
(asan_env "$OUT/canary" && ! "$OUT/canary/overflow") || { echo "test:asan: the canary overflow was not stopped" >&2; exit 1; }
grep -q "heap-buffer-overflow" "$OUT"/canary/asan.* || { echo "test:asan: the canary left no report" >&2; exit 1; }
rm -rf "$OUT/canary"

# The native-heavy tests by default (every file that creates, removes, persists or reopens
# through the addon, and the attack suite); arguments replace the list.
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(test/security test/mkstemp.test.ts test/tempdir.test.ts test/temporaryfile.test.ts test/named.test.ts
         test/atomic.test.ts test/persist.test.ts test/reopen.test.ts test/inheritance.test.ts
         test/lifecycle.test.ts test/gettempdir.test.ts test/arguments.test.ts)
fi
asan_env "$REPORTS"
status=0
node node_modules/vitest/vitest.mjs run "${tests[@]}" || status=$?
if [ -n "$(ls -A "$REPORTS")" ]; then
  echo "test:asan: sanitizer reports:" >&2
  cat "$REPORTS"/* >&2
  exit 1
fi
[ $status -eq 0 ] && echo "test:asan: no sanitizer report"
exit $status
