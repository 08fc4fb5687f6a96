/* A 3x3 box blur of an 8-bit greyscale image and a 16-bit dot product, the kind of loop
 * compilers vectorise: byte loads widened to 16-bit lanes, lane sums, a multiply-high in
 * place of the division by 9, narrowing stores, and widening multiply-adds. The wasm build
 * takes -msimd128 (build-scripts/build-benchmarks.sh); the native one, clang -O2 for
 * x86-64, has 128-bit SSE2 vectors: the same width. Usage: blur SIZE ROUNDS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "xorshift.h"

static void blur(const uint8_t *restrict in, uint8_t *restrict out, int w, int h) {
    for (int y = 1; y < h - 1; y++) {
        const uint8_t *above = in + (y - 1) * w, *row = in + y * w, *below = in + (y + 1) * w;
        for (int x = 1; x < w - 1; x++) {
            uint16_t sum = (uint16_t)(above[x - 1] + above[x] + above[x + 1] + row[x - 1]
                                      + row[x] + row[x + 1] + below[x - 1] + below[x]
                                      + below[x + 1]);
            out[y * w + x] = (uint8_t)((sum * 7282u) >> 16);      /* sum / 9, rounded down */
        }
    }
}

static uint32_t dot(const int16_t *restrict a, const int16_t *restrict b, int n) {
    uint32_t sum = 0;                   /* wraps, where an int32_t sum would overflow */
    for (int i = 0; i < n; i++)
        sum += (uint32_t)(a[i] * b[i]);
    return sum;
}

int main(int argc, char **argv) {
    int size = argc > 1 ? atoi(argv[1]) : 512;
    int rounds = argc > 2 ? atoi(argv[2]) : 1;
    int n = size * size;
    uint8_t *image = malloc(n), *blurred = calloc(n, 1);
    int16_t *a = malloc(n * sizeof(int16_t)), *b = malloc(n * sizeof(int16_t));
    if (!image || !blurred || !a || !b) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    for (int i = 0; i < n; i++)
        image[i] = (uint8_t)xorshift32();
    uint32_t checksum = 0;
    for (int r = 0; r < rounds; r++) {
        blur(image, blurred, size, size);
        blur(blurred, image, size, size);
        for (int i = 0; i < n; i++) {
            a[i] = (int16_t)(image[i] - 128);
            b[i] = (int16_t)(blurred[i] - 128);
        }
        checksum = checksum * 31 + dot(a, b, n);
    }
    printf("blur %dx%d rounds %d checksum %u\n", size, size, rounds, checksum);
    free(image);
    free(blurred);
    free(a);
    free(b);
    return 0;
}
