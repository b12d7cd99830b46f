#!/bin/sh
# setup.sh - install dependencies, build and install mailwarren.
#
# usage: sudo tools/setup.sh
#
# Builds in _build/ with the default (hardened) flags and installs under
# /usr/local (the Dovecot plugins into Dovecot's module directory).
# To try the whole system without installing it, run "./demo up" instead.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
tools/install-deps.sh
./autogen.sh
mkdir -p _build
cd _build
../configure
make -j"$(nproc)"
make install
echo "setup.sh: mailwarren built and installed"
