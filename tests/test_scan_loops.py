"""Scan loops (compiler/scan_loops.py): loops that only read memory rely on the guard pages
for their loads in the default mode, and must trap exactly as the spec says.

Each function stores before its loop and after it, and its loop runs off the end of memory
for some of the arguments: the trap (or the result) and the whole memory must then be those
of the interpreter, at -O0 and -O3, in both bounds modes, on x86_64 and on AArch64 under qemu.
The loops are the shapes that tempt LLVM most once a load may not fault: a load whose value
dies or is known from its range, a partly used load at the very end of memory, a
loop-invariant load, a store after the loop that does not depend on it.
"""

import json
import re
import subprocess
import sys

import pytest

from arm64_qemu import run_arm64_python
from module_text import wasm
from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.compiler.scan_loops import find_scan_loop, wide_pointers
from pywamr.compiler.translator import _UNOBSERVABLE
from pywamr.loader.aot_module import AotModule
from pywamr.runtime import opcodes
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import Trap
from pywamr.runtime.interp import Module

PAGE = 65536

SCANS_WAT = """
(module
  (memory (export "memory") 1 2)
  (global $after (export "after") (mut i32) (i32.const 0))
  ;; quicksort's partition scan: do p += 4 while (*p < limit)
  (func (export "scan_up") (param $p i32) (param $limit i32) (result i32)
    (i32.store (i32.const 64) (local.get $p))
    (loop $next
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $next (i32.lt_u (i32.load (local.get $p)) (local.get $limit))))
    (i32.store (i32.const 68) (local.get $p))
    (i32.store (i32.const 72) (i32.const 7))
    (global.set $after (i32.const 1))
    (local.get $p))
  ;; downwards, a byte at a static offset
  (func (export "scan_down") (param $p i32) (param $stop i32) (result i32)
    (i32.store8 (i32.const 80) (i32.const 1))
    (loop $next
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (br_if $next (i32.ne (i32.load8_u offset=3 (local.get $p)) (local.get $stop))))
    (i32.store8 (i32.const 81) (i32.const 2))
    (local.get $p))
  ;; strcmp: two pointers, an exit in the middle of the body
  (func (export "compare") (param $a i32) (param $b i32) (result i32) (local $x i32) (local $y i32)
    (i32.store (i32.const 96) (i32.const -1))
    (block $done
      (loop $next
        (local.set $x (i32.load8_u (local.get $a)))
        (local.set $y (i32.load8_u (local.get $b)))
        (br_if $done (i32.eqz (local.get $x)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br_if $next (i32.eq (local.get $x) (local.get $y)))))
    (i32.store (i32.const 100) (local.get $a))
    (i32.sub (local.get $x) (local.get $y)))
  ;; the hashtable's FNV-1a over a string
  (func (export "hash") (param $s i32) (result i32) (local $h i32) (local $c i32)
    (i32.store (i32.const 104) (i32.const 5))
    (local.set $h (i32.const 0x811c9dc5))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.tee $c (i32.load8_u (local.get $s)))))
        (local.set $h (i32.mul (i32.xor (local.get $h) (local.get $c)) (i32.const 16777619)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br 0)))
    (i32.store (i32.const 108) (local.get $h))
    (local.get $h))
  ;; a list walk: p = p->next until p->key == key or p == 0
  (func (export "walk") (param $p i32) (param $key i32) (result i32)
    (i32.store (i32.const 112) (i32.const 1))
    (block $found
      (loop $next
        (br_if $found (i32.eq (i32.load (local.get $p)) (local.get $key)))
        (br_if $next (local.tee $p (i32.load offset=4 (local.get $p))))))
    (i32.store (i32.const 116) (local.get $p))
    (local.get $p))
  ;; dead loads: one whose value is dropped, one whose value the condition masks away
  (func (export "dead") (param $p i32) (param $q i32) (result i32)
    (i32.store (i32.const 128) (i32.const 3))
    (loop $next
      (drop (i64.load offset=8 (local.get $q)))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br_if $next (i32.and (i32.load16_u (local.get $p)) (i32.const 0x10000))))
    (i32.store (i32.const 132) (i32.const 4))
    (local.get $p))
  ;; a condition known from the load's range: only a trap ends this loop
  (func (export "endless") (param $p i32)
    (i32.store (i32.const 136) (local.get $p))
    (loop $next
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $next (i32.le_u (i32.load8_u (local.get $p)) (i32.const 255))))
    (i32.store (i32.const 140) (local.get $p)))
  ;; a partly used load, stepping by 1 so that it straddles the end of memory
  (func (export "narrow") (param $p i32) (param $stop i32) (result i32)
    (i32.store (i32.const 144) (i32.const 9))
    (loop $next
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $next (i32.ne (i32.and (i32.load (local.get $p)) (i32.const 0xFF))
                           (local.get $stop))))
    (i32.store (i32.const 148) (local.get $p))
    (local.get $p))
  ;; a loop-invariant load, and a counter; an exit by br_table
  (func (export "invariant") (param $q i32) (param $n i32) (result i32) (local $sum i32)
    (i32.store (i32.const 152) (i32.const 1))
    (block $out
      (loop $next
        (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $q))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_table $out $next (i32.ne (local.get $n) (i32.const 0)))))
    (i32.store (i32.const 156) (local.get $sum))
    (local.get $sum))
  ;; SIMD loads, a branch inside the body, a load with an offset too big for the guard
  (func (export "vectors") (param $p i32) (result i32) (local $v v128)
    (i32.store (i32.const 160) (i32.const 1))
    (loop $next
      (if (i32.load8_u (local.get $p))
        (then (local.set $v (v128.load32_splat offset=4 (local.get $p))))
        (else (local.set $v (v128.load8_lane 3 (local.get $p) (local.get $v)))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $next (v128.any_true (v128.and (local.get $v) (v128.load (local.get $p))))))
    (i32.store (i32.const 164) (local.get $p))
    (local.get $p))
  (func (export "far") (param $p i32) (result i32)
    (i32.store (i32.const 168) (i32.const 1))
    (loop $next
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $next (i32.load offset=0xFFFFFFFE (local.get $p))))
    (i32.store (i32.const 172) (local.get $p))
    (local.get $p))
  ;; the first store is overwritten after the loop, and the loop cannot read it (its loads
  ;; are at 128 or more): it must still be in memory after a trap in the loop
  (func (export "overwritten") (param $i i32) (result i32)
    (i32.store (i32.const 120) (i32.const 1))
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.load8_u offset=128 (local.get $i))))
    (i32.store (i32.const 120) (i32.const 2))
    (local.get $i))
  ;; quicksort's swap: stores where the two scans stopped, which their loads proved in bounds
  ;; (no check left at -O3), and one beyond (checked)
  (func (export "swap") (param $i i32) (param $j i32) (param $pivot i32)
    (local $x i32) (local $y i32)
    (loop $up
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $up (i32.lt_u (local.tee $x (i32.load (local.get $i))) (local.get $pivot))))
    (loop $down
      (local.set $j (i32.sub (local.get $j) (i32.const 4)))
      (br_if $down (i32.gt_u (local.tee $y (i32.load (local.get $j))) (local.get $pivot))))
    (i32.store (local.get $i) (local.get $y))
    (i32.store (local.get $j) (local.get $x))
    (i32.store offset=4 (local.get $j) (local.get $x)))
  ;; C's is-sorted check: on the way out of the scan, an exit tail (stores, a load, return)
  (func (export "sorted") (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 184) (i32.const 1))
    (loop $next
      (block $ok
        (br_if $ok (i32.le_u (i32.load (local.get $p)) (i32.load offset=4 (local.get $p))))
        (i32.store (i32.const 188) (local.get $p))
        (i32.store (i32.const 192) (i32.load offset=8 (local.get $p)))
        (return (i32.const -1)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.store (i32.const 196) (local.get $p))
    (local.get $p))
  (func $note (param i32) (i32.store (i32.const 200) (local.get 0)))
  ;; an assertion in a scan: a call and a trap of another kind in the tail
  (func (export "assert_scan") (param $p i32) (result i32)
    (i32.store (i32.const 204) (local.get $p))
    (loop $next
      (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x42))
        (then (call $note (local.get $p)) (unreachable)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $next (i32.load8_u (local.get $p))))
    (i32.store (i32.const 208) (local.get $p))
    (local.get $p))
  ;; quicksort's downward scan: load, then step
  (func (export "scan_down_after") (param $p i32) (param $pivot i32) (result i32) (local $x i32)
    (i32.store (i32.const 212) (local.get $p))
    (loop $next
      (local.set $x (i32.load (local.get $p)))
      (local.set $p (i32.sub (local.get $p) (i32.const 4)))
      (br_if $next (i32.gt_u (local.get $x) (local.get $pivot))))
    (i32.store (i32.const 216) (local.get $p))
    (local.get $p))
  ;; a step teed to another local on its way, loaded through its own tee
  (func (export "scan_teed") (param $p i32) (param $limit i32) (result i32) (local $q i32)
    (loop $next
      (br_if $next (i32.lt_u (i32.load (local.tee $p (local.tee $q (i32.add (local.get $p)
                                                                            (i32.const 8)))))
                             (local.get $limit))))
    (i32.store (i32.const 220) (local.get $q))
    (local.get $p)))
"""

