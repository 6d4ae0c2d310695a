# clariq alert runner image (Debian 12).
#
#   docker build -t clariq .
#   docker run -d --name clariq --stop-timeout 40 \
#     -v "$PWD/clariq.yaml:/etc/clariq/clariq.yaml:ro" \
#     -v "$PWD/alerts.yaml:/etc/clariq/alerts.yaml:ro" \
#     -v clariq-state:/var/lib/clariq \
#     -e DATABASE_URL -e SLACK_WEBHOOK_URL \
#     clariq
#
# Mount the configuration at /etc/clariq (read-only is fine) and keep the alert state in
# the /var/lib/clariq volume: set `state: {path: /var/lib/clariq/clariq-state.db}` (a
# relative state path is resolved next to the config file). `docker stop` sends SIGTERM
# (give it --stop-timeout 40 > scheduler.shutdown_timeout): running evaluations finish
# and clariq exits 0; `docker kill -s HUP` reloads the config.
# Other commands: docker run --rm -v ... clariq alert validate | alert list | run "SQL"

# ---- build ------------------------------------------------------------------------------------
FROM debian:12-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libpq-dev libsqlite3-dev libcurl4-openssl-dev libyaml-dev libjansson-dev \
      libmicrohttpd-dev libhiredis-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The release preset (CMakePresets.json): optimized, LTO, no tests; output build/release/clariq.
RUN rm -rf build \
 && cmake --preset release \
 && cmake --build --preset release -j"$(nproc)" \
 && strip build/release/clariq \
 && build/release/clariq --version

# ---- runtime ----------------------------------------------------------------------------------
FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpq5 libsqlite3-0 libcurl4 libyaml-0-2 libjansson4 libmicrohttpd12 libhiredis0.14 \
      libssl3 tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 clariq \
 && useradd --system --uid 10001 --gid clariq --home-dir /var/lib/clariq --no-create-home \
      --shell /usr/sbin/nologin clariq \
 && install -d -o clariq -g clariq -m 0750 /var/lib/clariq \
 && install -d -m 0755 /etc/clariq

COPY --from=build /src/build/release/clariq /usr/local/bin/clariq
COPY --from=build /src/examples/ /usr/share/doc/clariq/examples/

ENV CLARIQ_CONFIG=/etc/clariq/clariq.yaml
WORKDIR /var/lib/clariq
VOLUME ["/var/lib/clariq"]
USER clariq:clariq
STOPSIGNAL SIGTERM
ENTRYPOINT ["clariq"]
CMD ["alert", "run"]
