#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine and runs the main job: installs the system packages
# and pywamr with its compiler, builds the C samples to wasm, compiles hello world ahead of
# time with pyaotc and runs it with pyiwasm (then with the interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."

bash build-scripts/install-deps.sh
python3 -m pip install --quiet -e '.[compiler,test]'
bash build-scripts/build-samples.sh build/samples

pyaotc -o build/samples/hello.aot build/samples/hello.wasm
echo "--- pyiwasm build/samples/hello.aot"
pyiwasm build/samples/hello.aot
echo "--- pyiwasm --interp build/samples/hello.wasm"
pyiwasm --interp build/samples/hello.wasm
