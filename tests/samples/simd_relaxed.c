/* Every relaxed SIMD instruction through wasm_simd128.h, on data that reaches the cases where
 * the spec allows several results (out-of-range swizzle indices, NaN and out-of-range
 * truncations, fused or unfused multiply-add, laneselect masks that are not all ones or all
 * zeros, signed zeros and NaNs in min/max, -32768 * -32768, bytes of -128 in the dot
 * products' second operand), plus small kernels as a program would write them (a polynomial
 * by Horner's rule, an int8 matrix-vector product, a byte lookup table).
 *
 * Build: clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -msimd128 -mrelaxed-simd (without
 * them, as build-samples.sh builds every sample, and natively, it only says so).
 * pywamr gives one result per instruction everywhere (docs/compiler.md, "Relaxed SIMD"), so
 * the output is the same on every engine and machine, and wasmtime's with
 * relaxed_simd_deterministic. NaN lanes are hashed as one NaN: which NaN payload a float
 * operation propagates is the machine's, as for WebAssembly 2.0 arithmetic. */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __wasm_relaxed_simd__
#include <wasm_simd128.h>

#define N 512

static uint32_t state = 2463534242u;

static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static const float special_f32[] = {
    0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f, -2.5f, INFINITY, -INFINITY, NAN,
    2147483520.0f, 2147483648.0f, -2147483648.0f, -2147483904.0f, 4294967040.0f,
    4294967296.0f, 3e9f, -3e9f, 0x1.fffffep+127f, -0x1.fffffep+127f, 2.0f, 0x1.000004p+0f,
    0x1.0002p+0f, -0x1.000204p+0f, 0x1p-149f, 0x1p-126f, 1e-30f, 123456.789f,
};
static const double special_f64[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -2.5, INFINITY, -INFINITY, NAN, 2147483647.0,
    2147483647.5, 2147483648.0, -2147483648.0, -2147483648.5, -2147483649.0, 4294967295.0,
    4294967295.9, 4294967296.0, 1e300, -1e300, 0x1.fffffffffffffp+1023, 2.0,
    0x1.0000000000001p+0, 0x1.0000001p+0, -0x1.0000001000001p+0, 0x1p-1074, 0x1p-1022,
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static float f32s[3][N];
static double f64s[3][N];
static int8_t i8s[3][N];
static int16_t i16s[2][N];
static uint8_t bytes[2][N];
static uint32_t masks[N];

static float random_f32(void) {
    uint32_t r = next();
    if (r % 3 == 0)
        return special_f32[next() % COUNT(special_f32)];
    if (r % 3 == 1) {
        uint32_t bits = next();
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    return (float)(int32_t)next() / (float)(1 + next() % 1000);
}

static double random_f64(void) {
    uint32_t r = next();
    if (r % 3 == 0)
        return special_f64[next() % COUNT(special_f64)];
    if (r % 3 == 1) {
        uint64_t bits = ((uint64_t)next() << 32) | next();
        double d;
        memcpy(&d, &bits, 8);
        return d;
    }
    return (double)(int32_t)next() / (double)(1 + next() % 1000);
}

static void fill(void) {
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 3; k++) {
            f32s[k][i] = random_f32();
            f64s[k][i] = random_f64();
            /* Biased towards -128 and 127, the bytes where the dot products differ. */
            uint32_t r = next();
            i8s[k][i] = r % 4 == 0 ? -128 : r % 4 == 1 ? 127 : (int8_t)(r >> 8);
        }
        uint32_t r = next();
        i16s[0][i] = r % 3 == 0 ? -32768 : (int16_t)next();
        i16s[1][i] = r % 3 != 2 ? -32768 : (int16_t)next();
        bytes[0][i] = (uint8_t)next();
        bytes[1][i] = (uint8_t)next();              /* indices: most out of range */
        uint32_t m = next();
        masks[i] = m % 4 == 0 ? 0 : m % 4 == 1 ? 0xFFFFFFFFu : next();
    }
}

/* FNV-1a over the results; float lanes as bits, every NaN as one NaN. */
static uint64_t hash;

static void hash_bytes(const void *data, size_t size) {
    const uint8_t *p = data;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ p[i]) * 1099511628211u;
}

static void hash_v128(v128_t v) { hash_bytes(&v, 16); }

static void hash_f32x4(v128_t v) {
    v128_t nan = wasm_f32x4_ne(v, v);
    hash_v128(wasm_v128_bitselect(wasm_i32x4_splat(0x7FC00000), v, nan));
}

static void hash_f64x2(v128_t v) {
    v128_t nan = wasm_f64x2_ne(v, v);
    hash_v128(wasm_v128_bitselect(wasm_i64x2_splat(0x7FF8000000000000), v, nan));
}

