/* Array kernels that clang's loop vectoriser turns into WebAssembly SIMD when built with
 * -msimd128 (tests/test_interp_simd.py does), and plain scalar code otherwise: integer and
 * float arithmetic, saturation, widening and narrowing, conversions, shuffles. Prints one
 * checksum per kernel. Without an argument the arrays hold 1000 elements; the argument sets
 * how many. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX 4096

static int16_t s16a[MAX], s16b[MAX];
static uint8_t u8a[MAX], u8b[MAX], u8out[MAX];
static int8_t s8out[MAX];
static int32_t i32a[MAX], i32b[MAX], i32out[MAX];
static uint16_t u16out[MAX];
static int64_t i64a[MAX], i64out[MAX];
static float f32a[MAX], f32b[MAX], f32out[MAX];
static double f64a[MAX], f64b[MAX], f64out[MAX];

static uint32_t state = 12345;

static uint32_t next_random(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static uint64_t checksum(const void *data, size_t size) {
    const uint8_t *bytes = data;
    uint64_t hash = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ bytes[i]) * 1099511628211ull;
    return hash;
}

static void fill(int n) {
    for (int i = 0; i < n; i++) {
        uint32_t r = next_random();
        s16a[i] = (int16_t)r;
        s16b[i] = (int16_t)(r >> 16);
        u8a[i] = (uint8_t)(r >> 3);
        u8b[i] = (uint8_t)(r >> 11);
        i32a[i] = (int32_t)next_random();
        i32b[i] = (int32_t)next_random() >> (r & 15);
        i64a[i] = ((int64_t)i32a[i] << 20) ^ i32b[i];
        f32a[i] = (float)(int32_t)next_random() / 65536.0f;
        f32b[i] = (float)(r & 0xFFFF) / 256.0f - 100.0f;
        f64a[i] = (double)(int32_t)next_random() / 3.0;
        f64b[i] = (double)(r >> 8) * 0.125 - 1e6;
    }
}

static uint32_t dot_product(int n) {
    uint32_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += (uint32_t)(s16a[i] * s16b[i]);
    return sum;
}

static void saturating_add(int n) {
    for (int i = 0; i < n; i++) {
        unsigned sum = u8a[i] + u8b[i];
        u8out[i] = sum > 255 ? 255 : sum;
    }
}

static void average_and_difference(int n) {
    for (int i = 0; i < n; i++) {
        u16out[i] = (uint16_t)((u8a[i] + u8b[i] + 1) >> 1);
        s8out[i] = (int8_t)(u8a[i] > u8b[i] ? u8a[i] - u8b[i] : u8b[i] - u8a[i]);
    }
}

static void narrow_with_clamp(int n) {
    for (int i = 0; i < n; i++) {
        int v = s16a[i] >> 4;
        s8out[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
}

static void integer_mix(int n) {
    for (int i = 0; i < n; i++) {
        int32_t a = i32a[i], b = i32b[i];
        uint32_t low = (uint32_t)(a < b ? a : b);
        uint32_t mixed = (low * 3u + (uint32_t)(a >> 5)) ^ ((uint32_t)b << 7);
        i32out[i] = (int32_t)mixed ^ (a == b ? -1 : 0);
        i64out[i] = i64a[i] * 7 - (i64a[i] >> 3) + (int64_t)a * b;
    }
}

static void float_math(int n) {
    for (int i = 0; i < n; i++) {
        float a = f32a[i], b = f32b[i];
        f32out[i] = a * b + (a < b ? a : b) - a / (b * b + 1.0f);
        double x = f64a[i], y = f64b[i];
        f64out[i] = x * 0.5 - y / 3.0 + (x > y ? x : y);
    }
}

static void conversions(int n) {
    for (int i = 0; i < n; i++) {
        i32out[i] = (int32_t)(f32b[i] * 16.0f);
        f32out[i] = (float)i32a[i];
        f64out[i] = (double)i32b[i] * 0.25;
    }
}

static void reverse_bytes(int n) {
    uint32_t *words = (uint32_t *)i32out;
    for (int i = 0; i < n; i++)
        words[i] = __builtin_bswap32((uint32_t)i32a[i]);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    if (n < 1 || n > MAX) {
        fprintf(stderr, "count must be 1..%d\n", MAX);
        return 2;
    }
    fill(n);
    printf("dot %u\n", (unsigned)dot_product(n));
    saturating_add(n);
    printf("add_sat %016llx\n", (unsigned long long)checksum(u8out, n));
    average_and_difference(n);
    printf("avgr %016llx %016llx\n", (unsigned long long)checksum(u16out, 2 * n),
           (unsigned long long)checksum(s8out, n));
    narrow_with_clamp(n);
    printf("narrow %016llx\n", (unsigned long long)checksum(s8out, n));
    integer_mix(n);
    printf("integers %016llx %016llx\n", (unsigned long long)checksum(i32out, 4 * n),
           (unsigned long long)checksum(i64out, 8 * n));
    float_math(n);
    printf("floats %016llx %016llx\n", (unsigned long long)checksum(f32out, 4 * n),
           (unsigned long long)checksum(f64out, 8 * n));
    conversions(n);
    printf("conversions %016llx %016llx %016llx\n", (unsigned long long)checksum(i32out, 4 * n),
           (unsigned long long)checksum(f32out, 4 * n),
           (unsigned long long)checksum(f64out, 8 * n));
    reverse_bytes(n);
    printf("bswap %016llx\n", (unsigned long long)checksum(i32out, 4 * n));
    return 0;
}
