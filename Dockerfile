# model-service in a container: a release build with the Swift standard library linked statically, on a
# slim Debian with only what that binary loads.
#
#   docker build -t model-service --build-arg COMMIT=$(git rev-parse --short HEAD) .
#   docker run -p 3004:3004 -v model-service-data:/data -e ENCRYPTION_SECRET=... model-service
#   docker run --rm model-service version
#
# No secret is baked in: ENCRYPTION_SECRET, ADMIN_TOKEN, DATABASE_URL and provider keys come from the
# environment at run time (deploy/compose.yaml reads them from an env file).

# The toolchain this repository is built and tested with (Swift 6.3).
FROM swift:6.3-bookworm AS build
WORKDIR /src
# Dependencies first, so a change to the sources does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
ARG COMMIT=unknown
# The commit `model-service version` prints (Sources/model-service/BuildCommit.swift).
RUN sed -i "s/let buildCommit = \"unknown\"/let buildCommit = \"${COMMIT}\"/" Sources/model-service/BuildCommit.swift
RUN swift build -c release --static-swift-stdlib --product model-service \
 && mkdir -p /staging \
 && cp "$(swift build -c release --show-bin-path)/model-service" /staging/ \
 && cp -R "$(swift build -c release --show-bin-path)"/*.resources /staging/

FROM debian:bookworm-slim
# What the binary loads besides the static Swift runtime (`ldd model-service`): libc6, libm (libc6),
# libstdc++6, libgcc-s1 and zlib1g, all in bookworm-slim already; ca-certificates for TLS to the providers
# (the TLS library is built in) and curl for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libstdc++6 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /data --shell /usr/sbin/nologin model-service \
 && mkdir -p /data && chown model-service:model-service /data
COPY --from=build /staging/ /app/
USER model-service
WORKDIR /data
VOLUME /data
ENV DATA_DIR=/data HOST=0.0.0.0 PORT=3004
EXPOSE 3004
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD curl -fsS http://127.0.0.1:3004/api/health || exit 1
ENTRYPOINT ["/app/model-service"]
CMD ["serve"]