static void report(const char *name) {
    printf("%-36s %016llx\n", name, (unsigned long long)hash);
    hash = 14695981039346656037u;
}

#define LOAD(array, i) wasm_v128_load(&(array)[i])

static void lanewise(void) {
    for (int i = 0; i < N; i += 16)
        hash_v128(wasm_i8x16_relaxed_swizzle(LOAD(bytes[0], i), LOAD(bytes[1], i)));
    report("i8x16.relaxed_swizzle");

    for (int i = 0; i < N; i += 4)
        hash_v128(wasm_i32x4_relaxed_trunc_f32x4(LOAD(f32s[0], i)));
    report("i32x4.relaxed_trunc_f32x4_s");
    for (int i = 0; i < N; i += 4)
        hash_v128(wasm_u32x4_relaxed_trunc_f32x4(LOAD(f32s[0], i)));
    report("i32x4.relaxed_trunc_f32x4_u");
    for (int i = 0; i < N; i += 2)
        hash_v128(wasm_i32x4_relaxed_trunc_f64x2_zero(LOAD(f64s[0], i)));
    report("i32x4.relaxed_trunc_f64x2_s_zero");
    for (int i = 0; i < N; i += 2)
        hash_v128(wasm_u32x4_relaxed_trunc_f64x2_zero(LOAD(f64s[0], i)));
    report("i32x4.relaxed_trunc_f64x2_u_zero");

    for (int i = 0; i < N; i += 4)
        hash_f32x4(wasm_f32x4_relaxed_madd(LOAD(f32s[0], i), LOAD(f32s[1], i),
                                           LOAD(f32s[2], i)));
    report("f32x4.relaxed_madd");
    for (int i = 0; i < N; i += 4)
        hash_f32x4(wasm_f32x4_relaxed_nmadd(LOAD(f32s[0], i), LOAD(f32s[1], i),
                                            LOAD(f32s[2], i)));
    report("f32x4.relaxed_nmadd");
    for (int i = 0; i < N; i += 2)
        hash_f64x2(wasm_f64x2_relaxed_madd(LOAD(f64s[0], i), LOAD(f64s[1], i),
                                           LOAD(f64s[2], i)));
    report("f64x2.relaxed_madd");
    for (int i = 0; i < N; i += 2)
        hash_f64x2(wasm_f64x2_relaxed_nmadd(LOAD(f64s[0], i), LOAD(f64s[1], i),
                                            LOAD(f64s[2], i)));
    report("f64x2.relaxed_nmadd");

    for (int i = 0; i < N; i += 16) {
        v128_t a = LOAD(bytes[0], i), b = LOAD(bytes[1], i), m = LOAD(masks, i / 4);
        hash_v128(wasm_i8x16_relaxed_laneselect(a, b, m));
        hash_v128(wasm_i16x8_relaxed_laneselect(a, b, m));
        hash_v128(wasm_i32x4_relaxed_laneselect(a, b, m));
        hash_v128(wasm_i64x2_relaxed_laneselect(a, b, m));
    }
    report("relaxed_laneselect (4 shapes)");

    for (int i = 0; i < N; i += 4) {
        hash_f32x4(wasm_f32x4_relaxed_min(LOAD(f32s[0], i), LOAD(f32s[1], i)));
        hash_f32x4(wasm_f32x4_relaxed_max(LOAD(f32s[0], i), LOAD(f32s[1], i)));
    }
    report("f32x4.relaxed_min/max");
    for (int i = 0; i < N; i += 2) {
        hash_f64x2(wasm_f64x2_relaxed_min(LOAD(f64s[0], i), LOAD(f64s[1], i)));
        hash_f64x2(wasm_f64x2_relaxed_max(LOAD(f64s[0], i), LOAD(f64s[1], i)));
    }
    report("f64x2.relaxed_min/max");

    for (int i = 0; i < N; i += 8)
        hash_v128(wasm_i16x8_relaxed_q15mulr(LOAD(i16s[0], i), LOAD(i16s[1], i)));
    report("i16x8.relaxed_q15mulr_s");

    for (int i = 0; i < N; i += 16)
        hash_v128(wasm_i16x8_relaxed_dot_i8x16_i7x16(LOAD(i8s[0], i), LOAD(i8s[1], i)));
    report("i16x8.relaxed_dot_i8x16_i7x16_s");
    for (int i = 0; i < N; i += 16)
        hash_v128(wasm_i32x4_relaxed_dot_i8x16_i7x16_add(LOAD(i8s[0], i), LOAD(i8s[1], i),
                                                         LOAD(i8s[2], i)));
    report("i32x4.relaxed_dot_i8x16_i7x16_add_s");
}

/* The cases the spec tests single out, printed in full. */
static void print_f32(const char *name, v128_t v) {
    printf("%-36s %a\n", name, wasm_f32x4_extract_lane(v, 0));
}

