# syntax=docker/dockerfile:1
# Image of the orchestrator: the worker (`orchestrator-worker`, the default command) and the
# operator CLI (`orchestrator`), plus the Temporal CLI that the worker's health check in
# docker-compose.temporal.yml runs. Build with
#   docker build -t orchestrator:latest .

ARG RUST_VERSION=1.92
ARG TEMPORAL_ADMIN_TOOLS_VERSION=1.28

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the build folder between image builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin orchestrator-worker --bin orchestrator \
    && mkdir -p /out \
    && cp target/release/orchestrator-worker target/release/orchestrator /out/

FROM temporalio/admin-tools:${TEMPORAL_ADMIN_TOOLS_VERSION} AS temporal-cli

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/orchestrator orchestrator \
    && mkdir -p /var/lib/orchestrator/artifacts \
    && chown orchestrator:orchestrator /var/lib/orchestrator/artifacts
COPY --from=build /out/orchestrator-worker /out/orchestrator /usr/local/bin/
COPY --from=temporal-cli /usr/local/bin/temporal /usr/local/bin/temporal
USER orchestrator
WORKDIR /var/lib/orchestrator
ENV RUST_LOG=info
CMD ["orchestrator-worker"]
