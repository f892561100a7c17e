#!/usr/bin/env bash
# unpack-debs.sh DEBS DEPS - unpack every .deb of DEBS into DEPS (dpkg-deb -x, or ar + tar where
# dpkg is missing), then make the tree usable from where it lies: the links that Debian's
# update-alternatives would have made (mpicc, mpiexec, liblapack.so.3, libblas.so.3, lapack.pc,
# blas.pc) and relocatable pkg-config files (/usr -> ${pcfiledir}/<relative path>).
# Used by fetch-debs.sh here and by device-check.sh on the GPU machine.
set -euo pipefail
debs="$(cd "$1" && pwd)"
mkdir -p "$2"
deps="$(cd "$2" && pwd)"
rm -rf "${deps:?}"/usr "$deps"/etc "$deps"/ld
for f in "$debs"/*.deb; do
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$f" "$deps"
  else
    tmp="$(mktemp -d)"
    (cd "$tmp" && ar x "$f")
    tar -xf "$tmp"/data.tar.* -C "$deps"
    rm -rf "$tmp"
  fi
done
L="$deps/usr/lib/x86_64-linux-gnu"
B="$deps/usr/bin"
for n in mpicc mpicxx mpiexec mpirun; do [ -e "$B/$n.openmpi" ] && ln -sf "$n.openmpi" "$B/$n"; done
for lib in lapack blas; do
  for f in "$L/$lib"/lib"$lib".so*; do [ -e "$f" ] && ln -sf "$lib/$(basename "$f")" "$L/$(basename "$f")"; done
  [ -e "$L/pkgconfig/$lib-netlib.pc" ] && ln -sf "$lib-netlib.pc" "$L/pkgconfig/$lib.pc"
done
# pkg-config files: replace symlinks by copies (so ${pcfiledir} is where the file is found),
# then rewrite absolute /usr paths relative to the file.
find "$deps" -name '*.pc' -type l | while read -r pc; do
  t="$(readlink -f "$pc")"
  rm -f "$pc"
  cp "$t" "$pc"
done
find "$deps" -name '*.pc' -type f | while read -r pc; do
  rel="$(realpath --relative-to="$(dirname "$pc")" "$deps/usr")"
  sed -i -E "s#(^|[=[:space:]\"']|-I|-L)/usr(/|[[:space:]]|\$)#\\1\${pcfiledir}/$rel\\2#g" "$pc"
done
echo "unpack-debs: $(ls "$debs"/*.deb | wc -l) packages unpacked into $deps"
