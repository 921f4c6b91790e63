# The stratbox host as a container: the binary, the example strategies and the demo's models,
# serving examples/demo.toml (the simulated market) unless told otherwise.
#   docker build -t stratbox .
#   docker run -p 7400:7400 -e STRATBOX_TOKEN=change-me stratbox
# With PostgreSQL: docker compose up (compose.yaml).

# --- build: the host and the guest components ---------------------------------------------
FROM rust:1.97-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-wasip2
COPY . .
# The guests are a workspace of their own: their build goes to the same (cached) target
# directory as the host's, where the copy below finds them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p stratbox \
 && cargo build --release --locked --target wasm32-wasip2 --manifest-path strategies/Cargo.toml \
        --target-dir target \
 && mkdir -p /out/release \
 && cp target/release/stratbox /out/ \
 && cp target/wasm32-wasip2/release/*.wasm /out/release/

# --- run: Debian with Mesa's software Vulkan (the ensemble falls back to the CPU without it) -
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libvulkan1 mesa-vulkan-drivers \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/stratbox stratbox
COPY --from=build /out/stratbox /usr/local/bin/stratbox
COPY --from=build /out/release /opt/stratbox/strategies/target/wasm32-wasip2/release
COPY examples /opt/stratbox/examples
COPY tests/fixtures/models/reference /opt/stratbox/tests/fixtures/models/reference
RUN chown -R stratbox /opt/stratbox/examples
USER stratbox
WORKDIR /opt/stratbox/examples
ENV STRATBOX_LISTEN=0.0.0.0:7400 \
    XDG_DATA_HOME=/var/lib/stratbox
EXPOSE 7400
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD curl -fsS http://127.0.0.1:7400/v1/ready || exit 1
ENTRYPOINT ["stratbox", "--log-format", "json"]
CMD ["serve", "--config", "/opt/stratbox/examples/demo.toml"]
