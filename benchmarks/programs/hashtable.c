/* A chained hash table of string keys in which every key and every entry is its own malloc:
 * the cost of the allocator, string formatting and pointer chasing.
 * Usage: hashtable N -- inserts N keys, looks up 2N (half of them absent), deletes every
 * other key, then frees the table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xorshift.h"

struct entry {
    char *key;
    uint32_t value;
    struct entry *next;
};

struct table {
    struct entry **buckets;
    uint32_t nbuckets;   /* a power of two */
    uint32_t count;
};

static uint32_t hash_string(const char *s) {   /* FNV-1a */
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static void grow(struct table *t) {
    uint32_t nbuckets = t->nbuckets * 2;
    struct entry **buckets = calloc(nbuckets, sizeof *buckets);
    for (uint32_t i = 0; i < t->nbuckets; i++) {
        struct entry *e = t->buckets[i];
        while (e) {
            struct entry *next = e->next;
            uint32_t b = hash_string(e->key) & (nbuckets - 1);
            e->next = buckets[b];
            buckets[b] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->nbuckets = nbuckets;
}

static struct entry **find_slot(struct table *t, const char *key) {
    struct entry **slot = &t->buckets[hash_string(key) & (t->nbuckets - 1)];
    while (*slot && strcmp((*slot)->key, key) != 0)
        slot = &(*slot)->next;
    return slot;
}

static void put(struct table *t, const char *key, uint32_t value) {
    struct entry **slot = find_slot(t, key);
    if (*slot) {
        (*slot)->value = value;
        return;
    }
    struct entry *e = malloc(sizeof *e);
    e->key = strdup(key);
    e->value = value;
    e->next = NULL;
    *slot = e;
    if (++t->count > t->nbuckets)
        grow(t);
}

static void delete(struct table *t, const char *key) {
    struct entry **slot = find_slot(t, key);
    struct entry *e = *slot;
    if (!e)
        return;
    *slot = e->next;
    free(e->key);
    free(e);
    t->count--;
}

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 100000;
    struct table t = {calloc(16, sizeof(struct entry *)), 16, 0};
    char key[32];
    uint32_t *ids = malloc(sizeof(uint32_t) * (n ? n : 1));
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = xorshift32() % (n * 4 + 1);
        snprintf(key, sizeof key, "key-%u", ids[i]);
        put(&t, key, i);
    }
    uint32_t found = 0, sum = 0;
    for (uint32_t i = 0; i < 2 * n; i++) {
        snprintf(key, sizeof key, "key-%u", i % 2 ? ids[i / 2] : xorshift32() % (n * 4 + 1));
        struct entry *e = *find_slot(&t, key);
        if (e) {
            found++;
            sum += e->value;
        }
    }
    for (uint32_t i = 0; i < n; i += 2) {
        snprintf(key, sizeof key, "key-%u", ids[i]);
        delete(&t, key);
    }
    printf("entries %u found %u sum %u left %u\n", n, found, sum, t.count);
    for (uint32_t i = 0; i < t.nbuckets; i++)
        for (struct entry *e = t.buckets[i], *next; e; e = next) {
            next = e->next;
            free(e->key);
            free(e);
        }
    free(t.buckets);
    free(ids);
    return 0;
}
