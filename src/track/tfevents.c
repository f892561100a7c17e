/* tfevents.c - TensorBoard event-file writer (tfevents.h): table-driven CRC32C, TFRecord
 * framing, and Events built with the protoc-c code of proto/tensorboard.proto.
 * This file must not know about models, MPI, training or the other tracking sinks. */
#include "track/tfevents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/check.h"
#include "tensorboard.pb-c.h"
#include "track/util.h"

uint32_t tf_crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u; }

static void put_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

int tf_tfrecord_write(FILE *f, const void *payload, size_t n) {
    unsigned char head[12], tail[4];
    uint64_t len = (uint64_t)n;
    for (int i = 0; i < 8; i++) head[i] = (unsigned char)(len >> (8 * i));
    put_le32(head + 8, tf_crc32c_mask(tf_crc32c(head, 8)));
    put_le32(tail, tf_crc32c_mask(tf_crc32c(payload, n)));
    if (fwrite(head, 1, 12, f) != 12) return -1;
    if (n && fwrite(payload, 1, n, f) != n) return -1;
    if (fwrite(tail, 1, 4, f) != 4) return -1;
    return 0;
}

/* --- the writer ----------------------------------------------------------------------------- */

struct TfEventWriter {
    FILE *f;
    char path[4096];
};

const char *tf_events_path(const TfEventWriter *w) { return w->path; }

static void write_event(TfEventWriter *w, const Tensorflow__Event *ev) {
    size_t n = tensorflow__event__get_packed_size(ev);
    unsigned char *buf = tf_malloc(n);
    size_t packed = tensorflow__event__pack(ev, buf);
    TF_ASSERT(packed == n);
    errno = 0;
    if (tf_tfrecord_write(w->f, buf, n) != 0 || fflush(w->f) != 0)
        tf_die_hint("check free disk space and permissions", "cannot write TensorBoard event to '%s': %s",
                    w->path, errno ? strerror(errno) : "short write");
    free(buf);
}

TfEventWriter *tf_events_open(const char *dir, int64_t resume_step) {
    tf_track_mkdirs(dir);
    char host[256];
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *p = host; *p; p++)
        if (*p == '/') *p = '_';
    double now = tf_track_now_s();
    TfEventWriter *w = tf_calloc(1, sizeof *w);
    /* A restart within the same second on the same host must not reuse the file: add the pid.
     * Created O_EXCL|O_NOFOLLOW: whatever is at the name (a file, or a planted symlink, even a
     * dangling one) is never opened or followed. */
    tf_track_path(w->path, sizeof w->path, "%s/events.out.tfevents.%010lld.%s", dir, (long long)now, host);
    int fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        tf_track_path(w->path, sizeof w->path, "%s/events.out.tfevents.%010lld.%s.%ld", dir, (long long)now,
                      host, (long)getpid());
        fd = tf_track_open_new(w->path, 0);
    }
    if (fd < 0)
        tf_die_hint("check that the directory is writable", "cannot create TensorBoard event file '%s': %s", w->path,
                    strerror(errno));
    w->f = fdopen(fd, "wb");
    if (!w->f) tf_die("cannot open a stream on '%s': %s", w->path, strerror(errno));

    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = now;
    ev.what_case = TENSORFLOW__EVENT__WHAT_FILE_VERSION;
    ev.file_version = (char *)"brain.Event:2";
    write_event(w, &ev);
    if (resume_step > 0) {
        Tensorflow__SessionLog log = TENSORFLOW__SESSION_LOG__INIT;
        log.status = TENSORFLOW__SESSION_LOG__SESSION_STATUS__START;
        Tensorflow__Event rs = TENSORFLOW__EVENT__INIT;
        rs.wall_time = now;
        rs.step = resume_step;
        rs.what_case = TENSORFLOW__EVENT__WHAT_SESSION_LOG;
        rs.session_log = &log;
        write_event(w, &rs);
    }
    return w;
}

void tf_events_scalars(TfEventWriter *w, int64_t step, const char *const *tags, const double *values,
                       int n) {
    if (n <= 0) return;
    Tensorflow__Summary__Value *vals = tf_calloc((size_t)n, sizeof *vals);
    Tensorflow__Summary__Value **ptrs = tf_calloc((size_t)n, sizeof *ptrs);
    for (int i = 0; i < n; i++) {
        Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT;
        v.tag = (char *)tags[i];
        v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
        v.simple_value = (float)values[i];
        vals[i] = v;
        ptrs[i] = &vals[i];
    }
    Tensorflow__Summary sum = TENSORFLOW__SUMMARY__INIT;
    sum.n_value = (size_t)n;
    sum.value = ptrs;
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = tf_track_now_s();
    ev.step = step;
    ev.what_case = TENSORFLOW__EVENT__WHAT_SUMMARY;
    ev.summary = &sum;
    write_event(w, &ev);
    free(ptrs);
    free(vals);
}

void tf_events_image(TfEventWriter *w, int64_t step, const char *tag, const unsigned char *png,
                     size_t png_size, int height, int width, int channels) {
    Tensorflow__Summary__Image img = TENSORFLOW__SUMMARY__IMAGE__INIT;
    img.height = height;
    img.width = width;
    img.colorspace = channels == 1 ? 1 : channels == 3 ? 3 : 4;
    img.encoded_image_string.data = (uint8_t *)png;
    img.encoded_image_string.len = png_size;
    Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_IMAGE;
    v.image = &img;
    Tensorflow__Summary__Value *ptr = &v;
    Tensorflow__Summary sum = TENSORFLOW__SUMMARY__INIT;
    sum.n_value = 1;
    sum.value = &ptr;
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = tf_track_now_s();
    ev.step = step;
    ev.what_case = TENSORFLOW__EVENT__WHAT_SUMMARY;
    ev.summary = &sum;
    write_event(w, &ev);
}

void tf_events_close(TfEventWriter *w) {
    if (!w) return;
    if (fclose(w->f) != 0)
        tf_die_hint("check free disk space", "cannot close TensorBoard event file '%s': %s", w->path,
                    strerror(errno));
    free(w);
}
