#!/usr/bin/env bash
# Compiles and runs core-bakeoff.cc against the headers the pinned npm packages ship. Usage:
#   npx tsx bench/native/dump-glove.ts --base 100000 && bash bench/native/core-bakeoff.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/core-bakeoff
mkdir -p build
g++ -O3 -march=native -std=c++17 -DNDEBUG -pthread -DUSEARCH_USE_NUMKONG=0 -DUSEARCH_USE_OPENMP=0 \
  -Inode_modules/hnswlib-node/src/hnswlib -Inode_modules/usearch/include \
  bench/native/core-bakeoff.cc -o "$out"
"$out" "${1:-.cache/bakeoff}"
