# syntax=docker/dockerfile:1
#
# One file, one target per program:
#   docker build --target issuer    -t issuer .
#   docker build --target tasks-api -t tasks-api .
#   docker build --target e2e       -t e2e .        (the end-to-end suite, for compose's test profile)
#
# Dependencies are cached across builds by BuildKit cache mounts (cargo's registry and the target
# directory), so a source change recompiles only the workspace crates. The mounts are shared:
# cargo locks both itself, so builds of two targets at once take turns where they must. (Asking
# the builder to lock them, sharing=locked, hangs podman 4's builder on the second build.) SQLite and libpq are
# compiled from source by their crates (bundled), which is why the build image needs only its
# own gcc and make, and the runtime image no database client library at all.

ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
# Build: the whole workspace source (migrations/ included: they are embedded at compile time).
FROM ${RUST_IMAGE} AS source
WORKDIR /src
COPY . .

FROM source AS build-issuer
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p issuer \
    && install -D -m 0755 target/release/issuer /out/issuer

FROM source AS build-tasks-api
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tasks-api \
    && install -D -m 0755 target/release/tasks-api /out/tasks-api

FROM source AS build-e2e
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p e2e \
    && install -D -m 0755 target/release/e2e /out/e2e

# ---------------------------------------------------------------------------------------------
# Runtime: glibc and nothing else. No shell tools are added: the health check uses bash's own
# /dev/tcp, so there is no curl to install, patch or exploit.
FROM ${RUNTIME_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app/data \
    && chown app:app /app/data
WORKDIR /app
# The services listen on every interface of the container; the network decides who reaches them.
ENV HOST=0.0.0.0 \
    RUST_LOG=info
USER app:app
# Liveness (`GET /health`, no database) on the service's own PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r status <&3 && [[ $status == 'HTTP/1.1 200'* ]]"]

FROM runtime AS issuer
ENV PORT=8001
EXPOSE 8001
COPY --from=build-issuer /out/issuer /usr/local/bin/issuer
ENTRYPOINT ["/usr/local/bin/issuer"]

FROM runtime AS tasks-api
ENV PORT=8002
EXPOSE 8002
COPY --from=build-tasks-api /out/tasks-api /usr/local/bin/tasks-api
ENTRYPOINT ["/usr/local/bin/tasks-api"]

# The end-to-end suite: a client only, so no port and no health check.
FROM ${RUNTIME_IMAGE} AS e2e
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER app
COPY --from=build-e2e /out/e2e /usr/local/bin/e2e
ENTRYPOINT ["/usr/local/bin/e2e"]
CMD ["http://proxy"]