static void cases(void) {
    volatile float big = 0x1.fffffep+127f, x = 0x1.000004p+0f, y = 0x1.0002p+0f,
                   z = -0x1.000204p+0f;
    print_f32("madd(FLT_MAX, 2, -FLT_MAX)", wasm_f32x4_relaxed_madd(
        wasm_f32x4_splat(big), wasm_f32x4_splat(2.0f), wasm_f32x4_splat(-big)));
    print_f32("madd(1+2^-22, 1+2^-15, -(1+..))", wasm_f32x4_relaxed_madd(
        wasm_f32x4_splat(x), wasm_f32x4_splat(y), wasm_f32x4_splat(z)));
    volatile int8_t m = -128;
    v128_t dot = wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_i8x16_splat(m), wasm_i8x16_splat(m));
    printf("%-36s %d\n", "dot_i16(-128 * -128 twice)", wasm_i16x8_extract_lane(dot, 0));
    volatile int16_t q = -32768;
    v128_t q15 = wasm_i16x8_relaxed_q15mulr(wasm_i16x8_splat(q), wasm_i16x8_splat(q));
    printf("%-36s %d\n", "q15mulr(-32768, -32768)", wasm_i16x8_extract_lane(q15, 0));
    volatile uint8_t index = 200;
    v128_t swizzled = wasm_i8x16_relaxed_swizzle(wasm_i8x16_splat(7), wasm_i8x16_splat(index));
    printf("%-36s %d\n", "swizzle(index 200)", wasm_i8x16_extract_lane(swizzled, 0));
    volatile float nan = NAN, huge = 3e9f;
    v128_t truncated = wasm_i32x4_relaxed_trunc_f32x4(wasm_f32x4_make(nan, huge, -huge, 2.5f));
    printf("%-36s %d %d %d %d\n", "trunc_s(nan, 3e9, -3e9, 2.5)",
           wasm_i32x4_extract_lane(truncated, 0), wasm_i32x4_extract_lane(truncated, 1),
           wasm_i32x4_extract_lane(truncated, 2), wasm_i32x4_extract_lane(truncated, 3));
}

/* Kernels: a polynomial by Horner's rule, an int8 matrix-vector product, a byte lookup. */
static void kernels(void) {
    static const float coefficients[] = {0.0013888889f, 0.008333334f, 0.041666668f,
                                         0.16666667f, 0.5f, 1.0f, 1.0f};
    float sum = 0.0f;
    for (int i = 0; i < N; i += 4) {
        v128_t x = wasm_f32x4_make(i * 0.01f, i * 0.01f + 0.0025f, -i * 0.003f, i * 0.0071f);
        v128_t p = wasm_f32x4_splat(coefficients[0]);
        for (unsigned k = 1; k < COUNT(coefficients); k++)
            p = wasm_f32x4_relaxed_madd(p, x, wasm_f32x4_splat(coefficients[k]));
        hash_f32x4(p);
        sum += wasm_f32x4_extract_lane(p, 0) + wasm_f32x4_extract_lane(p, 3);
    }
    report("exp polynomial (madd)");
    printf("%-36s %a\n", "exp polynomial sum", sum);

    int32_t total = 0;
    for (int row = 0; row < N / 16; row++) {
        v128_t acc = wasm_i32x4_splat(row);
        for (int col = 0; col < N; col += 16)
            acc = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(
                LOAD(i8s[(row + col / 16) % 3], col), LOAD(i8s[(row + 1) % 3], (col + row) % N & ~15),
                acc);
        hash_v128(acc);
        total += wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 3);
    }
    report("int8 matrix-vector (dot_add)");
    printf("%-36s %d\n", "int8 matrix-vector total", total);

    v128_t lookup = wasm_u8x16_make(0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169,
                                    196, 225);
    unsigned lookups = 0;
    for (int i = 0; i < N; i += 16) {
        v128_t low = wasm_v128_and(LOAD(bytes[0], i), wasm_i8x16_splat(0x1F)); /* 16-31: zero */
        v128_t squares = wasm_i8x16_relaxed_swizzle(lookup, low);
        v128_t larger = wasm_i8x16_relaxed_laneselect(squares, LOAD(bytes[1], i),
                                                      wasm_u8x16_gt(squares, LOAD(bytes[1], i)));
        hash_v128(larger);
        lookups += wasm_u16x8_extract_lane(larger, 0);
    }
    report("square lookup (swizzle, laneselect)");
    printf("%-36s %u\n", "square lookup checksum", lookups);
}

int main(void) {
    hash = 14695981039346656037u;
    fill();
    lanewise();
    cases();
    kernels();
    return 0;
}
#else
int main(void) {
    puts("built without relaxed SIMD");
    return 0;
}
#endif