# export -> argument lists: from well inside memory to near its end and past it, so that
# loops finish, run off the end, or start outside.
EDGES = [0, 200, PAGE - 64, PAGE - 17, PAGE - 8, PAGE - 5, PAGE - 4, PAGE - 3, PAGE - 2,
         PAGE - 1, PAGE, 2 * PAGE - 8, 0x7FFFFFFF, 0xFFFFFFF0]
# Pointers that wrap around to the start of memory on their first step.
WRAPPING = [0xFFFFFFF8, 0xFFFFFFFC]
CALLS = ([["scan_up", [p, limit]] for p in EDGES + WRAPPING for limit in (0x80, 0xFFFFFFFF)]
         + [["scan_down", [p, stop]] for p in EDGES for stop in (0, 0x41)]
         + [["compare", [a, b]] for a in EDGES for b in (256, PAGE - 6)]
         + [["hash", [s]] for s in EDGES]
         + [["walk", [p, key]] for p in EDGES + [1024, 5120] for key in (0, 7)]
         + [["dead", [p, q]] for p in (0, 256, PAGE - 4) for q in EDGES]
         + [["endless", [p]] for p in (PAGE - 40, PAGE - 1, PAGE, 0xFFFFFFFF)]
         + [["narrow", [p, stop]] for p in EDGES for stop in (0x41, 0x100)]
         + [["invariant", [q, n]] for q in EDGES for n in (1, 5)]
         + [["vectors", [p]] for p in EDGES]
         + [["far", [p]] for p in (0, 3, PAGE - 8, PAGE - 1, 0xFFFFFFF0)]
         + [["overwritten", [i]] for i in EDGES]
         + [["swap", [i, j, pivot]] for i in EDGES[::2] for j in EDGES[1::2]
            for pivot in (0x41414141, 0x41414142)]
         + [["sorted", [p, n]] for p in EDGES + [296, 5000] for n in (3, 1000)]
         + [["assert_scan", [p]] for p in EDGES + [4998]]
         + [["scan_down_after", [p, pivot]] for p in EDGES + [4] + WRAPPING
            for pivot in (0, 0x41414140)]
         + [["scan_teed", [p, limit]] for p in EDGES + WRAPPING for limit in (0x80, 0xFFFFFFFF)])


