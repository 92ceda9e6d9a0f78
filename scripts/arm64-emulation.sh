#!/bin/sh
# Lets this x86_64 machine run linux-arm64 programs, for the arm64 single
# executable's test (test/integration/sea-arm64.test.ts): qemu-user-static
# registered with binfmt_misc (flag F: the kernel keeps the emulator open, so
# it works in any mount namespace), and the arm64 C and C++ libraries from
# Debian's cross packages, which the emulator finds through QEMU_LD_PREFIX.
# Needs root and the packages qemu-user-static, libc6-arm64-cross,
# libstdc++6-arm64-cross (and binutils-aarch64-linux-gnu to strip the build);
# .ci/run installs them. Idempotent: a second run changes nothing.
#
#   sh scripts/arm64-emulation.sh          set up (exit 0), or say what is missing (exit 1)
#   sh scripts/arm64-emulation.sh --check  only say whether it is set up (exit 0 or 1)
set -eu
BINFMT=/proc/sys/fs/binfmt_misc
CONF=/usr/lib/binfmt.d/qemu-aarch64.conf
LIBS=/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1

ready() {
  [ -f "$LIBS" ] && [ -f "$BINFMT/qemu-aarch64" ] && grep -qx enabled "$BINFMT/qemu-aarch64"
}
if [ "${1:-}" = --check ]; then
  ready
  exit $?
fi
if ready; then
  echo "arm64 emulation: already set up"
  exit 0
fi
if [ ! -f "$CONF" ] || [ ! -f "$LIBS" ]; then
  echo "arm64 emulation: install qemu-user-static, libc6-arm64-cross and libstdc++6-arm64-cross first" >&2
  exit 1
fi
if [ ! -f "$BINFMT/register" ]; then
  mount -t binfmt_misc binfmt_misc "$BINFMT" || { echo "arm64 emulation: cannot mount binfmt_misc at $BINFMT (root needed)" >&2; exit 1; }
fi
if [ ! -f "$BINFMT/qemu-aarch64" ]; then
  cat "$CONF" > "$BINFMT/register"
fi
echo 1 > "$BINFMT/qemu-aarch64"
ready && echo "arm64 emulation: set up ($(sed -n 's/^interpreter //p' "$BINFMT/qemu-aarch64"))"
