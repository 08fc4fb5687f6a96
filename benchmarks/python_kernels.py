"""The benchmark programs written by hand in plain Python: the CPython row.

Each function is the same algorithm as benchmarks/programs/NAME.c and prints exactly what
the C program prints for the same arguments, so the suite checks this row like every other.
It is what a Python programmer would write without WebAssembly, the yardstick for the
interpreter. Usage: python python_kernels.py NAME [ARGS...]
"""

import math
import sys

MASK32 = 0xFFFFFFFF


class Xorshift32:
    """Marsaglia's xorshift32, as in programs/xorshift.h."""

    def __init__(self):
        self.state = 2463534242

    def next(self):
        x = self.state
        x ^= (x << 13) & MASK32
        x ^= x >> 17
        x ^= (x << 5) & MASK32
        self.state = x
        return x


def hello():
    print("hello, world")


def fib(n="38"):
    def fib_rec(n):
        return n if n < 2 else fib_rec(n - 1) + fib_rec(n - 2)

    n = int(n)
    print(f"fib({n}) = {fib_rec(n) & MASK32}")


def nbody(steps="1000"):
    solar_mass = 4 * math.pi * math.pi
    days_per_year = 365.24
    # x, y, z, vx, vy, vz, mass per body, the order of programs/nbody.c
    bodies = [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, solar_mass],
        [4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
         1.66007664274403694e-03 * days_per_year, 7.69901118419740425e-03 * days_per_year,
         -6.90460016972063023e-05 * days_per_year, 9.54791938424326609e-04 * solar_mass],
        [8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
         -2.76742510726862411e-03 * days_per_year, 4.99852801234917238e-03 * days_per_year,
         2.30417297573763929e-05 * days_per_year, 2.85885980666130812e-04 * solar_mass],
        [1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
         2.96460137564761618e-03 * days_per_year, 2.37847173959480950e-03 * days_per_year,
         -2.96589568540237556e-05 * days_per_year, 4.36624404335156298e-05 * solar_mass],
        [1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
         2.68067772490389322e-03 * days_per_year, 1.62824170038242295e-03 * days_per_year,
         -9.51592254519715870e-05 * days_per_year, 5.15138902046611451e-05 * solar_mass],
    ]
    pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]

    def energy():
        e = 0.0
        for i, b in enumerate(bodies):
            e += 0.5 * b[6] * (b[3] * b[3] + b[4] * b[4] + b[5] * b[5])
            for c in bodies[i + 1:]:
                dx, dy, dz = b[0] - c[0], b[1] - c[1], b[2] - c[2]
                e -= b[6] * c[6] / math.sqrt(dx * dx + dy * dy + dz * dz)
        return e

    px = py = pz = 0.0
    for b in bodies:
        px += b[3] * b[6]
        py += b[4] * b[6]
        pz += b[5] * b[6]
    sun = bodies[0]
    sun[3], sun[4], sun[5] = -px / solar_mass, -py / solar_mass, -pz / solar_mass

    print(f"{energy():.9f}")
    dt = 0.01
    for _ in range(int(steps)):
        for b, c in pairs:
            dx, dy, dz = b[0] - c[0], b[1] - c[1], b[2] - c[2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * math.sqrt(d2))
            bm, cm = b[6], c[6]
            b[3] -= dx * cm * mag
            b[4] -= dy * cm * mag
            b[5] -= dz * cm * mag
            c[3] += dx * bm * mag
            c[4] += dy * bm * mag
            c[5] += dz * bm * mag
        for b in bodies:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]
    print(f"{energy():.9f}")


def matmul(n="200"):
    n = int(n)
    a = [[float((i + 2 * j) % 10) for j in range(n)] for i in range(n)]
    b = [[float((3 * i + j) % 10 - 4) for j in range(n)] for i in range(n)]
    c = [[0.0] * n for _ in range(n)]
    for i in range(n):
        ci = c[i]
        for k in range(n):
            aik = a[i][k]
            bk = b[k]
            for j in range(n):
                ci[j] += aik * bk[j]
    total = 0.0
    for i in range(n):
        for j in range(n):
            total += c[i][j] * float((i * n + j) % 7 + 1)
    print(f"checksum {total:.1f}")


