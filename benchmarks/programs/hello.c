/* Start-up cost: the smallest WASI program that prints. */
#include <stdio.h>

int main(void) {
    puts("hello, world");
    return 0;
}
