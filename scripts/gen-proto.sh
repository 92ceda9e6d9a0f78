#!/bin/sh
# Regenerates the TypeScript types of proto/slipway.proto into proto/gen/.
# The flags mirror the loadSync options in proto/load.ts; keep them in step.
# --check: fail if the committed types differ from what the .proto gives.
set -eu
cd "$(dirname "$0")/.."
out=proto/gen
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
rm -rf "${out:?}"/slipway "$out"/slipway.ts 2>/dev/null || true
node node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js \
  --keepCase --longs=String --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --importFileExtension=.js -I proto -O "$out" slipway.proto >/dev/null
if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$out" proto/gen >/dev/null; then
    echo "proto/gen is out of date with proto/slipway.proto: run npm run gen:proto" >&2
    exit 1
  fi
  echo "proto/gen matches proto/slipway.proto"
fi
