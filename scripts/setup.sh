#!/usr/bin/env bash
# Installs everything retarget needs on a Debian/Ubuntu machine, idempotently:
# the cross toolchains, qemu-user and bubblewrap, then the Python package with its extras, then
# the Docker sandbox (scripts/docker.sh).
# Usage: scripts/setup.sh [--no-example]   (the example run is skipped with --no-example)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(qemu-user-static gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu
          libc6-dev-arm64-cross libc6-dev-riscv64-cross bubblewrap binutils gcc g++ make
          util-linux)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e '.[dev,kernels]'

# The kernel evaluator's Docker sandbox (dockerd and the image, built locally): required on CI,
# where tests/test_docker.py runs against it; elsewhere a machine without Docker only warns.
if ! PYTHON="$PYTHON" scripts/docker.sh; then
  [ -z "${CI:-}" ] || exit 1
  echo "warning: the Docker sandbox is not available here (scripts/docker.sh failed)" >&2
fi

if [ "${1:-}" != "--no-example" ]; then
  echo "running the bundled example: verify examples/verify/clamp_sum against its AArch64 port"
  retarget verify examples/verify/clamp_sum.x86_64.s examples/verify/clamp_sum.aarch64.s \
    --function clamp_sum --signature "long clamp_sum(const int *a, int n, int lo, int hi)" \
    --target aarch64
fi
