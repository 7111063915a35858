# syntax=docker/dockerfile:1
# podclass image: one static binary (webhook, refiner, train, eval, classify) on distroless.
# Only ./cmd/podclass goes in: the demo (./cmd/podclass-demo) and the test harnesses it
# links (envtest, the influxd runner) never ship.
# Build: make image (docker build -t podclass:dev .). CI builds the same binary with
# `make build` (CGO_ENABLED=0 go build -trimpath ./cmd/podclass); our machines have no
# Docker engine, so the image itself is built elsewhere.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not refetch them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/podclass ./cmd/podclass

# distroless/static: no shell, no package manager; "nonroot" is uid/gid 65532, which the
# chart's securityContext also sets.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/podclass /podclass
USER 65532:65532
ENTRYPOINT ["/podclass"]
