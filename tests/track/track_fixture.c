/* track_fixture.c - writes one deterministic tracked run for the checkers in this folder:
 *   track_fixture RUN_DIR [--no-scalars] [--no-images]
 * Experiment "tinyflow fixture's exp", run "fixture-run"; params lr=0.001, model/channels=64,
 * data.name=mnist, note="a value with spaces"; steps 0..49 of
 *   loss = 2/(1+s) + 0.05, lr = 1e-3 * min(1, (s+1)/10), grad_norm = 1 + 0.01 s (NaN at s=7),
 *   eval/fid = 300/(s+1) when s % 10 == 9;
 * image grids (tag "samples", 16 RGB 8x8 images as 4x4, pad 2 -> 42x42) at step 10 (a ramp)
 * and step 49 (every image pure magenta: R=B=+1, G=-1); config.yaml as an artifact; the
 * report; status FINISHED. selftest_*.py recompute these values independently.
 * Knows nothing about models, MPI or training. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "track/tracker.h"
#include "track/util.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s RUN_DIR [--no-scalars] [--no-images]\n", argv[0]);
        return 2;
    }
    int scalars = 1, images = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--no-scalars")) scalars = 0;
        else if (!strcmp(argv[i], "--no-images")) images = 0;
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    TfTrackerOptions o = tf_tracker_defaults();
    o.run_dir = argv[1];
    o.experiment = "tinyflow fixture's exp";
    o.run_name = "fixture-run";
    o.source_name = "track_fixture";
    o.git_commit = "0123abcd";
    o.user = "ci";
    TfTracker *t = tf_tracker_open(&o);
    const char *pk[4] = {"lr", "model/channels", "data.name", "note"};
    const char *pv[4] = {"0.001", "64", "mnist", "a value with spaces"};
    tf_tracker_log_params(t, pk, pv, 4);
    tf_tracker_log_params(t, pk, pv, 4); /* the same values again: allowed */
    static float img[16 * 3 * 8 * 8];
    for (int s = 0; s < 50; s++) {
        if (scalars) {
            const char *keys[4] = {"loss", "lr", "grad_norm", "eval/fid"};
            double v[4] = {2.0 / (1.0 + s) + 0.05, 1e-3 * fmin(1.0, (s + 1) / 10.0), s == 7 ? NAN : 1.0 + 0.01 * s,
                           300.0 / (s + 1)};
            tf_tracker_log_scalars(t, s, keys, v, s % 10 == 9 ? 4 : 3);
        }
        if (images && (s == 10 || s == 49)) {
            for (int i = 0; i < 16 * 3 * 64; i++) {
                int c = (i / 64) % 3;
                img[i] = s == 10 ? (float)((i * 7) % 256) / 127.5f - 1.0f : (c == 1 ? -1.0f : 1.0f);
            }
            tf_tracker_log_image(t, s, "samples", img, 16, 3, 8, 8, 4, 4);
        }
    }
    char cfg[4096];
    tf_track_path(cfg, sizeof cfg, "%s/config.yaml", argv[1]);
    tf_track_write_atomic(cfg, "seed: 1\nlr: 0.001\n", 18);
    tf_tracker_log_artifact(t, cfg);
    tf_tracker_write_report(t);
    tf_tracker_close(t, TF_RUN_FINISHED);
    return 0;
}
