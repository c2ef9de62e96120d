#!/bin/sh
# What the tests need beyond the Python packages: Debian's Chromium for the browser tests
# of the sandbox, with fonts for Cyrillic and emoji in their screenshots. Called by
# README's test command and by .ci/run; does nothing when Chromium is already there.
# Never downloads a browser build of its own: only Debian's packages, through apt-get.
set -eu

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
    exit 0
fi
packages="chromium fonts-dejavu-core fonts-noto-color-emoji"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "test-setup: $chromium is missing and there is no apt-get;" \
        "install Chromium and set CHROMIUM to its path" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "test-setup: installing Chromium needs root or sudo: apt-get install $packages" >&2
    exit 1
fi
echo "test-setup: installing $packages with apt-get" >&2
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages
"$chromium" --version >&2
