/* tfevents.h - TensorBoard event files: TFRecord framing (u64 length, masked CRC32C of the
 * length, payload, masked CRC32C of the payload; little-endian) around protobuf `Event`s
 * encoded with the protoc-c code generated from proto/tensorboard.proto.
 * The file is <dir>/events.out.tfevents.<10-digit unix seconds>.<hostname>; its first record
 * is Event{wall_time, file_version="brain.Event:2"}. Scalars are Summary.Value.simple_value,
 * images Summary.Image with PNG bytes. Every record is flushed to the OS when written.
 * This file must not know about models, MPI, training or the other tracking sinks. */
#ifndef TF_TRACK_TFEVENTS_H
#define TF_TRACK_TFEVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/crc32c.h"
#include <stdio.h>

/* CRC32C (Castagnoli, reflected 0x82F63B78, init and final xor 0xFFFFFFFF), table-driven;
 * crc32c("123456789") == 0xE3069283. */
/* TFRecord mask: rotate right by 15, add 0xA282EAD8. */
uint32_t tf_crc32c_mask(uint32_t crc);

typedef struct TfEventWriter TfEventWriter;

/* Create dir (mkdir -p) and a new event file in it; write the file_version record. When
 * resume_step > 0 also write Event{step=resume_step, session_log{START}} so TensorBoard drops
 * points with step >= resume_step from earlier files of the run. */
TfEventWriter *tf_events_open(const char *dir, int64_t resume_step);
const char *tf_events_path(const TfEventWriter *w);

/* One Event with one Summary.Value per tag (simple_value, float32). */
void tf_events_scalars(TfEventWriter *w, int64_t step, const char *const *tags, const double *values,
                       int n);
/* One Event with a Summary.Image (colorspace 1 grey, 3 RGB) holding png[png_size]. */
void tf_events_image(TfEventWriter *w, int64_t step, const char *tag, const unsigned char *png,
                     size_t png_size, int height, int width, int channels);

void tf_events_close(TfEventWriter *w);

/* Frame payload[n] as one TFRecord into f (used by the writer; public for tests). Returns 0,
 * or -1 when the write failed (errno set). */
int tf_tfrecord_write(FILE *f, const void *payload, size_t n);

#endif
