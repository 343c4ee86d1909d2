#!/usr/bin/env bash
# Install Debian's chromium (the headless browser tests of the offline maps and reports) and
# poppler-utils (pdftotext: the report print test reads the PDF's pages).
# Idempotent: does nothing if both are already on PATH.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then
  echo "chromium already installed: $(command -v chromium)"
  chromium --version 2>/dev/null | grep -i chromium || true
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ERROR: apt-get not found. Install Chromium with your system's package manager" >&2
  echo "       (the browser tests look for 'chromium' on PATH or /usr/bin/chromium)." >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "ERROR: installing chromium needs root, and sudo is not available." >&2
  echo "       Run as root: apt-get update && apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium poppler-utils

if command -v chromium >/dev/null 2>&1; then
  echo "chromium installed: $(command -v chromium)"
else
  echo "ERROR: apt-get finished but chromium is not on PATH" >&2
  exit 1
fi
