"""wasmtime, the oracle: the plan's calls made through wasmtime-py, reported as the same
events as our engines (outcomes.py).

wasmtime-py cannot pass a v128 and aborts the process when it meets one in a call: the plan
calls such functions through their `fuzz:v128:` wrappers (generate.py), and v128 globals are
not read here (their reference is the interpreter's value).
"""

import struct

from . import host, outcomes


def to_val(wasmtime, valtype, bits):
    if valtype == "i32":
        return wasmtime.Val.i32(bits - (1 << 32) if bits >> 31 else bits)
    if valtype == "i64":
        return wasmtime.Val.i64(bits - (1 << 64) if bits >> 63 else bits)
    if valtype == "f32":
        return wasmtime.Val.f32(struct.unpack("<f", struct.pack("<I", bits))[0])
    if valtype == "f64":
        return wasmtime.Val.f64(struct.unpack("<d", struct.pack("<Q", bits))[0])
    if valtype == "funcref":
        return wasmtime.Val.funcref(None)
    return wasmtime.Val.externref(None)


def to_bits(wasmtime, valtype, value):
    """A value wasmtime-py returned, as the bits (or None for a null reference) ours give."""
    if isinstance(value, wasmtime.Val):
        value = value.value
    if valtype == "i32":
        return value & 0xFFFFFFFF
    if valtype == "i64":
        return value & 0xFFFFFFFFFFFFFFFF
    if valtype == "f32":
        return struct.unpack("<I", struct.pack("<f", value))[0]
    if valtype == "f64":
        return struct.unpack("<Q", struct.pack("<d", value))[0]
    return value


def from_bits(wasmtime, valtype, bits):
    """Bits as the Python value a wasmtime-py host function returns."""
    if valtype == "i32":
        return bits - (1 << 32) if bits >> 31 else bits
    if valtype == "i64":
        return bits - (1 << 64) if bits >> 63 else bits
    if valtype == "f32":
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def host_functions(wasmtime, store, plan, log):
    """The plan's imports, in order, as wasmtime functions calling `log` (a host.Host)."""
    valtype = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64,
               "f32": wasmtime.ValType.f32, "f64": wasmtime.ValType.f64,
               "externref": wasmtime.ValType.externref, "funcref": wasmtime.ValType.funcref}
    functions = []
    for name in plan["imports"]:
        params, results = host.SIGNATURES[name]

        def call(*args, name=name, params=params, results=results):
            bits = [to_bits(wasmtime, t, a) for t, a in zip(params, args)]
            out = [from_bits(wasmtime, t, b) for t, b in zip(results, log.call(name, bits))]
            return None if not out else out[0] if len(out) == 1 else tuple(out)

        functype = wasmtime.FuncType([valtype[t]() for t in params],
                                     [valtype[t]() for t in results])
        functions.append(wasmtime.Func(store, functype, call))
    return functions


def trap_kind(wasmtime, error):
    code = getattr(error, "trap_code", None)
    if code is not None:
        return code.name
    message = str(error)
    for text, kind in outcomes.WASMTIME_MESSAGES.items():
        if text in message:
            return kind
    return f"other: {message.splitlines()[0] if message else type(error).__name__}"


def run_wasmtime(wasm, plan, emit):
    import wasmtime

    # Relaxed SIMD with the results pywamr also gives (runtime/relaxed_simd.py); wasmtime's
    # default is whatever this CPU computes fastest.
    config = wasmtime.Config()
    config.wasm_multi_memory = True
    config.wasm_memory64 = True
    config.wasm_relaxed_simd = True
    config.wasm_relaxed_simd_deterministic = True
    store = wasmtime.Store(wasmtime.Engine(config))
    log = host.Host()
    try:
        module = wasmtime.Module(store.engine, wasm)
        instance = wasmtime.Instance(store, module, host_functions(wasmtime, store, plan, log))
    except wasmtime.Trap as trap:
        emit(["instantiate", ["trap", trap_kind(wasmtime, trap)]])
        return
    except wasmtime.WasmtimeError as error:
        emit(["instantiate", ["trap", trap_kind(wasmtime, error)]])
        return
    emit(["instantiate", ["ok"]])
    exports = instance.exports(store)
    for i, call in enumerate(plan["calls"]):
        if plan["refuel"]:
            exports["fuzz:refuel"](store)
        args = [to_val(wasmtime, t, a) for t, a in zip(call["params"], call["args"])]
        try:
            out = exports[call["name"]](store, *args)
        except wasmtime.Trap as trap:
            emit(["call", i, ["trap", trap_kind(wasmtime, trap)]])
            continue
        results = call["results"]
        out = [] if not results else [out] if len(results) == 1 else list(out)
        emit(["call", i, ["ok", [outcomes.value(t, to_bits(wasmtime, t, v))
                                 for t, v in zip(results, out)]]])
    for name in plan["memories"]:
        memory = exports[name]
        emit(["state", f"memory {name}",
              outcomes.memory_digest(bytes(memory.read(store, 0, memory.data_len(store))))])
    for name, valtype in plan["globals"]:
        if valtype != "v128":
            bits = to_bits(wasmtime, valtype, exports[name].value(store))
            emit(["state", f"global {name}", outcomes.value(valtype, bits)])
    for name in plan["tables"]:
        table = exports[name]
        nulls = [to_bits(wasmtime, "funcref", table.get(store, k)) is None
                 for k in range(table.size(store))]
        emit(["state", f"table {name}", outcomes.table_digest(nulls)])
    if plan["imports"]:
        emit(["state", "host log", log.digest()])
