#!/usr/bin/env bash
# The Docker API served by podman, for a machine without a Docker engine (CI here), so that the
# ordinary docker-compose drives containers. Installs podman, runc, docker-compose and debootstrap
# from Debian's packages when missing, and prints the DOCKER_HOST to use.
#
#   export DOCKER_HOST=$(deploy/podman-engine.sh)
#
# The settings it writes to /etc/containers/containers.conf (only when that file does not exist)
# are the ones such a machine needs: crun refuses to run without a pure cgroup v2 hierarchy
# ("cgroups in hybrid mode not supported"), so runc; there is no systemd, so cgroupfs; and
# podman's default resource limits are refused ("setrlimit: Operation not permitted"), so smaller
# ones. Needs root.
set -euo pipefail

SOCKET=${PODMAN_SOCKET:-/run/podman/podman.sock}
CONF=/etc/containers/containers.conf

missing=()
for pair in podman:podman runc:runc docker-compose:docker-compose debootstrap:debootstrap; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -e $CONF ]]; then
    cat >"$CONF" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
fi

if ! curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; then
    mkdir -p "$(dirname "$SOCKET")"
    rm -f "$SOCKET"
    # Runs until the machine stops: the socket is what docker-compose talks to. It starts in /,
    # not in the caller's folder: containers started after that folder is deleted fail.
    (cd / && exec setsid podman system service --time=0 "unix://$SOCKET" >/dev/null 2>&1 </dev/null) &
    for _ in $(seq 1 50); do
        curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null ||
        { echo "podman-engine: the API does not answer on $SOCKET" >&2; exit 1; }
fi
echo "unix://$SOCKET"
