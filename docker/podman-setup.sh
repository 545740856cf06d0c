#!/usr/bin/env bash
# Make this Debian machine able to build and run the images with Podman, as tests/test_docker.py does in CI.
#
#   sudo bash docker/podman-setup.sh
#
# - Debian's podman, runc and mmdebstrap (apt-get);
# - a containers.conf drop-in: runc as the runtime (crun fails on these machines' cgroup setup) and container
#   ulimits within this machine's own hard limits (the defaults ask for more than it allows);
# - the Dockerfiles' base image made locally when no registry is reachable: Debian bookworm's minimal system with
#   its python3 (3.11.2), python3-venv and ca-certificates, by mmdebstrap from Debian's packages, imported under
#   the tag the Dockerfiles pin (an honest stand-in, not the official image: docs/docker.md says so).
# Idempotent: what is there already is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v mmdebstrap >/dev/null; then
    packages=(podman runc mmdebstrap uidmap)
    apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null; }
fi

nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768  # runc may not set more than this here
mkdir -p /etc/containers/containers.conf.d
cat >/etc/containers/containers.conf.d/50-soundalike.conf <<EOF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
[engine]
runtime = "runc"
EOF

base=$(sed -n 's/^ARG PYTHON_IMAGE=//p' docker/Dockerfile.cpu)
if ! podman image exists "docker.io/library/$base"; then
    if ! timeout 60 podman pull -q "docker.io/library/$base" >/dev/null 2>&1; then
        tarball=$(mktemp --suffix=.tar)
        mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
            bookworm "$tarball"
        podman import -q "$tarball" "docker.io/library/$base" >/dev/null
        rm -f "$tarball"
    fi
fi
echo "podman $(podman --version | cut -d' ' -f3), runtime runc, base image docker.io/library/$base"
