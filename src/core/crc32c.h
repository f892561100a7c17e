/* crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * tinyflow's checkpoints and of TensorBoard's record framing.
 *   crc = tf_crc32c_extend(0, a, na); crc = tf_crc32c_extend(crc, b, nb);  (chainable)
 *   tf_crc32c(p, n) == tf_crc32c_extend(0, p, n); "123456789" -> 0xE3069283.
 * tf_crc32c_extend_portable is the table version (the tests check both agree). */
#ifndef TF_CORE_CRC32C_H
#define TF_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t tf_crc32c_extend(uint32_t crc, const void *p, size_t n);
uint32_t tf_crc32c_extend_portable(uint32_t crc, const void *p, size_t n);
static inline uint32_t tf_crc32c(const void *p, size_t n) { return tf_crc32c_extend(0, p, n); }

#endif
