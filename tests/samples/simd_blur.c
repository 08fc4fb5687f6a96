/* Image filters written for SIMD: a 3x3 box blur, a gamma curve through float, and a few
 * kernels with WebAssembly SIMD intrinsics (hex encoding by swizzle, saturating brighten,
 * sum of squared differences by dot product, Q15 scaling, narrowing, masks). Built with
 * -msimd128 the loops are vectorised by clang and the kernels use wasm_simd128.h; built
 * natively (or without -msimd128) the kernels are the plain C below each one, which computes
 * exactly the same results. Prints the images as hex rows and checksums. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define WIDTH 67
#define HEIGHT 41

static uint8_t image[HEIGHT][WIDTH];
static uint8_t blurred[HEIGHT][WIDTH];
static uint8_t curved[HEIGHT][WIDTH];
static uint16_t row_sums[HEIGHT][WIDTH];

static uint32_t checksum(const uint8_t *data, size_t size)
{
    uint32_t hash = 2166136261u;            /* FNV-1a */
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ data[i]) * 16777619u;
    return hash;
}

static void make_image(void)
{
    uint32_t state = 12345;
    for (int y = 0; y < HEIGHT; y++)
        for (int x = 0; x < WIDTH; x++) {
            state = state * 1103515245u + 12345u;
            /* a gradient with noise, and a few black and white pixels */
            int value = (x * 3 + y * 5) + (int)(state >> 27) - 16;
            if ((state >> 8) % 29 == 0)
                value = (state >> 9) % 2 ? 0 : 255;
            image[y][x] = (uint8_t)(value < 0 ? 0 : value > 255 ? 255 : value);
        }
}

/* Box blur: horizontal sums of three, then vertical sums of three, divided by 9. The border
 * keeps the original pixels. Both loops are plain C for the vectoriser. */
static void box_blur(void)
{
    for (int y = 0; y < HEIGHT; y++)
        for (int x = 1; x < WIDTH - 1; x++)
            row_sums[y][x] = (uint16_t)(image[y][x - 1] + image[y][x] + image[y][x + 1]);
    memcpy(blurred, image, sizeof image);
    for (int y = 1; y < HEIGHT - 1; y++)
        for (int x = 1; x < WIDTH - 1; x++)
            blurred[y][x] = (uint8_t)((row_sums[y - 1][x] + row_sums[y][x]
                                       + row_sums[y + 1][x]) / 9);
}

/* A gamma curve through float: sqrt, scale, clamp, round, convert. */
static void gamma_curve(void)
{
    for (int y = 0; y < HEIGHT; y++)
        for (int x = 0; x < WIDTH; x++) {
            float v = sqrtf((float)blurred[y][x] / 255.0f) * 270.0f - 8.0f;
            v = v < 0.0f ? 0.0f : v;
            v = v > 255.0f ? 255.0f : v;
            curved[y][x] = (uint8_t)(int)(v + 0.5f);
        }
}

/* 16 bytes -> 32 hex digits. */
static void to_hex(const uint8_t *bytes, char *out)
{
#ifdef __wasm_simd128__
    const v128_t digits = wasm_i8x16_const(48, 49, 50, 51, 52, 53, 54, 55, 56, 57,
                                           97, 98, 99, 100, 101, 102);
    v128_t v = wasm_v128_load(bytes);
    v128_t high = wasm_u8x16_shr(v, 4);
    v128_t low = wasm_v128_and(v, wasm_i8x16_splat(0x0f));
    v128_t first = wasm_i8x16_shuffle(high, low, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21,
                                      6, 22, 7, 23);
    v128_t second = wasm_i8x16_shuffle(high, low, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13,
                                       29, 14, 30, 15, 31);
    wasm_v128_store(out, wasm_i8x16_swizzle(digits, first));
    wasm_v128_store(out + 16, wasm_i8x16_swizzle(digits, second));
#else
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
#endif
}

/* Every pixel + amount, saturating at 255. */
static void brighten(const uint8_t *in, uint8_t *out, size_t size, uint8_t amount)
{
    size_t i = 0;
#ifdef __wasm_simd128__
    for (; i + 16 <= size; i += 16)
        wasm_v128_store(out + i, wasm_u8x16_add_sat(wasm_v128_load(in + i),
                                                   wasm_u8x16_splat(amount)));
#endif
    for (; i < size; i++)
        out[i] = (uint8_t)(in[i] + amount > 255 ? 255 : in[i] + amount);
}

/* Sum over i of (a[i] - b[i])^2. */
static int64_t squared_difference(const uint8_t *a, const uint8_t *b, size_t size)
{
    int64_t total = 0;
    size_t i = 0;
#ifdef __wasm_simd128__
    for (; i + 8 <= size; i += 8) {
        v128_t d = wasm_i16x8_sub(wasm_u16x8_load8x8(a + i), wasm_u16x8_load8x8(b + i));
        v128_t squares = wasm_i32x4_dot_i16x8(d, d);
        total += (int64_t)wasm_i32x4_extract_lane(squares, 0)
                 + wasm_i32x4_extract_lane(squares, 1)
                 + wasm_i32x4_extract_lane(squares, 2)
                 + wasm_i32x4_extract_lane(squares, 3);
    }
#endif
    for (; i < size; i++)
        total += (a[i] - b[i]) * (a[i] - b[i]);
    return total;
}

