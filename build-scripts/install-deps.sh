#!/usr/bin/env bash
# Installs the system packages the project uses, only those missing:
# clang-19/lld-19/wasi-libc to build wasm samples, qemu-user-static for the arm64 tests.
set -euo pipefail
packages=(clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 qemu-user-static gcc)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
