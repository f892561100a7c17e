/* cmd_info.c - `tinyflow info`: what this build runs on (version, GEMM provider
 * and ISA, threads, MPI library, CUDA). Needs no MPI_Init. */
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "ops/gemm.h"
#include "cli/cli.h"
#include "core/check.h"
#ifdef TF_HAVE_CUDA
#include "backend/backend_cuda.h"
#endif
#ifdef TF_HAVE_NCCL
#include "dist/nccl.h"
#endif

int tf_cmd_info(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: tinyflow info\n\nPrints the version, the GEMM provider and the ISA it uses,\n"
               "the OpenMP threads, the MPI library, whether the CUDA backend is built and\n"
               "(when it is) the GPUs visible now.\n");
        return TF_EXIT_OK;
    }
    char mpi_ver[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi_ver, &len);
    char *nl = strchr(mpi_ver, '\n');
    if (nl) *nl = '\0';
    char *comma = strchr(mpi_ver, ',');
    if (comma) *comma = '\0';
    printf("tinyflow %s\n", TF_VERSION);
    printf("  gemm:     %s\n", tf_gemm_provider());
    printf("  threads:  %d (OpenMP; set OMP_NUM_THREADS or trainer.threads to change)\n",
           omp_get_max_threads());
    printf("  mpi:      %s\n", mpi_ver);
#ifdef TF_HAVE_CUDA
    char devs[2048];
#ifdef TF_HAVE_NCCL
    const char *nccl = tf_nccl_version();
#else
    const char *nccl = "no NCCL";
#endif
    printf("  cuda:     built (CUDA %d.%d, %s; TF32 GEMMs off unless TF_CUDA_TF32=1)\n",
           CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10, nccl);
    printf("  gpus:     %s\n", tf_cuda_describe_devices(devs, sizeof devs));
#else
    printf("  cuda:     not built (CPU backend only)\n");
#endif
    return TF_EXIT_OK;
}
