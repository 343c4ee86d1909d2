#!/usr/bin/env bash
# Install a Java runtime from Debian's packages for the Spark engine's test (engine: spark, docs/spark.md).
# Idempotent: does nothing if java 17 or later is already on PATH.
set -euo pipefail

if command -v java >/dev/null 2>&1; then
  version=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  if [ -n "$version" ] && [ "$version" -ge 17 ]; then
    echo "java already installed: $(command -v java) (Java $version)"
    exit 0
  fi
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ERROR: apt-get not found. Install a Java runtime (17 or later) with your system's package manager" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "ERROR: installing Java needs root, and sudo is not available." >&2
  echo "       Run as root: apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends openjdk-17-jre-headless

if command -v java >/dev/null 2>&1; then
  echo "java installed: $(command -v java)"
else
  echo "ERROR: apt-get finished but java is not on PATH" >&2
  exit 1
fi
