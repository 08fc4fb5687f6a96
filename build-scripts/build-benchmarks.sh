#!/usr/bin/env bash
# Builds every benchmark program in benchmarks/programs/ twice with clang-19 -O2: to
# wasm32-wasi (NAME.wasm; blur with -msimd128) and natively (NAME.native), into
# benchmarks/build/; the memory64 kernels for wasm32 and wasm64; a generated ~1 MB C program
# (benchmarks/big_c_program.py); and the peak_rss launcher
# the suite measures memory with. Only what is out of date is rebuilt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/benchmarks/programs"
out="$root/benchmarks/build"
mkdir -p "$out"
for c in "$src"/*.c; do
  name="$(basename "$c" .c)"
  for target in wasm native; do
    bin="$out/$name.$target"
    if [ "$bin" -nt "$c" ] && [ "$bin" -nt "$src/xorshift.h" ]; then
      continue
    fi
    echo "build $name.$target"
    if [ "$target" = wasm ]; then
      # blur is the SIMD program: its wasm uses 128-bit vectors, as SSE2 natively.
      simd=""
      [ "$name" = blur ] && simd=-msimd128
      clang-19 --target=wasm32-wasi --sysroot=/usr -O2 $simd -Wl,--strip-debug -o "$bin" "$c" -lm
    else
      clang-19 -O2 -o "$bin" "$c" -lm
    fi
  done
done

# The memory64 kernels (benchmarks/test_memory64.py): freestanding, no libc, for wasm32 and
# wasm64 (memset becomes memory.fill with bulk memory).
kernels="$root/benchmarks/memory64/kernels.c"
for bits in 32 64; do
  bin="$out/kernels-wasm$bits.wasm"
  if [ ! "$bin" -nt "$kernels" ]; then
    echo "build kernels-wasm$bits.wasm"
    clang-19 --target=wasm$bits-unknown-unknown -O2 -mbulk-memory -nostdlib -Wl,--no-entry \
      -Wl,--export-all -o "$bin" "$kernels"
  fi
done

# The generated ~1 MB C program whose set-up benchmarks/test_decode_speed.py times.
generator="$root/benchmarks/big_c_program.py"
if [ ! "$out/big_c_program.wasm" -nt "$generator" ]; then
  echo "build big_c_program.wasm"
  python3 "$generator" "$out/big_c_program.c"
  clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug \
    -o "$out/big_c_program.wasm" "$out/big_c_program.c" -lm
fi

if [ ! "$out/peak_rss" -nt "$root/benchmarks/peak_rss.c" ]; then
  echo "build peak_rss"
  clang-19 -O2 -o "$out/peak_rss" "$root/benchmarks/peak_rss.c"
fi