/* Q15 fixed-point product, rounded and saturated (the one overflow is -1 * -1). */
static void q15_scale(const int16_t *a, const int16_t *b, int16_t *out, size_t size)
{
    size_t i = 0;
#ifdef __wasm_simd128__
    for (; i + 8 <= size; i += 8)
        wasm_v128_store(out + i, wasm_i16x8_q15mulr_sat(wasm_v128_load(a + i),
                                                        wasm_v128_load(b + i)));
#endif
    for (; i < size; i++) {
        int32_t product = ((int32_t)a[i] * b[i] + 0x4000) >> 15;
        out[i] = (int16_t)(product > 32767 ? 32767 : product);
    }
}

/* Signed 16-bit values to bytes, saturating at 0 and 255. */
static void narrow(const int16_t *in, uint8_t *out, size_t size)
{
    size_t i = 0;
#ifdef __wasm_simd128__
    for (; i + 16 <= size; i += 16)
        wasm_v128_store(out + i, wasm_u8x16_narrow_i16x8(wasm_v128_load(in + i),
                                                         wasm_v128_load(in + i + 8)));
#endif
    for (; i < size; i++)
        out[i] = (uint8_t)(in[i] < 0 ? 0 : in[i] > 255 ? 255 : in[i]);
}

/* How many of the bytes are above the threshold, and are all / any of them nonzero. */
static int count_above(const uint8_t *in, size_t size, uint8_t threshold, int *all_nonzero,
                       int *any_max)
{
    int count = 0;
    size_t i = 0;
    *all_nonzero = 1;
    *any_max = 0;
#ifdef __wasm_simd128__
    for (; i + 16 <= size; i += 16) {
        v128_t v = wasm_v128_load(in + i);
        count += __builtin_popcount(wasm_i8x16_bitmask(wasm_u8x16_gt(v,
                                                       wasm_u8x16_splat(threshold))));
        *all_nonzero &= wasm_i8x16_all_true(v);
        *any_max |= wasm_v128_any_true(wasm_i8x16_eq(v, wasm_i8x16_splat((int8_t)255)));
    }
#endif
    for (; i < size; i++) {
        count += in[i] > threshold;
        *all_nonzero &= in[i] != 0;
        *any_max |= in[i] == 255;
    }
    return count;
}

static void print_rows(const char *name, uint8_t rows[HEIGHT][WIDTH])
{
    char hex[33] = {0};
    printf("%s: checksum %08x\n", name, (unsigned)checksum(&rows[0][0], HEIGHT * WIDTH));
    for (int y = 0; y < HEIGHT; y += 8) {
        to_hex(&rows[y][0], hex);
        printf("  row %2d: %s", y, hex);
        to_hex(&rows[y][WIDTH - 16], hex);
        printf(" ... %s\n", hex);
    }
}

int main(void)
{
    static uint8_t bright[HEIGHT][WIDTH];
    static int16_t wave[256], gain[256], scaled[256];
    static uint8_t narrowed[256];
    int all_nonzero, any_max;

    make_image();
    box_blur();
    gamma_curve();
    brighten(&curved[0][0], &bright[0][0], sizeof curved, 40);
    print_rows("image", image);
    print_rows("blurred", blurred);
    print_rows("curved", curved);
    print_rows("bright", bright);

    printf("squared difference image/blurred: %lld\n",
           (long long)squared_difference(&image[0][0], &blurred[0][0], sizeof image));
    for (size_t i = 0; i < sizeof image; i += 1000) {
        int count = count_above(&image[0][0] + i, sizeof image - i > 1000 ? 1000 :
                                sizeof image - i, 128, &all_nonzero, &any_max);
        printf("block %4zu: %3d above 128, all nonzero %d, any 255 %d\n", i, count,
               all_nonzero, any_max);
    }

    for (int i = 0; i < 256; i++) {
        wave[i] = (int16_t)((i * 2521) % 65536 - 32768);
        gain[i] = (int16_t)(i % 7 == 0 ? -32768 : (i * 397) % 65536 - 32768);
    }
    wave[3] = -32768;
    q15_scale(wave, gain, scaled, 256);
    for (int i = 0; i < 256; i++)
        wave[i] = (int16_t)(scaled[i] / 64);
    narrow(wave, narrowed, 256);
    printf("q15: checksum %08x\n", (unsigned)checksum((const uint8_t *)scaled, sizeof scaled));
    printf("narrowed: checksum %08x\n", (unsigned)checksum(narrowed, sizeof narrowed));
    for (int i = 0; i < 256; i += 64)
        printf("  scaled[%3d..] = %6d %6d %6d %6d, /64 narrowed: %3u %3u %3u %3u\n", i,
               scaled[i], scaled[i + 1], scaled[i + 2], scaled[i + 3], narrowed[i],
               narrowed[i + 1], narrowed[i + 2], narrowed[i + 3]);
    return 0;
}
