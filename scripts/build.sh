#!/usr/bin/env bash
# Builds the BPF object, the native loader, the TypeScript and the web UI, each only when its sources changed.
set -euo pipefail
cd "$(dirname "$0")/.."

newer() { # newer TARGET SOURCES...: true when TARGET is missing or older than any source
  local target=$1; shift
  [ -e "$target" ] || return 0
  [ -n "$(find "$@" -newer "$target" -print -quit 2>/dev/null)" ]
}

make -s -C src/kernel

if newer src/native/build/Release/dhrishti_native.node src/native/loader.c src/native/binding.gyp; then
  echo "build: native loader"
  npx --no-install node-gyp rebuild --directory=src/native --loglevel=error >/dev/null
fi

if newer dist/.stamp src bench test tsconfig.json package.json; then
  echo "build: TypeScript"
  npx --no-install tsc -p .
  touch dist/.stamp
fi

# Which commit this build is (`dhrishti --version`); none outside a git checkout.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
if [ -n "$commit" ] && ! git diff --quiet HEAD -- src 2>/dev/null; then commit="$commit+changes"; fi
printf '{"commit":"%s"}\n' "$commit" > dist/build-info.json

if newer src/ui/dist/index.html src/ui/src src/ui/index.html src/ui/vite.config.ts src/ui/tsconfig.json src/graph package-lock.json; then
  echo "build: web UI"
  npx --no-install tsc -p src/ui
  npx --no-install vite build --config src/ui/vite.config.ts --logLevel warn
fi
