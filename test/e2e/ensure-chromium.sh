#!/bin/sh
# Make sure the Chromium the e2e tests drive is installed (Debian's package, /usr/bin/chromium).
# As root with apt-get, install it; otherwise say what to install and fail.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "Chromium found: $CHROMIUM"
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium not found: installing Debian's chromium package"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  if [ -x "$CHROMIUM" ]; then
    echo "Chromium installed: $CHROMIUM"
    exit 0
  fi
  echo "apt-get finished but $CHROMIUM is still missing" >&2
  exit 1
fi

echo "Chromium is missing: the e2e tests need $CHROMIUM." >&2
echo "Install it as root with: apt-get update && apt-get install -y chromium" >&2
exit 1
