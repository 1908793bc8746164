#!/bin/sh
# `make demo-anywhere`: the example taken anywhere, in a scratch folder of this repository's
# (.dev/demo-anywhere, remade each time; the example itself is not touched):
#   1. the example set up, then its wheelhouse made (every wheel, the builds, a manifest);
#   2. a second copy set up from that wheelhouse alone with the network cut (a network namespace
#      with no interface when run as root, else every uv call offline) and an empty uv cache;
#   3. its container files generated (Containerfile, .devcontainer/devcontainer.json), and built
#      with buildah when BASE names a local image (e.g. BASE=localhost/debian:bookworm; no image
#      registry is needed), the build running setup and verify inside.
set -eu
cd "$(dirname "$0")/.."
bp=$PWD/.dev/bin/bulletproof
demo=$PWD/.dev/demo-anywhere
say() { printf '\n== %s\n' "$*"; }

rm -rf "$demo"
mkdir -p "$demo"
copy() { # the example as cloned: no environment, no state, no local settings
    mkdir -p "$1"
    (cd examples/code-engine && tar --exclude=.venv --exclude=.bulletproof --exclude=.env \
        --exclude=pylock.toml --exclude='*.db' -cf - .) | (cd "$1" && tar -xf -)
}
copy "$demo/code-engine"

say "1. setup, then the wheelhouse"
"$bp" setup "$demo/code-engine"
"$bp" wheelhouse "$demo/code-engine" --out "$demo/wheelhouse"
python3 - "$demo/wheelhouse/bulletproof-wheelhouse.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
origins = {}
for f in m["files"]:
    origins[f["origin"]] = origins.get(f["origin"], 0) + 1
t = m["target"]
print(f"manifest: {len(m['files'])} files {origins}")
print(f"  made for {t['implementation']} {t['python']} on {t['machine']}, "
      f"{t['libc']['name']} {t['libc']['version']}, {t['os']['id']} {t['os']['version']}")
print(f"  system packages at run time: {' '.join(m['system_packages']) or 'none'}")
EOF

say "2. a second copy, set up from the wheelhouse with no network"
copy "$demo/offline-copy"
offline="$bp setup $demo/offline-copy --offline --wheelhouse $demo/wheelhouse"
export UV_CACHE_DIR="$demo/empty-uv-cache"
if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
    echo "(inside unshare --net: a network namespace with no interface)"
    unshare --net sh -c "$offline"
else
    echo "(not root: no network namespace; every uv call is offline all the same)"
    sh -c "$offline"
fi
unset UV_CACHE_DIR

say "3. the container files"
"$bp" generate container "$demo/code-engine" --tool-source . ${BASE:+--base "$BASE"}
sed -n '1,12p' "$demo/code-engine/Containerfile"
echo "..."
grep -E '^(FROM|RUN bulletproof)' "$demo/code-engine/Containerfile"
if [ -n "${BASE:-}" ] && command -v buildah >/dev/null; then
    say "   built with buildah from $BASE (setup and verify run inside)"
    buildah bud --isolation chroot --storage-driver vfs --layers=false \
        -t localhost/code-engine-demo "$demo/code-engine"
else
    echo "(BASE=IMAGE with buildah installed builds it: setup and verify run inside the build)"
fi
say "done: everything is under $demo"
