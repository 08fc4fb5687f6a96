/* Ends with a non-zero status, after output on both streams and an atexit handler.
 * argv[1]: "exit" calls exit(3); "return" returns 5 from main. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void goodbye(void)
{
    printf("atexit handler ran\n");
}

int main(int argc, char **argv)
{
    atexit(goodbye);
    printf("to stdout\n");
    fprintf(stderr, "to stderr\n");
    if (argc > 1 && strcmp(argv[1], "return") == 0)
        return 5;
    exit(3);
}
