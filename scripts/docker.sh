#!/usr/bin/env bash
# The Docker sandbox of the kernel evaluator (RETARGET_KERNEL_SANDBOX=docker), idempotently:
#   1. installs docker.io and debootstrap when dockerd or debootstrap is missing;
#   2. starts dockerd (no bridge, no iptables: containers get no network anyway) when
#      `docker info` does not answer, and waits for it;
#   3. builds the image retarget-sandbox:1 when `docker image inspect` does not find it: a
#      minimal root file system of the host's own Debian release from its apt mirror
#      (debootstrap; Docker Hub is not needed), with g++, openssl and the shared libraries the
#      Python environment's extensions link against, then `docker import`. The Python
#      environment itself is not copied: the evaluator binds it read-only at its own paths.
# Usage: scripts/docker.sh   (PYTHON selects the interpreter whose environment is bound)
# Exit 3: dockerd cannot start on this machine; 1: any other failure.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=retarget-sandbox:1 # retarget.sandbox.docker.DEFAULT_IMAGE; bump both when the recipe changes
PYTHON="${PYTHON:-python3}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# One run at a time (pytest workers each call this): the others wait, then find it all ready.
exec 9>"${TMPDIR:-/tmp}/retarget-docker.lock"
flock 9

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi

if ! $SUDO docker info >/dev/null 2>&1; then
  log="${RETARGET_DOCKERD_LOG:-${TMPDIR:-/tmp}/retarget-dockerd.log}"
  echo "starting dockerd (log: $log)"
  # 9>&-: the daemon must not hold this script's lock.
  $SUDO sh -c "setsid dockerd --bridge=none --iptables=false >'$log' 2>&1 </dev/null 9>&- &"
  for _ in $(seq 60); do
    $SUDO docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! $SUDO docker info >/dev/null 2>&1; then
    echo "dockerd did not start; the end of its log:" >&2
    tail -20 "$log" >&2 || true
    exit 3 # tests/test_docker.py skips on this status, outside CI only
  fi
fi

if $SUDO docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "docker sandbox ready: $IMAGE"
  exit 0
fi

# The host's release and its Debian/Ubuntu mirror (one-line and deb822 sources both).
. /etc/os-release
suite="${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"
sources=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
mirror=$(cat "${sources[@]}" 2>/dev/null | grep -v '^\s*#' | grep -oE '(https?|file)://[^ ]+' \
         | grep -viE 'security|backports|updates' | grep -iE 'debian|ubuntu' | head -1 || true)
mirror="${mirror:-http://deb.debian.org/debian}"

# Packages of the system libraries that the interpreter and the shared objects of what the
# evaluator binds (runtime_binds) link against. Tk and X11 only serve tkinter: left out.
bound=$("$PYTHON" -c 'import sys; from retarget.sandbox.docker import runtime_binds as r
print(sys.executable, *r(), sep="\n")')
libs=$(while read -r p; do
         if [ -f "$p" ]; then echo "$p"
         else find "$p" -name '*.so*' -type f ! -name '_tkinter*' 2>/dev/null || true; fi
       done <<<"$bound" \
        | { xargs -r -n 100 ldd 2>/dev/null || true; } | awk '/=> \//{print $3}' | sort -u \
        | xargs -r -n 1 readlink -f | sort -u)
packages=(g++ openssl) # openssl: torch.compile's C++ backend hashes headers with it
for lib in $libs; do
  pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null || true)
  pkg="${pkg%%:*}"
  case "$pkg" in "" | libc6 | libx* | libtk* | libtcl*) ;; *) packages+=("$pkg") ;; esac
done
include=$(printf '%s\n' "${packages[@]}" | sort -u | paste -sd, -)

root=$($SUDO mktemp -d /var/tmp/retarget-rootfs.XXXXXX)
trap '$SUDO rm -rf "$root"' EXIT
echo "building $IMAGE: debootstrap $suite from $mirror with $include"
started=$(date +%s)
$SUDO debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" \
  >"$root.log" 2>&1 || { tail -30 "$root.log" >&2; exit 1; }
$SUDO rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/info "$root"/usr/share/locale
# Bind targets under /root or /home (a pyenv, a checkout) must be reachable by the
# container's non-root user.
$SUDO chmod 0755 "$root/root" "$root/home"
$SUDO tar -C "$root" -c . | $SUDO docker import --change 'USER 65534:65534' - "$IMAGE" >/dev/null
rm -f "$root.log"
echo "docker sandbox ready: $IMAGE (built in $(($(date +%s) - started)) s)"