def fill(memory):
    """Bytes 0x41 with a zero every 61 (strings, a few stop bytes) and a list whose links
    lead to the end of memory."""
    size = memory.size() * PAGE
    data = bytearray(b"\x41" * size)
    for i in range(300, size, 61):
        data[i] = 0
    data[5000] = 0x42
    for node in range(1024, size, 4096):   # key 7, next = node + 4096 (the last one past the end)
        data[node:node + 8] = (7).to_bytes(4, "little") + (node + 4096).to_bytes(4, "little")
    memory.write(bytes(data), 0)


# The calls of a request on one instance: each outcome (result or trap message) with a hash
# of memory and the value of the global `request["global"]` (if any) after it; memory grows
# by a page before call `request["grow_at"]` (if any). Run by the interpreter here and by
# the loader on the host and on arm64, where a loop that lost its trap would never end: the
# child has 120 s of CPU.
OUTCOMES = r"""
import hashlib
from pywamr.runtime.errors import Trap


def outcomes(exports, request):
    exports["memory"].write(bytes.fromhex(request["memory"]), 0)
    found = []
    for index, (name, args) in enumerate(request["calls"]):
        if index == request["grow_at"]:
            exports["memory"].grow(1)
        try:
            result = exports[name](*args)
        except Trap as trap:
            result = trap.message
        memory = exports["memory"].read(0, exports["memory"].size() * 65536)
        value = exports[request["global"]].value if request["global"] else None
        found.append([result, hashlib.sha256(memory).hexdigest(), value])
    return found
"""
RUN_CALLS = OUTCOMES + r"""
import json, resource, sys
from pywamr.loader.aot_module import AotModule

resource.setrlimit(resource.RLIMIT_CPU, (120, 120))
request = json.load(sys.stdin)
json.dump([outcomes(AotModule(open(path, "rb").read()).instantiate({}).exports, request)
           for path in request["files"]], sys.stdout)
"""


