#!/bin/sh
# The aarch64 bundle installed and used under emulation: Debian's arm64 Python in a debootstrap root,
# run by qemu-user-static, network cut. Too slow for CI; run by hand (as root), figures in docs/BENCHMARKS.md.
#   apt-get install qemu-user-static binfmt-support debootstrap
#   sh bundle/smoke_arm64.sh dist/yandu-…-linux-aarch64.tar.gz [ROOT_DIR]
set -eu
archive=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=${2:-/tmp/yandu-arm64-root}
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
[ -x "$root/usr/bin/python3.11" ] || debootstrap --arch=arm64 --variant=minbase \
  --include=python3,python3-venv,python3-pip bookworm "$root" http://deb.debian.org/debian
rm -rf "$root/opt/bundle" "$root/opt/yandu" && mkdir -p "$root/opt/bundle"
report=$(ls "$(dirname "$0")/../corpus"/001_*.txt)
t() { s=$(date +%s); "$@"; echo "[$(($(date +%s) - s)) s] $*" >&2; }
t tar -xzf "$archive" -C "$root/opt/bundle"
folder=$(ls "$root/opt/bundle")
in_root() { unshare -n chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root sh -c "$1"; }
t in_root "uname -m && cd /opt/bundle/$folder && sh install.sh /opt/yandu"
rm -f "$root"/opt/yandu/data/corpus/* && cp "$report" "$root/opt/yandu/data/corpus/"
t in_root "/opt/yandu/yandu index"
t in_root "/opt/yandu/yandu query '意识形态工作存在哪些问题？' --top-k 1"
du -sh "$root/opt/yandu" >&2
