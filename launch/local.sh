#!/usr/bin/env bash
# local.sh - run tinyflow on this machine with N MPI ranks (a wrapper around mpirun).
#
#   launch/local.sh [-n RANKS] [-t THREADS_PER_RANK] [--] COMMAND [overrides...]
#   launch/local.sh -n 2 train experiment=mnist trainer.out_dir=runs/mnist
#   launch/local.sh -n 1 sample experiment=mnist trainer.resume=runs/mnist
#
# RANKS defaults to 2 (or $TF_RANKS); THREADS_PER_RANK to the cores divided among the ranks
# (or $OMP_NUM_THREADS). Passes --oversubscribe when RANKS exceeds the cores, and the
# OMPI_ALLOW_RUN_AS_ROOT variables when run as root (containers). Ranks are not bound to
# cores (--bind-to none) so each rank's OpenMP threads can use the cores it was given.
# TINYFLOW (the binary) defaults to build/tinyflow next to this script's folder, else PATH.
# RANKS = 1 runs the binary directly (a plain process, no mpirun).
# SIGINT/SIGTERM/SIGUSR1 to this script reach the ranks: they save a checkpoint and stop.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ranks=${TF_RANKS:-2}
threads=${OMP_NUM_THREADS:-}
while [ $# -gt 0 ]; do
    case $1 in
    -n | --ranks) ranks=$2; shift 2 ;;
    -t | --threads) threads=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: $0 [-n RANKS] [-t THREADS] COMMAND [overrides...]" >&2; exit 2; }
bin=${TINYFLOW:-}
if [ -z "$bin" ]; then
    if [ -x "$here/build/tinyflow" ]; then bin=$here/build/tinyflow; else bin=$(command -v tinyflow || true); fi
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "tinyflow not found: build it (cmake --preset default && cmake --build --preset default) or set TINYFLOW" >&2; exit 2; }
cores=$(nproc)
if [ -z "$threads" ]; then threads=$((cores / ranks)); [ "$threads" -ge 1 ] || threads=1; fi
export OMP_NUM_THREADS=$threads
[ -d configs ] || export TINYFLOW_CONFIG_DIR=${TINYFLOW_CONFIG_DIR:-$here/configs}
if [ "$ranks" -eq 1 ]; then
    exec "$bin" "$@"
fi
command -v mpirun >/dev/null || { echo "mpirun not found: install openmpi-bin (launch/install_deps.sh)" >&2; exit 2; }
opts=(-n "$ranks" --bind-to none -x OMP_NUM_THREADS)
[ -n "${TINYFLOW_CONFIG_DIR:-}" ] && opts+=(-x TINYFLOW_CONFIG_DIR)
[ -n "${TINYFLOW_DATA:-}" ] && opts+=(-x TINYFLOW_DATA)
[ "$ranks" -gt "$cores" ] && opts+=(--oversubscribe)
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
echo "launch/local.sh: mpirun ${opts[*]} $bin $*  ($threads OpenMP thread(s) per rank)" >&2
# mpirun forwards SIGUSR1 to the ranks; SIGTERM/SIGINT make it terminate them. Forward TERM/INT
# as USR1 so the ranks checkpoint and stop cleanly instead of being killed.
mpirun "${opts[@]}" "$bin" "$@" &
pid=$!
trap 'kill -USR1 $pid 2>/dev/null' TERM INT USR1
while :; do
    set +e
    wait $pid
    rc=$?
    set -e
    kill -0 $pid 2>/dev/null || break # wait returned because of a trapped signal otherwise
done
exit $rc
