/* Kernels for memory64 against memory32 (benchmarks/test_memory64.py): freestanding C, no
 * libc, built twice by build-scripts/build-benchmarks.sh, for wasm32 and for wasm64, where
 * every pointer, size_t and index is 64-bit and every access is to a 64-bit memory. Each
 * returns a checksum, which the two builds must agree on. */

typedef unsigned long size_t;
typedef unsigned int u32;
typedef unsigned long long u64;

#define SIEVE_MAX (16u << 20)
#define MATRIX_MAX 512
#define BYTES_MAX (16u << 20)

static unsigned char composite[SIEVE_MAX];
static double a[MATRIX_MAX * MATRIX_MAX], b[MATRIX_MAX * MATRIX_MAX], c[MATRIX_MAX * MATRIX_MAX];
static unsigned char bytes[BYTES_MAX];
static u32 counts[256];

/* Primes below n (n <= SIEVE_MAX): a strided store loop and a byte scan. */
u32 sieve(size_t n) {
    for (size_t i = 0; i < n; i++)
        composite[i] = 0;
    u32 primes = 0;
    for (size_t i = 2; i < n; i++) {
        if (composite[i])
            continue;
        primes++;
        if (i < 65536 && i * i < n)     /* i * i without wrapping in 32 bits */
            for (size_t j = i * i; j < n; j += i)
                composite[j] = 1;
    }
    return primes;
}

/* c = a * b for n x n matrices (n <= MATRIX_MAX), the i-k-j order: a vectorisable inner
 * loop c[i][j] += a[i][k] * b[k][j]. Returns the trace of c, truncated. */
u64 matmul(size_t n) {
    for (size_t i = 0; i < n * n; i++) {
        a[i] = (double)(i % 7) - 3.0;
        b[i] = (double)(i % 5) * 0.5;
        c[i] = 0.0;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (size_t j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
    double trace = 0.0;
    for (size_t i = 0; i < n; i++)
        trace += c[i * n + i];
    return (u64)(long long)trace;
}

/* Fill n bytes (n <= BYTES_MAX) from xorshift, then a byte histogram and an FNV-1a hash
 * over them: loads and read-modify-write stores at data-dependent addresses. */
u64 histogram(size_t n) {
    u32 x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes[i] = (unsigned char)x;
    }
    for (size_t i = 0; i < 256; i++)
        counts[i] = 0;
    u64 hash = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        counts[bytes[i]]++;
        hash = (hash ^ bytes[i]) * 1099511628211ull;
    }
    for (size_t i = 0; i < 256; i++)
        hash = (hash ^ counts[i]) * 1099511628211ull;
    return hash;
}
