#!/bin/sh
# Build the C samples of tests/samples/ twice: to wasm32-wasi (NAME.wasm) with Debian's
# clang-19 + wasi-libc, and natively (NAME) with gcc, the reference the tests compare with;
# and the C libraries of tests/libraries/ to wasm32-wasi reactors (NAME.wasm: no main, an
# _initialize, and malloc and free exported for the host that drives them).
#
#   build-scripts/build-samples.sh [OUTDIR]      (default: build/samples)
#
# A target newer than its source is kept. Missing toolchain packages are installed with
# apt-get (as root, or through sudo).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$root/build/samples"}

packages="clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 gcc libc6-dev"
toolchain_ready() {
    command -v clang-19 >/dev/null && command -v wasm-ld-19 >/dev/null \
        && command -v gcc >/dev/null \
        && [ -f /usr/lib/wasm32-wasi/libc.a ] \
        && ls /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a \
              >/dev/null 2>&1
}
if ! toolchain_ready; then
    echo "build-samples: installing $packages" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq $packages >&2
fi

mkdir -p "$out"
for source in "$root"/tests/samples/*.c; do
    name=$(basename "$source" .c)
    if [ ! "$out/$name.wasm" -nt "$source" ]; then
        clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror \
            -Wl,--strip-debug -o "$out/$name.wasm" "$source" -lm
    fi
    if [ ! "$out/$name" -nt "$source" ]; then
        gcc -O2 -Wall -Werror -o "$out/$name" "$source" -lm
    fi
done
for source in "$root"/tests/libraries/*.c; do
    name=$(basename "$source" .c)
    if [ ! "$out/$name.wasm" -nt "$source" ]; then
        clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -mexec-model=reactor \
            -Wl,--export=malloc -Wl,--export=free -Wl,--strip-debug \
            -o "$out/$name.wasm" "$source"
    fi
done