def interpreter_outcomes(binary, request):
    namespace = {}
    exec(OUTCOMES, namespace)
    return namespace["outcomes"](Module(binary).instantiate().exports, json.loads(request))


def scans_request(paths=()):
    memory = Module(wasm(SCANS_WAT)).instantiate().exports["memory"]
    fill(memory)
    return json.dumps({"files": [str(p) for p in paths], "calls": CALLS,
                       "memory": memory.read(0, PAGE).hex(), "grow_at": len(CALLS) // 2,
                       "global": "after"})


# (opt level, explicit bounds checks, interruption checks). Without interruption checks a
# scan loop has no exit but its condition, which lets LLVM treat it as any other code: the
# stores before it could be deleted as overwritten (DSE) were it not for the barrier.
CONFIGURATIONS = [(o, b, True) for o in (0, 3) for b in (False, True)] \
    + [(o, False, False) for o in (0, 3)]


def config_id(config):
    opt_level, checks, interrupt_checks = config
    return (f"O{opt_level}-{'explicit' if checks else 'guard'}"
            + ("" if interrupt_checks else "-no-interrupt-checks"))


@pytest.fixture(scope="module")
def expected():
    return interpreter_outcomes(wasm(SCANS_WAT), scans_request())


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """{(arch, configuration): path of the .aot}."""
    folder = tmp_path_factory.mktemp("scans")
    paths = {}
    for arch in ("x86_64", "aarch64"):
        for config in CONFIGURATIONS:
            opt_level, checks, interrupt_checks = config
            path = paths[arch, config] = folder / f"{arch}-{config_id(config)}.aot"
            path.write_bytes(compile_wasm(wasm(SCANS_WAT), CompileOptions(
                target=arch, opt_level=opt_level, bounds_checks=checks,
                interrupt_checks=interrupt_checks)))
    return paths


def test_every_loop_here_is_a_scan_loop_but_far_keeps_its_check():
    module = decode_module(wasm(SCANS_WAT))
    scans = [find_scan_loop(code.body, i, _UNOBSERVABLE) for code in module.codes
             for i, instr in enumerate(code.body) if instr.op == opcodes.LOOP]
    assert len(scans) == 18 and all(scans)
    assert [len(scan.tails) for scan in scans] == [0] * 14 + [1, 1, 0, 0]
    ir_text = compile_wasm(wasm(SCANS_WAT), CompileOptions(format="llvmir", opt_level=0)).decode()
    far = ir_text[ir_text.index("@aot_func_10("):]
    far = far[:far.index("\n}\n")]
    assert "load volatile" not in far and far.count("label %trap.5") == 3


def test_wide_pointers_are_the_stepped_locals_every_iteration_loads_through():
    module = decode_module(wasm(SCANS_WAT))
    found = []
    for code in module.codes:
        for i, instr in enumerate(code.body):
            if instr.op == opcodes.LOOP:
                scan = find_scan_loop(code.body, i, _UNOBSERVABLE)
                found.append({local: tuple(pointer)
                              for local, pointer in wide_pointers(code.body, i, scan).items()})
    assert found == [
        {0: (4, True)},                   # scan_up
        {0: (-1, True)},                  # scan_down (its load has an offset: not widened)
        {0: (1, False), 1: (1, False)},   # compare
        {0: (1, False)},                  # hash
        {},                               # walk: p = p->next
        {0: (2, True)},                   # dead
        {0: (1, True)},                   # endless
        {0: (1, True)},                   # narrow
        {},                               # invariant: a br_table back to the loop
        {0: (16, False)},                 # vectors: the if's condition loads through p
        {0: (1, True)},                   # far
        {0: (1, True)},                   # overwritten
        {0: (4, True)}, {1: (-4, True)},  # swap
        {},                               # sorted: its loads are inside a block
        {0: (1, False)},                  # assert_scan
        {0: (-4, False)},                 # scan_down_after
        {0: (8, True)},                   # scan_teed
    ]
    ir_text = compile_wasm(wasm(SCANS_WAT), CompileOptions(format="llvmir", opt_level=3,
                                                          interrupt_checks=False)).decode()
    scan_up = ir_text[ir_text.index("@aot_func_0("):]
    scan_up = scan_up[:scan_up.index("\n}\n")]
    # One induction variable, in 64 bits: the loop's load needs no zero extension.
    loop = scan_up[scan_up.index("load volatile") - 600:scan_up.index("load volatile")]
    assert "phi i64" in loop and "zext" not in loop.split("phi i64")[-1]


