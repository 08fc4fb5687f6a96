"""Instantiation (spec 4.5.4, WebAssembly 2.0) and the namespace generated code runs in."""

from array import array

from ..api import HostFunc, Tag
from ..errors import WasmError
from ..instance_group import link
from ..instantiation import evaluate_constant, initialise_segments, match_imports
from ..opcodes import NAMES
from ..types import structural_extern
from . import boundary, bulk, layout
from .boundary import call_into_wasm
from .exceptions import Thrown, throw_ref
from .externs import FROM_BITS, Function, Global, Memory, Table, canonical_type, host_function
from .operators import HELPERS
from .tail_calls import TailCall, trampoline

# What an interp instance can import, besides a HostFunc and a Tag (runtime/instantiation.py).
EXTERN_CLASSES = {"func": Function, "table": Table, "memory": Memory, "global": Global}
REF_FUNC = NAMES["ref.func"]


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
        self.tags = []                # runtime.api.Tag objects, imported ones the exporter's
        self.namespace = ns = dict(HELPERS)
        ns[layout.FUEL] = boundary.FUEL
        ns[layout.OUT_OF_FUEL] = boundary.out_of_fuel
        ns[layout.TAIL_CALL] = TailCall
        ns[layout.TRAMPOLINE] = trampoline
        ns[layout.THROWN] = Thrown
        ns[layout.THROW_REF] = throw_ref
        ns["f32buf"] = array("f", [0.0])
        self._translated = set()

        index_spaces = {"func": self.functions, "table": self.tables, "memory": self.memories,
                        "global": self.globals, "tag": self.tags}
        for imp, extern in zip(decoded.imports,
                               match_imports(decoded, imports, EXTERN_CLASSES)):
            if isinstance(extern, HostFunc):
                extern = host_function(extern)
            index_spaces[imp.kind].append(extern)
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
        names = {e.index: e.name for e in decoded.exports if e.kind == "tag"}
        for index in range(len(self.tags), len(module.tag_types)):
            self.tags.append(Tag(module.tag_types[index], names.get(index)))
        canonical = {}      # id of a function type -> its canonical one, looked up once
        for index in range(len(self.functions), len(module.func_types)):
            functype = module.func_types[index]
            found = canonical.get(id(functype))
            if found is None:
                found = canonical[id(functype)] = canonical_type(functype)
            function = Function(found, None, self, index)
            function.call = self._lazy(layout.func(index), function)
            function.tail = self._lazy_tail(function)
            self.functions.append(function)
        self.tables.extend(Table(structural_extern(t, module.types),
                                 None if init is None else self.evaluate(init))
                           for t, init in zip(decoded.tables, decoded.table_inits))
        self.memories.extend(Memory(t, max_memory_size) for t in decoded.memories)
        for g in decoded.globals:
            self.globals.append(Global(structural_extern(g.type, module.types),
                                       FROM_BITS[g.type.valtype](self.evaluate(g.init))))
        for extern in self.tables + self.memories + self.globals:
            extern.group = self.group     # the imported ones' groups were merged into it

        self._bind_namespace(decoded)
        self.exports = {e.name: self._export(e) for e in decoded.exports}

        self.elems = [tuple(self._element(expr) for expr in seg.init) for seg in decoded.elems]
        self.datas = [seg.data for seg in decoded.datas]
        ns[layout.ELEMS] = self.elems
        ns[layout.DATA] = self.datas
        initialise_segments(decoded, self)
        if decoded.start is not None:
            call_into_wasm(self.functions[decoded.start].resolve(), [], self.max_call_depth,
                           module.fuel)

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

    @staticmethod
    def _lazy_tail(function):
        """A function's `tail` until it is translated, which sets the real one."""
        def first_tail_call(*args):
            function.resolve()
            return function.tail(*args)

        return first_tail_call

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
        for index, memory in enumerate(self.memories):
            memory.bind(ns, index)
        cells = self.module.global_cells
        for index, g in enumerate(self.globals):
            if index in cells:
                ns[layout.global_cell(index)] = g
            else:
                ns[layout.global_var(index)] = g.stored
        for index, functype in enumerate(self.module.types):
            ns[layout.functype(index)] = canonical_type(functype)
        for index, tag in enumerate(self.tags):
            ns[layout.tag(index)] = tag

    def _export(self, export):
        if export.kind == "func":
            return self.functions[export.index]
        if export.kind == "table":
            return self.tables[export.index]
        if export.kind == "memory":
            return self.memories[export.index]
        if export.kind == "tag":
            return self.tags[export.index]
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
        function = self.functions[index]
        function.call = self.namespace[layout.func(index)]
        function.tail = self.namespace.get(layout.tail_body(index), function.call)
        self._translated.add(index)

    def evaluate(self, expr):
        """The value of a constant expression: a number as its bit pattern, a reference as a
        Function or None."""
        return evaluate_constant(expr, self._global_bits, lambda index: self.functions[index],
                                 null_ref=None)

    def _element(self, expr):
        """An element segment's entry: most are [ref.func f] (thousands in a C program's
        table), taken without evaluate's general walk."""
        if len(expr) == 1:
            op, imm, _ = expr[0]
            if op == REF_FUNC:
                return self.functions[imm]
        return self.evaluate(expr)

    def _global_bits(self, global_index):
        return self.globals[global_index].get_bits()

    # The segment operations of initialise_segments

    def table_init(self, table_index, segment, dst, src, n):
        bulk.table_init(self.tables[table_index].elements, self.elems[segment], dst, src, n)

    def elem_drop(self, segment):
        self.elems[segment] = ()

    def memory_init(self, memory_index, segment, dst, src, n):
        bulk.memory_init(self.memories[memory_index].data, self.datas[segment], dst, src, n)

    def data_drop(self, segment):
        self.datas[segment] = b""