def sieve(n="1000000", rounds="1"):
    n = int(n)
    count = 0
    for _ in range(int(rounds)):
        composite = bytearray(n)
        count = 0
        for i in range(2, n):
            if composite[i]:
                continue
            count += 1
            for j in range(i * i, n, i):
                composite[j] = 1
    print(f"primes below {n}: {count}")


SHA256_K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]


def sha256_digest(data):
    """SHA-256 by hand (FIPS 180-4); hashlib would measure C, not Python."""

    def rotr(x, n):
        return (x >> n) | ((x << (32 - n)) & MASK32)

    h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    padded = bytes(data) + b"\x80" + bytes((55 - len(data)) % 64) + (len(data) * 8).to_bytes(8, "big")
    for start in range(0, len(padded), 64):
        w = [int.from_bytes(padded[start + 4 * i:start + 4 * i + 4], "big") for i in range(16)]
        for i in range(16, 64):
            s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w.append((w[i - 16] + s0 + w[i - 7] + s1) & MASK32)
        a, b, c, d, e, f, g, hh = h
        for i in range(64):
            t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g))
                  + SHA256_K[i] + w[i]) & MASK32
            t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & MASK32
            hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & MASK32, c, b, a, (t1 + t2) & MASK32
        h = [(x + y) & MASK32 for x, y in zip(h, (a, b, c, d, e, f, g, hh))]
    return b"".join(x.to_bytes(4, "big") for x in h)


def sha256(kib="1024", rounds="1"):
    length = int(kib) * 1024
    rng = Xorshift32()
    buf = bytearray(rng.next() & 0xFF for _ in range(length))
    digest = b""
    for _ in range(int(rounds)):
        digest = sha256_digest(buf)
        keep = min(length, 32)
        buf[:keep] = digest[:keep]
    print(digest.hex())


def mandelbrot(n="1000"):
    n = int(n)
    fnv = 2166136261
    inside = 0
    for y in range(n):
        ci = 2.0 * y / n - 1.0
        bits = nbits = 0
        for x in range(n):
            cr = 2.0 * x / n - 1.5
            zr = zi = tr = ti = 0.0
            i = 0
            while i < 50 and tr + ti <= 4.0:
                zi = 2.0 * zr * zi + ci
                zr = tr - ti + cr
                tr = zr * zr
                ti = zi * zi
                i += 1
            is_in = 1 if tr + ti <= 4.0 else 0
            inside += is_in
            bits = bits << 1 | is_in
            nbits += 1
            if nbits == 8 or x == n - 1:
                fnv = ((fnv ^ (bits << (8 - nbits))) * 16777619) & MASK32
                bits = nbits = 0
    print(f"inside {inside} hash {fnv:08x}")