def test_scan_loads_are_volatile_and_unchecked_only_with_guard_pages():
    ir_text = compile_wasm(wasm(SCANS_WAT), CompileOptions(format="llvmir", opt_level=0)).decode()
    scan_up = ir_text[ir_text.index("@aot_func_0("):]
    scan_up = scan_up[:scan_up.index("\n}\n")]
    # The load in the loop relies on the guard pages; the stores around it are checked.
    assert scan_up.count("load volatile") == 1
    assert 'call void asm sideeffect "", "~{memory}"()' in scan_up
    assert scan_up.count("label %trap.5") == 3
    for options in ({"bounds_checks": True}, {"fuel": True}):
        text = compile_wasm(wasm(SCANS_WAT), CompileOptions(format="llvmir", opt_level=0,
                                                            **options)).decode()
        assert "load volatile" not in text, options


@pytest.mark.parametrize("config", CONFIGURATIONS, ids=config_id)
def test_scans_trap_and_leave_memory_as_the_interpreter(compiled, expected, config):
    process = subprocess.run([sys.executable, "-c", RUN_CALLS],
                             input=scans_request([compiled["x86_64", config]]),
                             capture_output=True, text=True, check=True)
    [outcomes] = json.loads(process.stdout)
    for call, got, want in zip(CALLS, outcomes, expected, strict=True):
        assert got == want, call


def test_scans_on_arm64(compiled, expected):
    paths = [compiled["aarch64", config] for config in CONFIGURATIONS]
    answers = json.loads(run_arm64_python(["-c", RUN_CALLS], input=scans_request(paths)))
    for config, outcomes in zip(CONFIGURATIONS, answers, strict=True):
        for call, got, want in zip(CALLS, outcomes, expected, strict=True):
            assert got == want, (config_id(config), call)


def test_accesses_a_scan_proved_in_bounds_need_no_check():
    ir_text = compile_wasm(wasm(SCANS_WAT), CompileOptions(format="llvmir",
                                                          interrupt_checks=False)).decode()
    swap = ir_text[ir_text.index("@aot_func_12("):]
    swap = swap[:swap.index("\n}\n")]
    # One branch to the trap exit: the store at offset 4.
    assert len(re.findall(r"br i1 %\S+, label %trap\.5,", swap)) == 1


# --- C, compiled by clang -----------------------------------------------------------------

C_SCANS = r"""
typedef unsigned int u32;
struct node { u32 key; struct node *next; };
u32 marker;

u32 length(const char *s) { const char *p = s; while (*p) p++; return p - s; }
int compare(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return (unsigned char)*a - (unsigned char)*b;
}
u32 fnv(const char *s) {
    u32 h = 2166136261u;
    marker = 1;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    marker = h;
    return h;
}
struct node *find(struct node *n, u32 key) { while (n && n->key != key) n = n->next; return n; }
long partition(u32 *a, long lo, long hi) {
    u32 pivot = a[lo + (hi - lo) / 2];
    long i = lo - 1, j = hi + 1;
    for (;;) {
        do i++; while (a[i] < pivot);
        do j--; while (a[j] > pivot);
        if (i >= j) return j;
        u32 t = a[i]; a[i] = a[j]; a[j] = t;
    }
}
int sorted(const u32 *a, long n) {
    for (long i = 1; i < n; i++)
        if (a[i - 1] > a[i]) { marker = i; return 0; }
    return 1;
}
"""

C_SIZE = 2 * PAGE     # clang's two pages: data and stack, then the heap


