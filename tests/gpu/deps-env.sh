# deps-env.sh DEPS - SOURCE this (bash) to build and run against a tree made by unpack-debs.sh:
#   PATH, CMAKE_PREFIX_PATH    DEPS/usr first (protoc-c, pkg-config, oneDNN's CMake package)
#   PKG_CONFIG_PATH            DEPS's relocatable .pc files first (TF_DEPS_STRICT=1: ONLY them,
#                              through PKG_CONFIG_LIBDIR)
#   OPAL_PREFIX                Open MPI relocated to DEPS/usr (wrappers, mpiexec, plugins)
#   LD_LIBRARY_PATH            DEPS/ld first: links to the shared libraries of DEPS whose soname
#                              the system does not provide (TF_DEPS_STRICT=1: all of them), so
#                              no newer system library is shadowed by an older Debian one
#   TF_DEPS_CMAKE_ARGS         (array) -DMPI_C_COMPILER / -DMPIEXEC_EXECUTABLE for CMake
# Prints what it set up; returns non-zero if DEPS does not look like an unpacked tree.
_tf_deps="$(cd "${1:?usage: source deps-env.sh DEPS}" && pwd)"
if [ ! -d "$_tf_deps/usr/lib/x86_64-linux-gnu" ]; then
  echo "deps-env: $_tf_deps has no usr/lib/x86_64-linux-gnu (run unpack-debs.sh first)" >&2
  return 1 2>/dev/null || exit 1
fi
_tf_L="$_tf_deps/usr/lib/x86_64-linux-gnu"
export PATH="$_tf_deps/usr/bin:$PATH"
export CMAKE_PREFIX_PATH="$_tf_deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export OPAL_PREFIX="$_tf_deps/usr"
_tf_pc="$_tf_L/pkgconfig:$_tf_deps/usr/share/pkgconfig"
if [ "${TF_DEPS_STRICT:-0}" = 1 ]; then
  export PKG_CONFIG_LIBDIR="$_tf_pc"
  unset PKG_CONFIG_PATH
else
  export PKG_CONFIG_PATH="$_tf_pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
fi
_tf_farm="$_tf_deps/ld"
rm -rf "$_tf_farm"
mkdir -p "$_tf_farm"
_tf_sys="$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | awk 'NR > 1 {print $1}' | sort -u)"
[ -n "$_tf_sys" ] || echo "deps-env: WARNING: ldconfig -p listed nothing: every library of .deps is used, even where the system has its own" >&2
_tf_linked=0
_tf_skipped=0
for _tf_dir in "$_tf_L" "$_tf_L"/openmpi/lib "$_tf_L"/lapack "$_tf_L"/blas "$_tf_L"/libfabric "$_tf_L"/libibverbs; do
  [ -d "$_tf_dir" ] || continue
  for _tf_f in "$_tf_dir"/lib*.so.*; do
    [ -e "$_tf_f" ] || continue
    _tf_n="$(basename "$_tf_f")"
    [ -e "$_tf_farm/$_tf_n" ] && continue
    if [ "${TF_DEPS_STRICT:-0}" != 1 ] && printf '%s\n' "$_tf_sys" | grep -qx "$_tf_n"; then
      _tf_skipped=$((_tf_skipped + 1))
      continue
    fi
    ln -s "$_tf_f" "$_tf_farm/$_tf_n"
    _tf_linked=$((_tf_linked + 1))
  done
done
export LD_LIBRARY_PATH="$_tf_farm${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
TF_DEPS_CMAKE_ARGS=(-DMPI_C_COMPILER="$_tf_deps/usr/bin/mpicc.openmpi"
                    -DMPIEXEC_EXECUTABLE="$_tf_deps/usr/bin/mpiexec.openmpi")
echo "deps-env: using $_tf_deps ($_tf_linked libraries linked in ld/, $_tf_skipped provided by the system$([ "${TF_DEPS_STRICT:-0}" = 1 ] && echo '; strict'))"
unset _tf_L _tf_pc _tf_farm _tf_sys _tf_dir _tf_f _tf_n _tf_linked _tf_skipped
