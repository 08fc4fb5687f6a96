#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine and runs the main job: installs the system packages
# and pywamr with its compiler, builds the C samples to wasm, compiles hello world ahead of
# time with pyaotc and runs it with pyiwasm (then with the interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."

bash build-scripts/install-deps.sh

# A distribution's own Python refuses pip installs (PEP 668): use a virtual environment then.
if [ -z "${VIRTUAL_ENV:-}" ] && python3 -c 'import sys, sysconfig, os; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
  [ -d .venv ] || { python3 -m venv .venv 2>/dev/null || { sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"; $sudo_cmd apt-get install -y -qq python3-venv; python3 -m venv .venv; }; }
  echo "setup: installing into .venv (this Python is managed by the system); run '. .venv/bin/activate' before the tests"
  . .venv/bin/activate
fi
python3 -m pip install --quiet -e '.[compiler,test]'
bash build-scripts/build-samples.sh build/samples

pyaotc -o build/samples/hello.aot build/samples/hello.wasm
echo "--- pyiwasm build/samples/hello.aot"
pyiwasm build/samples/hello.aot
echo "--- pyiwasm --interp build/samples/hello.wasm"
pyiwasm --interp build/samples/hello.wasm
