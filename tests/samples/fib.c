/* Reads n from stdin, prints fib(n) (naive recursion: a call-heavy benchmark) on stdout and
 * the time it took on stderr. The time differs from run to run; comparisons ignore it. */
#include <stdio.h>
#include <time.h>

static unsigned long long fib(int n)
{
    return n < 2 ? (unsigned long long)n : fib(n - 1) + fib(n - 2);
}

int main(void)
{
    int n;
    struct timespec start, end;

    if (scanf("%d", &n) != 1 || n < 0) {
        fprintf(stderr, "usage: echo N | fib\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    unsigned long long result = fib(n);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("fib(%d) = %llu\n", n, result);
    double ms = (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6;
    fprintf(stderr, "time: %.3f ms\n", ms);
    return 0;
}
