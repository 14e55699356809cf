# rmsd as a container image, built from this repository on Debian 12 (as CI builds it).
#   docker build -f deploy/docker/rmsd.Dockerfile -t rms/rmsd .      (from the repository root)
FROM debian:12 AS build
COPY . /src
RUN /src/tools/install-deps.sh \
    && cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DRMS_BUILD_TESTS=OFF -DRMS_BUILD_BENCH=OFF \
    && cmake --build /build --target rmsd rmsctl

FROM debian:12
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libprometheus-cpp-core1.0 libspdlog1.10 \
         libfmt9 libsimdjson14 libtomlplusplus3 libsnappy1v5 liblz4-1 libzstd1 zlib1g libbz2-1.0 \
         curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/rms --create-home rms
COPY --from=build /build/engine/rmsd /build/tools/rmsctl /usr/local/bin/
USER rms
VOLUME /var/lib/rms
EXPOSE 7400 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/rmsd", "--data-dir", "/var/lib/rms", \
            "--listen", "0.0.0.0:7400", "--http", "0.0.0.0:8080", "--log-format=json"]
