/* test_track_progress.c - console progress (track/progress.h): the exact plain line, the
 * terminal form ('\r', a bar filled in proportion, clear-to-end-of-line, no newline), ETA from
 * the rate since start_step (also after a resume), unknown totals, and that tf_progress_print
 * on a non-terminal stream writes the plain line.
 * Knows nothing about the other tracking sinks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf_test.h"
#include "track/progress.h"

int main(void) {
    TfProgress p = {2, 250, 1000, 0, 0.123456, 1e-4, 1.5, 320.5, 100.0};
    char buf[512];
    size_t n = tf_progress_format(buf, sizeof buf, &p, 0);
    const char *want = "epoch 2 step 250/1000 (25.0%) loss 0.123456 lr 1.0000e-04 grad_norm 1.5 img/s 320.5 eta 0:05:00\n";
    CHECK_MSG(strcmp(buf, want) == 0, "got '%s'", buf);
    CHECK(n == strlen(want));
    CHECK_CLOSE(tf_progress_eta(&p), 300.0, 1e-9, 0);

    n = tf_progress_format(buf, sizeof buf, &p, 1);
    CHECK(buf[0] == '\r' && !strchr(buf, '\n') && n == strlen(buf));
    CHECK(n > 3 && !strcmp(buf + n - 3, "\033[K"));
    CHECK_MSG(strstr(buf, "[######..................]") != NULL, "bar: '%s'", buf);
    CHECK(strstr(buf, "250/1000") && strstr(buf, "ETA 0:05:00") && strstr(buf, "ep 2"));
    CHECK(strstr(buf, "loss 0.1235") && strstr(buf, "lr 1.00e-04") && strstr(buf, "320.5 img/s"));

    /* Resumed at 200: 50 steps in 50 s -> 750 s left. */
    p.start_step = 200;
    p.elapsed_s = 50.0;
    tf_progress_format(buf, sizeof buf, &p, 0);
    CHECK(strstr(buf, "eta 0:12:30") != NULL);
    /* No progress yet, or no total: no ETA. */
    p.step = 200;
    CHECK(tf_progress_eta(&p) == -1);
    p.step = 5, p.start_step = 0, p.total_steps = 0;
    tf_progress_format(buf, sizeof buf, &p, 0);
    CHECK(strstr(buf, "step 5/? (0.0%)") && strstr(buf, "eta --:--:--"));
    /* Tiny buffers stay terminated. */
    n = tf_progress_format(buf, 8, &p, 0);
    CHECK(n == 7 && strlen(buf) == 7);

    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (f) {
        p = (TfProgress){1, 10, 100, 0, 0.5, 0.01, 2.0, 10.0, 5.0};
        tf_progress_print(f, &p);
        tf_progress_print(f, &p);
        tf_progress_done(f);
        rewind(f);
        char line[256];
        int lines = 0;
        while (fgets(line, sizeof line, f)) {
            lines++;
            CHECK(!strncmp(line, "epoch 1 step 10/100 (10.0%) loss 0.5 ", 37));
        }
        CHECK(lines == 2);
        fclose(f);
    }
    return tf_test_finish("test_track_progress");
}
