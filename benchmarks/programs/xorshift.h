/* The one pseudo-random generator of the suite (Marsaglia's xorshift32), so that the C
 * programs and their Python twins in python_kernels.py produce the same inputs. */
#ifndef XORSHIFT_H
#define XORSHIFT_H
#include <stdint.h>

static uint32_t xorshift_state = 2463534242u;

static inline uint32_t xorshift32(void) {
    uint32_t x = xorshift_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return xorshift_state = x;
}
#endif
