/* A small C library for embedding tests: the host copies text into memory the library
 * allocates, asks for statistics, and reads a report back. Built as a WASI reactor:
 *
 *   clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *       -Wl,--export=malloc -Wl,--export=free -o wordstats.wasm wordstats.c
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int calls;

/* The number of words in text[0..length), logged on stdout. */
__attribute__((export_name("count_words")))
int count_words(const char *text, int length) {
    int words = 0, in_word = 0;
    for (int i = 0; i < length; i++) {
        int letter = isalnum((unsigned char)text[i]);
        words += letter && !in_word;
        in_word = letter;
    }
    calls++;
    printf("call %d: %d words\n", calls, words);
    fflush(stdout);
    return words;
}

/* A new NUL-terminated copy of text[0..length) in upper case; the caller frees it. */
__attribute__((export_name("upper")))
char *upper(const char *text, int length) {
    char *out = malloc(length + 1);
    if (out == NULL)
        return NULL;
    for (int i = 0; i < length; i++)
        out[i] = toupper((unsigned char)text[i]);
    out[length] = '\0';
    return out;
}

/* The number of words on standard input, read to its end. */
__attribute__((export_name("count_stdin_words")))
int count_stdin_words(void) {
    int words = 0, in_word = 0, c;
    while ((c = getchar()) != EOF) {
        int letter = isalnum(c);
        words += letter && !in_word;
        in_word = letter;
    }
    return words;
}

/* The mean word length as a double, to see floats cross the boundary. */
__attribute__((export_name("mean_word_length")))
double mean_word_length(const char *text, int length) {
    int letters = 0, words = count_words(text, length);
    for (int i = 0; i < length; i++)
        letters += isalnum((unsigned char)text[i]) != 0;
    return words ? (double)letters / words : 0.0;
}
