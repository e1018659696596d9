# Build stage: a release binary with the migrations and Swagger UI embedded.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin beacon

# Run stage: only libpq and the binary, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin beacon
COPY --from=build /src/target/release/beacon /usr/local/bin/beacon
USER beacon
# glibc malloc, tuned so memory stays flat under exports (docs/SOAK.md, "What grew, and why"):
# a freed large block (an export page, its query result) raises glibc's mmap threshold, after
# which such blocks come from per-thread arenas and stay in RSS; a fixed threshold keeps them
# in mmap, returned on free, and two arenas bound what the blocking-pool threads hold.
ENV BEACON_ADDR=0.0.0.0:8080 \
    BEACON_LOG_FORMAT=json \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072
EXPOSE 8080
# bash's /dev/tcp keeps the image free of curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["beacon"]