def quicksort(n="1000000", rounds="1"):
    n = int(n)

    def insertion_sort(a, lo, hi):
        for i in range(lo + 1, hi + 1):
            v = a[i]
            j = i - 1
            while j >= lo and a[j] > v:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = v

    def sort(a, lo, hi):
        while hi - lo > 16:
            pivot = a[lo + (hi - lo) // 2]
            i, j = lo - 1, hi + 1
            while True:
                i += 1
                while a[i] < pivot:
                    i += 1
                j -= 1
                while a[j] > pivot:
                    j -= 1
                if i >= j:
                    break
                a[i], a[j] = a[j], a[i]
            if j - lo < hi - j:
                sort(a, lo, j)
                lo = j + 1
            else:
                sort(a, j + 1, hi)
                hi = j
        insertion_sort(a, lo, hi)

    rng = Xorshift32()
    checksum = 0
    for _ in range(int(rounds)):
        a = [rng.next() for _ in range(n)]
        sort(a, 0, n - 1)
        if any(a[i - 1] > a[i] for i in range(1, n)):
            print("not sorted")
            sys.exit(1)
        for i in range(0, n, 1 + n // 1000):
            checksum = (checksum * 31 + a[i]) & MASK32
    print(f"checksum {checksum}")


def hashtable(n="100000"):
    """A chained table of [key, value, next] nodes, as programs/hashtable.c; not a dict,
    which would be C code measuring itself."""
    n = int(n)

    def hash_string(s):
        h = 2166136261
        for byte in s.encode():
            h = ((h ^ byte) * 16777619) & MASK32
        return h

    buckets = [None] * 16
    count = 0

    def find(key):
        """Return (node before, node) for key; node is None when absent."""
        prev, node = None, buckets[hash_string(key) & (len(buckets) - 1)]
        while node is not None and node[0] != key:
            prev, node = node, node[2]
        return prev, node

    def grow():
        nonlocal buckets
        new = [None] * (len(buckets) * 2)
        for node in buckets:
            while node is not None:
                nxt = node[2]
                b = hash_string(node[0]) & (len(new) - 1)
                node[2] = new[b]
                new[b] = node
                node = nxt
        buckets = new

    def put(key, value):
        nonlocal count
        prev, node = find(key)
        if node is not None:
            node[1] = value
            return
        node = [key, value, None]
        if prev is None:
            buckets[hash_string(key) & (len(buckets) - 1)] = node
        else:
            prev[2] = node
        count += 1
        if count > len(buckets):
            grow()

    def delete(key):
        nonlocal count
        prev, node = find(key)
        if node is None:
            return
        if prev is None:
            buckets[hash_string(key) & (len(buckets) - 1)] = node[2]
        else:
            prev[2] = node[2]
        count -= 1

    rng = Xorshift32()
    modulus = (n * 4 + 1) & MASK32
    ids = []
    for i in range(n):
        ids.append(rng.next() % modulus)
        put(f"key-{ids[i]}", i)
    found = total = 0
    for i in range(2 * n):
        key = f"key-{ids[i // 2] if i % 2 else rng.next() % modulus}"
        node = find(key)[1]
        if node is not None:
            found += 1
            total = (total + node[1]) & MASK32
    for i in range(0, n, 2):
        delete(f"key-{ids[i]}")
    print(f"entries {n} found {found} sum {total} left {count}")


def blur(size="512", rounds="1"):
    size, rounds = int(size), int(rounds)
    n = size * size
    rng = Xorshift32()
    image = bytearray(rng.next() & 0xFF for _ in range(n))
    blurred = bytearray(n)

    def box_blur(src, dst):
        for y in range(1, size - 1):
            above, row, below = (y - 1) * size, y * size, (y + 1) * size
            for x in range(1, size - 1):
                total = (src[above + x - 1] + src[above + x] + src[above + x + 1]
                         + src[row + x - 1] + src[row + x] + src[row + x + 1]
                         + src[below + x - 1] + src[below + x] + src[below + x + 1])
                dst[row + x] = (total * 7282) >> 16

    checksum = 0
    for _ in range(rounds):
        box_blur(image, blurred)
        box_blur(blurred, image)
        dot = sum((p - 128) * (q - 128) for p, q in zip(image, blurred))
        checksum = (checksum * 31 + dot) & MASK32
    print(f"blur {size}x{size} rounds {rounds} checksum {checksum}")


KERNELS = {f.__name__: f for f in (hello, fib, nbody, matmul, sieve, sha256, mandelbrot,
                                    quicksort, hashtable, blur)}


def main(argv):
    if not argv or argv[0] not in KERNELS:
        sys.exit(f"usage: python_kernels.py {{{'|'.join(KERNELS)}}} [ARGS...]")
    KERNELS[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
