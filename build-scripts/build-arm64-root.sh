#!/usr/bin/env bash
# Build an arm64 Debian Python 3.11 root in ROOT for running the loader under qemu-user:
#     ROOT/.host/qemu-aarch64 -L ROOT ROOT/usr/bin/python3.11 ...
# The .deb files come from Debian's archive through apt with its own state directory, so the
# host's apt configuration is left alone, and are unpacked with dpkg-deb (nothing is installed
# or configured). qemu is the newest Debian has for this host, backports included: qemu 7.2
# (bookworm's own) spends ~50 MB and ~0.3 s on every 8 GiB PROT_NONE reservation, one per
# linear memory, and never gives them back; qemu 8 and later do not (docs/aarch64.md).
# Idempotent: a ROOT built from the same package list is reused as it is.
set -euo pipefail

ROOT=${1:?usage: build-arm64-root.sh ROOT}
ROOT=$(realpath -m "$ROOT")

# Python's interpreter and standard library, and the shared libraries its extension modules
# need for what the loader uses: ctypes (libffi8), hashlib (libssl3), zlib, lzma, bz2, and
# libgcc_s for __clear_cache.
PACKAGES=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libgcc-s1
          libffi8 libssl3 libexpat1 zlib1g liblzma5 libbz2-1.0 libuuid1 libcrypt1)
HOST_ARCH=$(dpkg --print-architecture)
QEMU_PACKAGE=qemu-user:$HOST_ARCH   # static binaries from qemu 10 on
CONTENTS="${PACKAGES[*]/%/:arm64} $QEMU_PACKAGE"

# One build at a time: test runs and the spec runner may ask for the root together.
mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9

STAMP="$ROOT/.pywamr-arm64-root"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$CONTENTS" ]]; then
    exit 0
fi

# Debian's archives as the host's apt already knows them, for arm64 and the host's own
# architecture, plus the backports of the host's release, from which qemu-user is taken at the
# same priority as from the release (so the newest version wins).
HOST_SOURCES=/etc/apt/sources.list.d/debian.sources
if [[ ! -f "$HOST_SOURCES" ]]; then
    echo "build-arm64-root.sh: $HOST_SOURCES not found (a Debian host is needed)" >&2
    exit 1
fi
CODENAME=$(. /etc/os-release && echo "$VERSION_CODENAME")
APT_DIR="$ROOT.apt"
rm -rf "$APT_DIR"
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/debs" \
         "$APT_DIR/preferences.d"
{
    cat "$HOST_SOURCES"
    echo
    # The stanza of the release itself, moved to its backports suite.
    awk -v RS= -v ORS='\n\n' -v suite="$CODENAME" '$0 ~ "Suites: " suite "( |$)"' \
        "$HOST_SOURCES" | sed "s/^Suites: .*/Suites: $CODENAME-backports/"
} | sed "/^Types:/a Architectures: arm64 $HOST_ARCH" > "$APT_DIR/debian.sources"
printf 'Package: qemu-user\nPin: release n=%s-backports\nPin-Priority: 500\n' "$CODENAME" \
    > "$APT_DIR/preferences.d/qemu-user"
: > "$APT_DIR/status"
APT_OPTIONS=(
    -q
    -oAPT::Architecture="$HOST_ARCH" -oAPT::Architectures::="$HOST_ARCH"
    -oAPT::Architectures::=arm64
    -oDir::Etc::SourceList=/dev/null -oDir::Etc::SourceParts="$APT_DIR"
    -oDir::Etc::Preferences=/dev/null -oDir::Etc::PreferencesParts="$APT_DIR/preferences.d"
    -oDir::State::Lists="$APT_DIR/lists" -oDir::State::status="$APT_DIR/status"
    -oDir::Cache="$APT_DIR/cache" -oDebug::NoLocking=1 -oAPT::Sandbox::User=root
)
apt-get "${APT_OPTIONS[@]}" update
(cd "$APT_DIR/debs" && apt-get "${APT_OPTIONS[@]}" download $CONTENTS)

rm -rf "$ROOT"
mkdir -p "$ROOT/.host"
for deb in "$APT_DIR"/debs/*_arm64.deb; do
    dpkg-deb -x "$deb" "$ROOT"
done
dpkg-deb --fsys-tarfile "$APT_DIR"/debs/qemu-user_*.deb \
    | tar -x -C "$ROOT/.host" --strip-components=3 ./usr/bin/qemu-aarch64
rm -rf "$APT_DIR"

# A root is complete once its Python runs and imports what the loader needs.
"$ROOT/.host/qemu-aarch64" -L "$ROOT" "$ROOT/usr/bin/python3.11" -c \
    'import ctypes, mmap, struct, zlib, hashlib, argparse, json, lzma, bz2; ctypes.CDLL("libffi.so.8")'
echo "$CONTENTS" > "$STAMP"
echo "arm64 Python root ready in $ROOT ($("$ROOT/.host/qemu-aarch64" --version | head -1))"