def c_memory():
    """Strings of 'A' ended every 61 bytes up to 100,000, none after (scans run off the end
    from there); pseudo-random words at 4096; a list at 110,000 whose last link leads past
    the end of memory."""
    data = bytearray(b"A" * C_SIZE)
    for i in range(2000, 100000, 61):
        data[i] = 0
    x = 2463534242
    for i in range(4096, 8192, 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        data[i:i + 4] = x.to_bytes(4, "little")
    for node in range(110000, C_SIZE, 2000):
        data[node:node + 8] = (7).to_bytes(4, "little") + (node + 2000).to_bytes(4, "little")
    return bytes(data)


C_EDGES = [2100, 99990, 100001, C_SIZE - 9, C_SIZE - 1, C_SIZE, 0xFFFFFFF0]
C_CALLS = ([["length", [p]] for p in C_EDGES] + [["fnv", [p]] for p in C_EDGES]
           + [["compare", [a, b]] for a in C_EDGES for b in (2100, C_SIZE - 20)]
           + [["find", [n, key]] for n in (0, 110000, 130000, C_SIZE - 4) for key in (7, 8)]
           + [["partition", [4096, lo, hi]] for lo, hi in ((0, 1023), (100, 900), (5, 6))]
           + [["partition", [C_SIZE - 400, 0, hi]] for hi in (90, 99, 150)]
           + [["sorted", [a, n]] for a in (4096, C_SIZE - 40) for n in (1, 3, 50)])


@pytest.fixture(scope="module")
def c_wasm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("c_scans")
    (folder / "scans.c").write_text(C_SCANS)
    subprocess.run(["clang-19", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry",
                    "-Wl,--export-all", "-o", str(folder / "scans.wasm"),
                    str(folder / "scans.c")], check=True)
    return (folder / "scans.wasm").read_bytes()


def c_request(paths=()):
    return json.dumps({"files": [str(p) for p in paths], "calls": C_CALLS,
                       "memory": c_memory().hex(), "grow_at": None, "global": None})


def test_clang_scans_match_the_interpreter_on_x86_64_and_arm64(c_wasm, tmp_path):
    """clang's loops over strings, a list and quicksort's partition, at the end of memory."""
    module = decode_module(c_wasm)
    assert sum(find_scan_loop(code.body, i, _UNOBSERVABLE) is not None
               for code in module.codes for i, instr in enumerate(code.body)
               if instr.op == opcodes.LOOP) == 7
    expected = interpreter_outcomes(c_wasm, c_request())
    results = [result for result, _, _ in expected]
    assert "out of bounds memory access" in results and len(set(results)) > 10
    paths = {}
    for arch in ("x86_64", "aarch64"):
        for config in CONFIGURATIONS:
            opt_level, checks, interrupt_checks = config
            path = paths[arch, config] = tmp_path / f"{arch}-{config_id(config)}.aot"
            path.write_bytes(compile_wasm(c_wasm, CompileOptions(
                target=arch, opt_level=opt_level, bounds_checks=checks,
                interrupt_checks=interrupt_checks)))
    process = subprocess.run([sys.executable, "-c", RUN_CALLS],
                             input=c_request([paths["x86_64", c] for c in CONFIGURATIONS]),
                             capture_output=True, text=True, check=True)
    arm64 = run_arm64_python(["-c", RUN_CALLS],
                             input=c_request([paths["aarch64", c] for c in CONFIGURATIONS]))
    for arch, answers in (("x86_64", process.stdout), ("aarch64", arm64)):
        for config, outcomes in zip(CONFIGURATIONS, json.loads(answers), strict=True):
            for call, got, want in zip(C_CALLS, outcomes, expected, strict=True):
                assert got == want, (arch, config_id(config), call)


def test_the_calls_reach_both_outcomes(expected):
    """The arguments are worth their time: scans finish, scans run off memory, and exit
    tails run."""
    results = [result for result, _, _ in expected]
    assert -1 in results and "unreachable" in results
    assert results.count("out of bounds memory access") > len(CALLS) // 4
    assert sum(isinstance(result, int) for result in results) > len(CALLS) // 4


def test_a_trap_in_a_scan_has_its_frame_and_leaves_the_instance_usable():
    exports = AotModule(compile_wasm(wasm(SCANS_WAT))).instantiate().exports
    fill(exports["memory"])
    with pytest.raises(Trap, match="out of bounds memory access") as raised:
        exports["hash"](PAGE - 10)
    assert [frame.func_index for frame in raised.value.frames] == [3]
    assert exports["hash"](300) & 0xFFFFFFFF == 0x811c9dc5
    assert exports["memory"].read(104, 112) == (5).to_bytes(4, "little") + \
        (0x811c9dc5).to_bytes(4, "little")
