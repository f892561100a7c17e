/* test_track_tfevents.c - TensorBoard event files (track/tfevents.h): CRC32C against the
 * published check values (RFC 3720 vectors and "123456789"), the mask against a rotate-and-add
 * done here, the file name, the exact 24-byte file_version record, and the records read back
 * (framing and both CRCs verified, payload decoded with the generated protobuf-c code):
 * scalars with their tags/steps as float32, an image with its PNG bytes, the session_log
 * START record of a resumed run, and a second file in the same second not clobbering the first.
 * Knows nothing about the other tracking sinks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tensorboard.pb-c.h"
#include "tf_test.h"
#include "track/tfevents.h"
#include "track/track_test_util.h"

static char g_dir[256];

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_crc(void) {
    CHECK(tf_crc32c("123456789", 9) == 0xE3069283u);
    unsigned char buf[32];
    memset(buf, 0, 32);
    CHECK(tf_crc32c(buf, 32) == 0x8A9136AAu);
    memset(buf, 0xFF, 32);
    CHECK(tf_crc32c(buf, 32) == 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)i;
    CHECK(tf_crc32c(buf, 32) == 0x46DD794Eu);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)(31 - i);
    CHECK(tf_crc32c(buf, 32) == 0x113FDB5Cu);
    CHECK(tf_crc32c("", 0) == 0);
    uint32_t c = 0x12345678u;
    uint64_t rot = ((uint64_t)c >> 15) | (((uint64_t)c << 17) & 0xFFFFFFFFu);
    CHECK(tf_crc32c_mask(c) == (uint32_t)((rot + 0xA282EAD8u) & 0xFFFFFFFFu));
    CHECK(tf_crc32c_mask(0) == 0xA282EAD8u);
}

typedef struct {
    unsigned char *data;
    size_t size, pos;
} Rec;

/* Next record's payload (pointer into the file), or NULL at the end / on a framing error. */
static const unsigned char *next_record(Rec *r, size_t *len, int *bad) {
    *bad = 0;
    if (r->pos == r->size) return NULL;
    if (r->size - r->pos < 12) return *bad = 1, NULL;
    const unsigned char *h = r->data + r->pos;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | h[i];
    if (le32(h + 8) != tf_crc32c_mask(tf_crc32c(h, 8))) return *bad = 2, NULL;
    if (r->size - r->pos - 12 < n + 4) return *bad = 3, NULL;
    if (le32(h + 12 + n) != tf_crc32c_mask(tf_crc32c(h + 12, (size_t)n))) return *bad = 4, NULL;
    r->pos += 12 + (size_t)n + 4;
    *len = (size_t)n;
    return h + 12;
}

static void test_file(void) {
    char host[256];
    gethostname(host, sizeof host);
    host[255] = '\0';
    double t0 = (double)time(NULL) - 1;
    TfEventWriter *w = tf_events_open(g_dir, 0);
    const char *path = tf_events_path(w);
    const char *base = strrchr(path, '/') + 1;
    CHECK(strncmp(base, "events.out.tfevents.", 20) == 0 && strlen(base) >= 31 && base[30] == '.');
    CHECK(strcmp(base + 31, host) == 0 || strchr(host, '/'));
    const char *tags[3] = {"loss", "lr", "eval/fid"};
    double v1[3] = {0.5, 1e-3, 12.25}, v2[2] = {0.25, NAN};
    tf_events_scalars(w, 0, tags, v1, 3);
    tf_events_scalars(w, 1234567890123LL, tags, v2, 2);
    unsigned char fake_png[20] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3};
    tf_events_image(w, 7, "samples", fake_png, sizeof fake_png, 5, 6, 3);
    /* A second writer in the same second must pick another name. */
    TfEventWriter *w2 = tf_events_open(g_dir, 100);
    CHECK(strcmp(tf_events_path(w2), path) != 0);
    char path_copy[4096], path2[4096];
    snprintf(path_copy, sizeof path_copy, "%s", path);
    snprintf(path2, sizeof path2, "%s", tf_events_path(w2));
    tf_events_close(w);
    tf_events_close(w2);

    size_t size = 0;
    Rec r = {(unsigned char *)tt_slurp(path_copy, &size), 0, 0};
    r.size = size;
    CHECK(r.data != NULL);
    size_t len;
    int bad;
    const unsigned char *p = next_record(&r, &len, &bad);
    CHECK(p && len == 24 && p[0] == 0x09 && p[9] == 0x1A && p[10] == 0x0D && !memcmp(p + 11, "brain.Event:2", 13));
    Tensorflow__Event *ev = p ? tensorflow__event__unpack(NULL, len, p) : NULL;
    CHECK(ev && ev->what_case == TENSORFLOW__EVENT__WHAT_FILE_VERSION && ev->wall_time >= t0);
    if (ev) tensorflow__event__free_unpacked(ev, NULL);
    int nrec = 1;
    while ((p = next_record(&r, &len, &bad)) != NULL) {
        ev = tensorflow__event__unpack(NULL, len, p);
        CHECK(ev && ev->what_case == TENSORFLOW__EVENT__WHAT_SUMMARY && ev->wall_time >= t0);
        if (!ev) break;
        Tensorflow__Summary *s = ev->summary;
        if (nrec == 1) {
            CHECK(ev->step == 0 && s->n_value == 3);
            for (size_t i = 0; i < s->n_value && i < 3; i++)
                CHECK(!strcmp(s->value[i]->tag, tags[i]) &&
                      s->value[i]->value_case == TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE &&
                      s->value[i]->simple_value == (float)v1[i]);
        } else if (nrec == 2) {
            CHECK(ev->step == 1234567890123LL && s->n_value == 2);
            CHECK(s->n_value == 2 && s->value[0]->simple_value == 0.25f && isnan(s->value[1]->simple_value));
        } else if (nrec == 3) {
            CHECK(ev->step == 7 && s->n_value == 1 && !strcmp(s->value[0]->tag, "samples"));
            Tensorflow__Summary__Image *im = s->value[0]->image;
            CHECK(s->value[0]->value_case == TENSORFLOW__SUMMARY__VALUE__VALUE_IMAGE && im && im->height == 5 &&
                  im->width == 6 && im->colorspace == 3 && im->encoded_image_string.len == sizeof fake_png &&
                  !memcmp(im->encoded_image_string.data, fake_png, sizeof fake_png));
        }
        tensorflow__event__free_unpacked(ev, NULL);
        nrec++;
    }
    CHECK(bad == 0 && nrec == 4);
    /* Flip a payload byte: the data CRC must catch it. */
    r.data[12 + 5] ^= 1;
    r.pos = 0;
    CHECK(next_record(&r, &len, &bad) == NULL && bad == 4);
    free(r.data);

    r.data = (unsigned char *)tt_slurp(path2, &size);
    r.size = size;
    r.pos = 0;
    CHECK(next_record(&r, &len, &bad) != NULL);
    p = next_record(&r, &len, &bad);
    ev = p ? tensorflow__event__unpack(NULL, len, p) : NULL;
    CHECK(ev && ev->what_case == TENSORFLOW__EVENT__WHAT_SESSION_LOG && ev->step == 100 &&
          ev->session_log->status == TENSORFLOW__SESSION_LOG__SESSION_STATUS__START);
    if (ev) tensorflow__event__free_unpacked(ev, NULL);
    CHECK(next_record(&r, &len, &bad) == NULL && bad == 0);
    free(r.data);
}

int main(void) {
    tt_tempdir(g_dir, sizeof g_dir, "tfevents");
    test_crc();
    test_file();
    tt_rmtree(g_dir);
    return tf_test_finish("test_track_tfevents");
}
