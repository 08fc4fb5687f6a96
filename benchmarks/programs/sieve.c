/* Sieve of Eratosthenes over a byte array: tight loops of byte loads and stores.
 * Usage: sieve N [ROUNDS] -- counts the primes below N, ROUNDS times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_primes(unsigned char *composite, int n) {
    memset(composite, 0, n);
    int count = 0;
    for (int i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        for (long long j = (long long)i * i; j < n; j += i)
            composite[j] = 1;
    }
    return count;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 1;
    unsigned char *composite = malloc(n);
    if (!composite) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    int count = 0;
    for (int r = 0; r < rounds; r++)
        count = count_primes(composite, n);
    printf("primes below %d: %d\n", n, count);
    free(composite);
    return 0;
}
