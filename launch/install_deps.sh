#!/usr/bin/env bash
# Installs tinyflow's build and test dependencies from Debian 12's packages (run as root,
# or prefix with sudo). What each is for is in the README's "Dependencies" table; clang with its
# runtime (libFuzzer, ASan/UBSan: libclang-rt-dev) and OpenMP (libomp-dev) builds the fuzzers
# (fuzz/ci.sh, docs/fuzzing.md).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake pkg-config git ca-certificates \
  libopenmpi-dev openmpi-bin \
  libdnnl-dev libopenblas-dev liblapacke-dev \
  libprotobuf-c-dev protobuf-c-compiler \
  libyaml-dev libpng-dev zlib1g-dev \
  python3 python3-numpy python3-torch python3-yaml \
  chromium fonts-dejavu-core \
  clang libclang-rt-dev libomp-dev
