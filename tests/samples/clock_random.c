/* Uses the clocks and the random source, printing only properties that hold on every run:
 * the monotonic clock never goes back and advances across a sleep, the wall clock is past
 * 2020, random bytes are not all zero and two draws differ. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long ns(struct timespec t)
{
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static const char *yes(int ok)
{
    return ok ? "yes" : "NO";
}

int main(void)
{
    struct timespec a, b, res, cpu, wall;
    struct timespec nap = {0, 2000000};   /* 2 ms */

    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("monotonic never goes back: %s\n", yes(ns(b) >= ns(a)));
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("a 2 ms sleep advances it by 2 ms or more: %s\n", yes(ns(b) - ns(a) >= 2000000));

    printf("monotonic resolution in (0, 1 s]: %s\n",
           yes(clock_getres(CLOCK_MONOTONIC, &res) == 0 && ns(res) > 0
               && ns(res) <= 1000000000LL));
    printf("realtime is after 2020: %s\n",
           yes(clock_gettime(CLOCK_REALTIME, &wall) == 0 && wall.tv_sec > 1577836800));
    printf("time() agrees with realtime: %s\n", yes(time(NULL) - wall.tv_sec <= 1));
    printf("process cpu clock works: %s\n",
           yes(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0 && ns(cpu) >= 0));

    unsigned char first[32], second[32], zeros[32] = {0};
    int ok = getentropy(first, sizeof first) == 0 && getentropy(second, sizeof second) == 0;
    printf("getentropy succeeds: %s\n", yes(ok));
    printf("random bytes are not all zero: %s\n", yes(memcmp(first, zeros, sizeof first) != 0));
    printf("two draws differ: %s\n", yes(memcmp(first, second, sizeof first) != 0));
    return 0;
}
