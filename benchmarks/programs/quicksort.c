/* Quicksort of pseudo-random 32-bit ints: compares, swaps and recursion over an array.
 * Usage: quicksort N [ROUNDS] -- sorts ROUNDS fresh arrays of N ints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "xorshift.h"

static void insertion_sort(uint32_t *a, long lo, long hi) {
    for (long i = lo + 1; i <= hi; i++) {
        uint32_t v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

/* Hoare partition around the middle element; recurse into the smaller side, loop on the
 * larger, so the stack stays O(log n). */
static void quicksort(uint32_t *a, long lo, long hi) {
    while (hi - lo > 16) {
        uint32_t pivot = a[lo + (hi - lo) / 2];
        long i = lo - 1, j = hi + 1;
        for (;;) {
            do i++; while (a[i] < pivot);
            do j--; while (a[j] > pivot);
            if (i >= j)
                break;
            uint32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        if (j - lo < hi - j) {
            quicksort(a, lo, j);
            lo = j + 1;
        } else {
            quicksort(a, j + 1, hi);
            hi = j;
        }
    }
    insertion_sort(a, lo, hi);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 1;
    uint32_t *a = malloc(sizeof(uint32_t) * (n ? n : 1));
    if (!a) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    uint32_t checksum = 0;
    for (int r = 0; r < rounds; r++) {
        for (long i = 0; i < n; i++)
            a[i] = xorshift32();
        quicksort(a, 0, n - 1);
        for (long i = 1; i < n; i++)
            if (a[i - 1] > a[i]) {
                puts("not sorted");
                return 1;
            }
        for (long i = 0; i < n; i += 1 + n / 1000)
            checksum = checksum * 31 + a[i];
    }
    printf("checksum %u\n", checksum);
    free(a);
    return 0;
}
