# The flashcrowd image for Kubernetes (docs/kubernetes.md): a static binary
# on distroless, run as the non-root user 65532. The manifests that
# `flashcrowd kubernetes` writes run /usr/local/bin/flashcrowd as that user.
#
#   docker build -t registry.example.com/flashcrowd:v1 .
#   docker push registry.example.com/flashcrowd:v1

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -buildvcs=false: the build context has no .git (see .dockerignore).
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/flashcrowd ./cmd/flashcrowd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flashcrowd /usr/local/bin/flashcrowd
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/flashcrowd"]
