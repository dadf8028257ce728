#!/usr/bin/env bash
# Stand-ins for the official images docker-compose.yml names, for a machine that has Debian's
# packages and podman but reaches no container registry. They exist only for such machines (CI
# here); anyone with Docker Hub uses the official images and never runs this.
#
#   deploy/stand-ins/build.sh              # builds what is missing, prints the variables
#   deploy/stand-ins/build.sh --env FILE   # also writes them to FILE, for docker-compose
#
# What it builds, each tagged localhost/stand-in/…:
#   debian:bookworm-slim  debootstrap's minbase, without apt lists, docs and locales
#   rust:bookworm         that, gcc, and this machine's own Rust toolchain (rustc --print sysroot)
#   postgres              Debian's PostgreSQL behind an entrypoint that does what the official one does
#   nginx                 Debian's nginx behind an entrypoint that renders /etc/nginx/templates
# An image that exists is kept (remove it to rebuild). Needs root, podman and debootstrap.
set -euo pipefail
cd "$(dirname "$0")"

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
BASE=localhost/stand-in/debian:bookworm-slim
RUST=localhost/stand-in/rust:bookworm
POSTGRES=localhost/stand-in/postgres:latest
NGINX=localhost/stand-in/nginx:latest

env_file=
if [[ ${1:-} == --env ]]; then
    env_file=${2:?--env needs a file name}
fi

have() { podman image exists "$1"; }
built() { printf '%-40s %s\n' "$1" "$(podman image inspect --format '{{.Size}}' "$1" | numfmt --to=iec)"; }

if ! have "$BASE"; then
    root=$(mktemp -d "${TMPDIR:-/tmp}/stand-in-debian.XXXXXX")
    trap 'rm -rf "$root"' EXIT
    debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >/dev/null
    # What debian:bookworm-slim leaves out too: package lists, cached packages, docs, locales.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/usr/share/locale/*
    tar -C "$root" -c . | podman import --quiet \
        --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$BASE" >/dev/null
    rm -rf "$root"
    trap - EXIT
fi
built "$BASE"

build() { # tag, folder, extra podman build options…
    local tag=$1 folder=$2
    shift 2
    have "$tag" || podman build --quiet --format docker --build-arg BASE_IMAGE="$BASE" \
        "$@" -t "$tag" "$folder" >/dev/null
    built "$tag"
}
sysroot=$(rustc --print sysroot)
build "$RUST" rust \
    --volume "$sysroot:/toolchain:ro" \
    --volume /etc/ssl/certs/ca-certificates.crt:/host-ca-certificates.crt:ro
build "$POSTGRES" postgres
build "$NGINX" nginx

variables=$(cat <<VARS
RUST_IMAGE=$RUST
RUNTIME_IMAGE=$BASE
POSTGRES_IMAGE=$POSTGRES
NGINX_IMAGE=$NGINX
VARS
)
echo "$variables"
[[ -z $env_file ]] || echo "$variables" >"$env_file"
