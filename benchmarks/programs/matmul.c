/* Dense f64 matrix multiply C = A x B (i-k-j order): loads, stores and f64 multiply-add over
 * arrays. The entries are small integers so that every engine's sum is exact. Usage: matmul N */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200;
    double *a = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n * n);
    double *c = calloc((size_t)n * n, sizeof(double));
    if (!a || !b || !c) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = (double)((i + 2 * j) % 10);
            b[i * n + j] = (double)((3 * i + j) % 10 - 4);
        }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (int j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
    double sum = 0;
    for (int i = 0; i < n * n; i++)
        sum += c[i] * (double)(i % 7 + 1);
    printf("checksum %.1f\n", sum);
    free(a);
    free(b);
    free(c);
    return 0;
}
