/* Mandelbrot set on an N x N grid, 50 iterations per point (f64 loops with an early exit),
 * after the Computer Language Benchmarks Game. Usage: mandelbrot N
 * Prints the number of points in the set and a hash of the packed bitmap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    uint32_t hash = 2166136261u;   /* FNV-1a over the packed rows */
    long inside = 0;
    for (int y = 0; y < n; y++) {
        double ci = 2.0 * y / n - 1.0;
        unsigned bits = 0;
        int nbits = 0;
        for (int x = 0; x < n; x++) {
            double cr = 2.0 * x / n - 1.5;
            double zr = 0, zi = 0, tr = 0, ti = 0;
            int i = 0;
            while (i < 50 && tr + ti <= 4.0) {
                zi = 2.0 * zr * zi + ci;
                zr = tr - ti + cr;
                tr = zr * zr;
                ti = zi * zi;
                i++;
            }
            int in = tr + ti <= 4.0;
            inside += in;
            bits = bits << 1 | in;
            if (++nbits == 8 || x == n - 1) {
                hash = (hash ^ (bits << (8 - nbits))) * 16777619u;
                bits = 0;
                nbits = 0;
            }
        }
    }
    printf("inside %ld hash %08x\n", inside, hash);
    return 0;
}
