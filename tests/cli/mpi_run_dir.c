/* mpi_run_dir.c - run by mpiexec -n 2: rank 0 chooses the run directory and broadcasts it.
 * Rank 1 arrives over a second later, so a directory it chose itself would carry another
 * HH-MM-SS; the test checks both ranks hold rank 0's path and only one run folder exists. */
#include <dirent.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/job.h"
#include "core/check.h"
#include "tf_test.h"

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    tf_set_rank(rank);
    if (argc < 2 || size != 2) {
        if (rank == 0) fprintf(stderr, "usage: mpiexec -n 2 %s CONFIG_DIR\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    char tmp[64] = "/tmp/tf_test_mpi_XXXXXX";
    if (rank == 0 && !mkdtemp(tmp)) MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, MPI_COMM_WORLD);
    TfCfg *cfg = NULL;
    TfCfgError e;
    const char *ovs[] = {"experiment=moons"};
    if (tf_cfg_compose(argv[1], "config", ovs, 1, &cfg, &e)) { fprintf(stderr, "%s\n", e.msg); MPI_Abort(MPI_COMM_WORLD, 1); }
    CHECK(tf_job_world_size() == 2);
    if (rank == 1) {
        struct timespec pause = {1, 200000000};
        nanosleep(&pause, NULL);
    }
    char sweep[4096] = "", dir[4096] = "";
    int rc = tf_job_make_run_dir(cfg, ovs, 1, tmp, 0, 0, sweep, sizeof sweep, dir, sizeof dir, &e);
    CHECK_MSG(rc == 0, "%s", e.msg);
    char other[4096] = "";
    if (rank == 1) MPI_Send(dir, (int)sizeof dir, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    else MPI_Recv(other, (int)sizeof other, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rank == 0) {
        CHECK_MSG(!strcmp(dir, other), "rank 0 has '%s', rank 1 has '%s'", dir, other);
        /* One date folder with one run folder in it. */
        char outputs[200];
        snprintf(outputs, sizeof outputs, "%s/outputs", tmp);
        int dates = 0, runs = 0;
        DIR *d = opendir(outputs);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            dates++;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", outputs, de->d_name);
            DIR *d2 = opendir(sub);
            struct dirent *de2;
            while (d2 && (de2 = readdir(d2))) runs += de2->d_name[0] != '.';
            if (d2) closedir(d2);
        }
        if (d) closedir(d);
        CHECK_MSG(dates == 1 && runs == 1, "%d date folders, %d run folders", dates, runs);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
    }
    tf_cfg_destroy(cfg);
    int failed = tf_test_fail, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    if (rank == 0) printf("test_cli_mpi_run_dir: %d passed, %d failed\n", tf_test_pass, any);
    return any ? 1 : 0;
}
