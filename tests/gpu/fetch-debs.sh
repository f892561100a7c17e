#!/usr/bin/env bash
# fetch-debs.sh - run on a Debian 12 machine WITH a package registry (the development machine),
# before a device check: downloads the Debian packages that tinyflow's CPU side needs and that
# a GPU machine may lack (Open MPI, oneDNN, protobuf-c + protoc-c, libyaml, libpng, zlib headers,
# LAPACKE + reference BLAS/LAPACK, pkg-config) into .debs/ (ignored by git), and unpacks them
# into .deps/ (ignored) so that a CPU-only configure against ONLY that tree can be tried here.
#
# The GPU machine gets .debs/ (carry it: about 27 MiB; .deps/ is ~200 MiB unpacked), and
# tests/gpu/device-check.sh unpacks it there with dpkg -x and points CMake at it through
#   CMAKE_PREFIX_PATH (oneDNN's CMake package, protoc-c), PKG_CONFIG_PATH (relocatable .pc
#   files: this script rewrites /usr to ${pcfiledir}/..), MPI_C_COMPILER + OPAL_PREFIX
#   (Open MPI relocated), and LD_LIBRARY_PATH = .deps/ld, a folder of links to those shared
#   libraries whose soname the machine itself does NOT provide (so nothing of the system's is
#   shadowed by an older Debian copy).
#
# Usage: tests/gpu/fetch-debs.sh [--unpack-only] [--check]
#   --unpack-only  reuse .debs/ (no registry needed), rebuild .deps/
#   --check        afterwards, configure a CPU-only build in build-deps-check/ with the
#                  environment of deps-env.sh in its strict mode (the system's .pc files
#                  hidden) and print where each dependency was found.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
debs="$root/.debs"
deps="$root/.deps"

# What tinyflow's CMakeLists needs beyond a compiler, CMake and the CUDA toolkit, with the
# runtime libraries they pull in (libc, libgcc and libstdc++ are left out on purpose: every
# machine that has a C compiler has newer ones).
PKGS=(
  # MPI (find_package(MPI), mpiexec for the 2-rank tests)
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common
  libevent-core-2.1-7 libevent-pthreads-2.1-7 libhwloc15 libhwloc-plugins libpmix2 libmunge2
  libfabric1 libucx0 libibverbs1 ibverbs-providers librdmacm1 libnl-3-200 libnl-route-3-200
  libpsm-infinipath1 libpsm2-2 libnuma1 libatomic1 libltdl7 libxnvctrl0 libpciaccess0
  # oneDNN (the CPU GEMM and convolutions)
  libdnnl-dev libdnnl2
  # protobuf-c (checkpoints, TensorBoard events) and the code generator with its C++ runtime
  libprotobuf-c-dev libprotobuf-c1 protobuf-c-compiler libprotoc32 libprotobuf32
  # YAML configs, PNG images, zlib headers
  libyaml-dev libyaml-0-2 libpng-dev libpng16-16 zlib1g-dev
  # LAPACKE (Frechet distance) on the reference BLAS/LAPACK, and libgfortran for them
  liblapacke-dev liblapacke libtmglib3 libtmglib-dev liblapack3 liblapack-dev libblas3 libblas-dev
  libgfortran5 libquadmath0
  # pkg-config itself (CMake's FindPkgConfig)
  pkgconf pkgconf-bin libpkgconf3
  # base libraries most systems have (deps-env.sh links them only where the system lacks them)
  zlib1g libudev1 libgomp1
)

unpack_only=0
check=0
for a in "$@"; do
  case "$a" in
    --unpack-only) unpack_only=1 ;;
    --check) check=1 ;;
    *) echo "usage: $0 [--unpack-only] [--check]" >&2; exit 2 ;;
  esac
done

if [ "$unpack_only" = 0 ]; then
  command -v apt-get >/dev/null || { echo "fetch-debs: apt-get not found: run this on the Debian 12 development machine" >&2; exit 1; }
  mkdir -p "$debs"
  rm -f "$debs"/*.deb
  echo "fetch-debs: downloading ${#PKGS[@]} packages into $debs"
  # apt-get download needs package lists: 'apt-get update' once on a fresh machine.
  if ! (cd "$debs" && apt-get download "${PKGS[@]}" >"$debs/download.log" 2>&1); then
    tail -5 "$debs/download.log" >&2
    echo "fetch-debs: apt-get download failed (run 'apt-get update' first?)" >&2
    exit 1
  fi
fi
ls "$debs"/*.deb >/dev/null 2>&1 || { echo "fetch-debs: no .deb files in $debs" >&2; exit 1; }

bash "$here/unpack-debs.sh" "$debs" "$deps"
echo "fetch-debs: $(ls "$debs"/*.deb | wc -l) packages, $(du -sh "$debs" | cut -f1) in .debs/, $(du -sh "$deps" | cut -f1) unpacked in .deps/"

if [ "$check" = 1 ]; then
  # Strict: pkg-config sees ONLY .deps (PKG_CONFIG_LIBDIR replaces the default search path), and
  # every library the build links is linked from .deps (LD_LIBRARY_PATH farm with all sonames).
  export TF_DEPS_STRICT=1
  # shellcheck source=/dev/null
  source "$here/deps-env.sh" "$deps"
  b="$root/build-deps-check"
  rm -rf "$b"
  nice -n 15 cmake -S "$root" -B "$b" -DTINYFLOW_CUDA=OFF -DCMAKE_BUILD_TYPE=Release "${TF_DEPS_CMAKE_ARGS[@]}" >"$b.log" 2>&1 ||
    { tail -30 "$b.log"; echo "fetch-debs --check: configure FAILED (log: $b.log)" >&2; exit 1; }
  echo "fetch-debs --check: CPU-only configure against .deps succeeded; where things were found:"
  grep -E "^(dnnl_DIR|PROTOC_C|MPI_C_COMPILER|MPI_C_HEADER_DIR|MPI_mpi_LIBRARY|MPIEXEC_EXECUTABLE|PKG_CONFIG_EXECUTABLE|pkgcfg_lib_[A-Z]+_[a-z0-9_-]+):" "$b/CMakeCache.txt" | sed 's/^/  /'
  outside=$(grep -E "^(dnnl_DIR|PROTOC_C|MPI_C_COMPILER|MPI_mpi_LIBRARY|PKG_CONFIG_EXECUTABLE|pkgcfg_lib_[A-Z]+_[a-z0-9_-]+):" "$b/CMakeCache.txt" | grep -v "$deps" | grep -v "pkgcfg_lib_ZLIB_z:\|pkgcfg_lib_PNG_m:\|pkgcfg_lib_[A-Z]*_m:" || true)
  if [ -n "$outside" ]; then echo "fetch-debs --check: found OUTSIDE .deps:"; echo "$outside" | sed 's/^/  /'; exit 1; fi
  echo "fetch-debs --check: every dependency resolved inside .deps"
fi
