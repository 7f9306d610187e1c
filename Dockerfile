# The flashcrowd image for Kubernetes (docs/kubernetes.md): a static binary
# on distroless, run as the non-root user 65532. The manifests that
# `flashcrowd kubernetes` writes run /usr/local/bin/flashcrowd as that user.
#
#   docker build -t registry.example.com/flashcrowd:v1 \
#     --build-arg VERSION=$(git describe --tags --always) --build-arg REVISION=$(git rev-parse HEAD) .
#   docker push registry.example.com/flashcrowd:v1
#
# VERSION and REVISION are what `flashcrowd version` and every run.json
# then record (the build context has no .git to read them from).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -buildvcs=false: the build context has no .git (see .dockerignore); the
# version and revision come in as build arguments instead.
ARG VERSION=""
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags="-s -w -X main.stampVersion=${VERSION} -X main.stampRevision=${REVISION}" \
    -o /out/flashcrowd ./cmd/flashcrowd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flashcrowd /usr/local/bin/flashcrowd
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/flashcrowd"]
