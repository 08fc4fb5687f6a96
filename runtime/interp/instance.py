"""Instantiation (spec 4.5.4, WebAssembly 2.0) and the namespace generated code runs in."""

from array import array

from ..api import HostFunc
from ..errors import LinkError, WasmError
from ..instance_group import link
from ..opcodes import NAMES
from . import boundary, layout
from .boundary import call_into_wasm
from .bulk import memory_init, table_init
from .externs import (Function, Global, Memory, Table, canonical_type, host_function)
from .numeric import M32, M64, f32_from_bits, f64_from_bits
from .operators import HELPERS

_I32_CONST, _I64_CONST = NAMES["i32.const"], NAMES["i64.const"]
_F32_CONST, _F64_CONST = NAMES["f32.const"], NAMES["f64.const"]
_V128_CONST = NAMES["v128.const"]
_REF_NULL, _REF_FUNC, _GLOBAL_GET = NAMES["ref.null"], NAMES["ref.func"], NAMES["global.get"]


class Instance:
    """An instance of an interp `Module`. `exports` maps export names to Function, Memory,
    Table and Global objects."""

    def __init__(self, module, imports, max_call_depth, max_memory_size=None):
        decoded = module.decoded
        self.module = module
        self.max_call_depth = max_call_depth
        self.functions = []
        self.tables = []
        self.memories = []
        self.globals = []             # Global objects; a global that is not in a cell (see
                                      # layout.global_cells) is live in the namespace instead
        self.namespace = ns = dict(HELPERS)
        ns[layout.FUEL] = boundary.FUEL
        ns[layout.OUT_OF_FUEL] = boundary.out_of_fuel
        ns["f32buf"] = array("f", [0.0])
        self._translated = set()

        for imp in decoded.imports:
            self._import(imp, self._lookup(imports, imp), decoded)
        # The instances this one imports from and this one form a group (instance_group.py).
        self.group, entered = link(
            [f.instance.group for f in self.functions if f.instance is not None]
            + [extern.group for extern in self.tables + self.memories + self.globals])
        try:
            self._initialise(decoded, max_memory_size)
        finally:
            if entered is not None:
                entered.leave()

    def _initialise(self, decoded, max_memory_size):
        module = self.module
        ns = self.namespace
        for index in range(len(self.functions), len(module.func_types)):
            function = Function(module.func_types[index], None, self, index)
            function.call = self._lazy(layout.func(index), function)
            self.functions.append(function)
        self.tables.extend(Table(t) for t in decoded.tables)
        self.memories.extend(Memory(t, max_memory_size) for t in decoded.memories)
        for g in decoded.globals:
            self.globals.append(Global(g.type, self.evaluate(g.init)))
        for extern in self.tables + self.memories + self.globals:
            extern.group = self.group     # the imported ones' groups were merged into it

        self._bind_namespace(decoded)
        self.exports = {e.name: self._export(e) for e in decoded.exports}

        # Segments: element segments, then data segments, each in order; a trap leaves the
        # writes of earlier segments in place.
        self.elems = [tuple(self.evaluate(expr) for expr in seg.init) for seg in decoded.elems]
        self.datas = [seg.data for seg in decoded.datas]
        ns[layout.ELEMS] = self.elems
        ns[layout.DATA] = self.datas
        for i, seg in enumerate(decoded.elems):
            if seg.mode == "active":
                refs = self.elems[i]
                table_init(self.tables[seg.table].elements, refs, self.evaluate(seg.offset), 0,
                           len(refs))
            if seg.mode != "passive":
                self.elems[i] = ()
        for i, seg in enumerate(decoded.datas):
            if seg.mode == "active":
                memory_init(self.memories[seg.memory].data, seg.data, self.evaluate(seg.offset),
                            0, len(seg.data))
                self.datas[i] = b""
        if decoded.start is not None:
            call_into_wasm(self.functions[decoded.start].resolve(), [], self.max_call_depth,
                           module.fuel)

    # Imports

    @staticmethod
    def _lookup(imports, imp):
        extern = imports.get(imp.module, {}).get(imp.name)
        if extern is None:
            raise LinkError.unknown_import(imp.module, imp.name)
        return extern

    def _import(self, imp, extern, decoded):
        def incompatible(got):
            raise LinkError(f"incompatible import type for {imp.module!r} {imp.name!r}: "
                            f"expected {imp.kind} {expected}, got {got}")

        if imp.kind == "func":
            expected = canonical_type(decoded.types[imp.desc])
            if isinstance(extern, HostFunc):
                extern = host_function(extern)
            if not isinstance(extern, Function):
                incompatible(type(extern).__name__)
            if extern.type is not expected:
                incompatible(f"func {extern.type}")
            self.functions.append(extern)
        elif imp.kind == "table":
            expected = imp.desc
            if not isinstance(extern, Table):
                incompatible(type(extern).__name__)
            if (extern.elem_type != expected.elem_type
                    or not _limits_match(extern.type.limits, expected.limits)):
                incompatible(f"table {extern.type}")
            self.tables.append(extern)
        elif imp.kind == "memory":
            expected = imp.desc
            if not isinstance(extern, Memory):
                incompatible(type(extern).__name__)
            if not _limits_match(extern.type.limits, expected.limits):
                incompatible(f"memory {extern.type}")
            self.memories.append(extern)
        else:
            expected = imp.desc
            if not isinstance(extern, Global):
                incompatible(type(extern).__name__)
            if extern.type != expected:
                incompatible(f"global {extern.type}")
            self.globals.append(extern)

    # Namespace and exports

    def _lazy(self, name, function):
        """The first binding of a function in the namespace: translates (or, for an import,
        resolves) it on the first call and rebinds the name to the result."""
        namespace = self.namespace

        def first_call(*args):
            target = function.resolve()
            namespace[name] = target
            return target(*args)

        return first_call

    def _bind_namespace(self, decoded):
        ns = self.namespace
        for index, function in enumerate(self.functions):
            if function.instance is None or function.instance is self:
                ns[layout.func(index)] = function.call   # host adapter, or first_call stub
            else:                                         # another instance's function
                ns[layout.func(index)] = self._lazy(layout.func(index), function)
        ns[layout.FUNCS] = self.functions
        ns[layout.MODULE] = self.module
        for index, table in enumerate(self.tables):
            ns[layout.table(index)] = table.elements
            ns[layout.table_object(index)] = table
        if self.memories:
            self.memories[0].bind(ns)
        cells = self.module.global_cells
        for index, g in enumerate(self.globals):
            if index in cells:
                ns[layout.global_cell(index)] = g
            else:
                ns[layout.global_var(index)] = g.stored
        for index, functype in enumerate(decoded.types):
            ns[layout.functype(index)] = canonical_type(functype)

    def _export(self, export):
        if export.kind == "func":
            return self.functions[export.index]
        if export.kind == "table":
            return self.tables[export.index]
        if export.kind == "memory":
            return self.memories[export.index]
        return self.globals[export.index]

    # Running

    def translate_function(self, index):
        """Make sure defined function `index` is translated; bind it in the namespace."""
        if index in self._translated:
            return
        try:
            code = self.module.function_code(index)
        except (WasmError, RecursionError):
            raise
        except Exception as error:
            # Not a trap: keep a translator bug from passing for one at the call boundary.
            raise RuntimeError(f"interpreter bug translating function {index}: "
                               f"{type(error).__name__}: {error}") from error
        exec(code, self.namespace)
        self.functions[index].call = self.namespace[layout.func(index)]
        self._translated.add(index)

    def evaluate(self, expr):
        """The value of a constant expression (2.0: a single instruction)."""
        (instr,) = expr
        op, imm = instr.op, instr.imm
        if op == _I32_CONST:
            return imm & M32
        if op == _I64_CONST:
            return imm & M64
        if op == _F32_CONST:
            return f32_from_bits(imm)
        if op == _F64_CONST:
            return f64_from_bits(imm)
        if op == _V128_CONST:
            return imm
        if op == _REF_NULL:
            return None
        if op == _REF_FUNC:
            return self.functions[imm]
        if op == _GLOBAL_GET:       # an imported global: its Global object is current
            return self.globals[imm].stored
        raise ValueError(f"not a constant instruction: {instr}")


def _limits_match(actual, expected):
    """Import subtyping of table and memory limits (spec 4.5.3.3 / 4.5.3.4)."""
    if actual.min < expected.min:
        return False
    return expected.max is None or (actual.max is not None and actual.max <= expected.max)
