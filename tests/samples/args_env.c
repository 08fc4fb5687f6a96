/* Echoes its arguments (argv[1..]: argv[0] is the binary's own path, which differs) and its
 * whole environment, in order. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("argc: %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]: [%s]\n", i, argv[i]);
    int count = 0;
    for (char **e = environ; *e; e++, count++)
        printf("env: [%s]\n", *e);
    printf("env count: %d\n", count);
    const char *value = getenv("PYWAMR_SAMPLE");
    printf("getenv PYWAMR_SAMPLE: %s\n", value ? value : "(unset)");
    return 0;
}
