/* Traps on purpose; argv[1] chooses how. Natively each one dies by a signal (SIGSEGV, SIGFPE,
 * SIGILL); in wasm each is a trap. `volatile` keeps clang from folding the faults away. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

static volatile int ten = 10;
static volatile int zero = 0;
static volatile int minus_one = -1;
static volatile int int_min = INT_MIN;
static volatile int sink;
static volatile int never = -1;      /* a depth the recursion never reaches */

/* Not a tail call (the store comes after it), and nothing addressable in the frame: in wasm
 * the recursion lives on the engine's call stack, not on the C shadow stack in memory. */
static int recurse(int depth)
{
    if (depth == never)
        return 0;
    sink = recurse(depth + 1);
    return depth;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "";
    fprintf(stderr, "trapping: %s\n", how);
    if (strcmp(how, "oob") == 0)
        sink = *(volatile int *)0xFFFFFFF0u;   /* far past the end of linear memory */
    else if (strcmp(how, "div0") == 0)
        sink = ten / zero;
    else if (strcmp(how, "overflow") == 0)
        sink = int_min / minus_one;
    else if (strcmp(how, "unreachable") == 0)
        __builtin_trap();
    else if (strcmp(how, "stack") == 0)
        sink = recurse(0);
    fprintf(stderr, "usage: trap oob|div0|overflow|unreachable|stack\n");
    return 2;
}
