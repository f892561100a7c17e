/* eval_mpi_fid.c - `mpiexec -n 2 eval_mpi_fid fid [overrides]`: initialises MPI (as the CLI will
 * once the dist layer lands in it) and runs the fid command unchanged, so each rank scores its
 * share and the statistics are reduced with MPI_Allreduce. Used by test_eval_mpi.sh. */
#include <mpi.h>
#include <stdio.h>

#include "cli/cli.h"
#include "core/check.h"

static void abort_all(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    tf_set_rank(rank);
    tf_set_abort_hook(abort_all);
    int rc = argc > 1 ? tf_cmd_fid(argc - 1, argv + 1) : 2;
    MPI_Finalize();
    return rc;
}
