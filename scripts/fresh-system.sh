#!/bin/sh
# Build a fresh Debian system as the fresh-system tests need it: debootstrap minbase, then python3
# and python3-venv, nothing else (what a new user of a plain Debian has). Saved as a tarball so
# each test extracts its own copy.  Usage (as root): fresh-system.sh SUITE OUT.tar
set -eu
suite=$1
out=$2
root=$(mktemp -d "${TMPDIR:-/tmp}/fresh-$suite.XXXXXX")
mounted=""
cleanup() {
    for m in $mounted; do umount -l "$root/$m" 2>/dev/null || true; done
    rm -rf "$root"
}
trap cleanup EXIT INT TERM

# debootstrap's default mirror; a local mirror can be given as MIRROR
debootstrap --variant=minbase "$suite" "$root" ${MIRROR:-} >"$root.log" 2>&1 || {
    tail -30 "$root.log" >&2
    exit 1
}
rm -f "$root.log"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# the host's trust store, so TLS through a local CA works inside as it does outside
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/ca-host.crt" 2>/dev/null || true
mkdir -p "$root/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/* "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
mount -t proc proc "$root/proc" && mounted="proc $mounted"
chroot "$root" apt-get install -y -q python3 python3-venv >/dev/null
for m in $mounted; do umount -l "$root/$m"; done
mounted=""
chroot "$root" apt-get clean
tar -C "$root" -cf "$out.part" .
mv "$out.part" "$out"
