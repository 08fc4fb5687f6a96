"""A large C program made on the spot, so that the interpreter's set-up is also timed on what
a compiler emits (benchmarks/test_decode_speed.py): 3,800 functions of the shapes C code has
(loops over arrays, switches, floating point, linked structs, snprintf and hashing, calls),
all reachable through a table of function pointers so that none is dropped. clang-19 -O2 for
wasm32-wasi makes ~1.0 MB of it (build-scripts/build-benchmarks.sh builds it).
Usage: python big_c_program.py OUT.c [FUNCTIONS]
"""

import random
import sys

PRELUDE = """#include <math.h>
#include <stdio.h>
#include <stdlib.h>
struct rec { int a; long long b; double c; unsigned char tag[12]; struct rec *next; };
static int table_i[256];
static double table_d[64];
static struct rec pool[64];
typedef long long (*fn)(long long, int);
"""

MAIN = """int main(int argc, char **argv) {
  for (int i = 0; i < 256; i++) table_i[i] = i * 2654435761u >> 7;
  for (int i = 0; i < 64; i++) {
    table_d[i] = i * 0.37;
    pool[i].a = i;
    pool[i].b = i * 3;
    pool[i].c = i / 3.0;
    pool[i].next = &pool[(i * 7 + 1) & 63];
  }
  int which = argc > 1 ? atoi(argv[1]) : 0;
  printf("%lld\\n", table[which % (int)(sizeof table / sizeof table[0])](which, 5));
  return 0;
}
"""


def function(index, rng):
    """The source of `long long f<index>(long long x, int y)`, of one of six shapes."""
    k = rng.randrange(1, 1000)
    shape = index % 6
    if shape == 0:
        body = (f"  long long acc = x * {k};\n"
                f"  for (int i = 0; i < (y & 63); i++) {{\n"
                f"    acc += table_i[(i * {k % 7 + 1}) & 255] ^ (acc >> {k % 13 + 1});\n"
                f"    if (acc > {k * 1000}) acc -= i * {k};\n"
                f"  }}\n"
                f"  return acc;\n")
    elif shape == 1:
        cases = "".join(f"    case {c}: r = r * {rng.randrange(2, 99)} + {rng.randrange(1000)}; "
                        "break;\n" for c in range(rng.randrange(4, 12)))
        body = (f"  long long r = y;\n"
                f"  switch ((int)(x % {rng.randrange(5, 16)})) {{\n{cases}"
                f"    default: r ^= x;\n"
                f"  }}\n"
                f"  return r + {k};\n")
    elif shape == 2:
        body = (f"  double s = 0.{k};\n"
                f"  for (int i = 0; i < (y & 15) + 1; i++) {{\n"
                f"    s = s * 1.{k} + table_d[i & 63] / (1.0 + i);\n"
                f"    if (s > 1e9) s = sqrt(s);\n"
                f"  }}\n"
                f"  return (long long)(s * {k}) + x;\n")
    elif shape == 3:
        body = (f"  struct rec *p = &pool[(x + {k}) & 63];\n"
                f"  long long t = 0;\n"
                f"  for (int i = 0; p && i < (y & 7) + 2; i++, p = p->next) {{\n"
                f"    t += p->a * {k % 17 + 1} + p->b - (long long)p->c;\n"
                f"    p->tag[i % 12] ^= (unsigned char)t;\n"
                f"  }}\n"
                f"  return t;\n")
    elif shape == 4:
        body = (f"  char buf[64];\n"
                f"  int n = snprintf(buf, sizeof buf, \"%lld:%d:{k}\", x, y);\n"
                f"  unsigned h = {k}u;\n"
                f"  for (int i = 0; i < n; i++) h = h * 31u + (unsigned char)buf[i];\n"
                f"  return (long long)h;\n")
    else:
        callee = rng.randrange(max(index, 1))
        body = (f"  if (y <= 0) return x + {k};\n"
                f"  long long a = f{callee}(x ^ {k}, y - 1 - (int)(x & 3));\n"
                f"  return a > x ? a - x : x * {k % 9 + 2} + a;\n")
    return f"long long f{index}(long long x, int y) {{\n{body}}}\n"


def generate(functions=3800):
    """The program's source: the same for the same count."""
    rng = random.Random(5)
    names = ", ".join(f"f{i}" for i in range(functions))
    return "".join([PRELUDE, *(function(i, rng) for i in range(functions)),
                    f"static const fn table[] = {{{names}}};\n", MAIN])


if __name__ == "__main__":
    with open(sys.argv[1], "w") as f:
        f.write(generate(int(sys.argv[2]) if len(sys.argv) > 2 else 3800))
