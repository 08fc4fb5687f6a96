"""An instance of an AOT module: its VMContext and the runtime objects the context points at,
built and initialised with the spec's instantiation semantics (2.0, section 4.5.4), plus the
bulk memory and table operations the runtime helpers perform for compiled code.
"""

import ctypes

from pywamr.runtime import aot_abi
from pywamr.runtime.aot_abi import FuncRef, VMContext
from pywamr.runtime.api import HostFunc, Tag
from pywamr.runtime.errors import Trap
from pywamr.runtime.instance_group import link
from pywamr.runtime.instantiation import evaluate_constant, initialise_segments, match_imports
from pywamr.runtime.types import structural_extern, structural_types

from .exec_env import MIN_STACK_SIZE
from .func import AotFunc
from .global_var import AotGlobal
from .helpers import HELPERS_ADDRESS, HOST_CALL_ADDRESS, register_instance
from .memory import AotMemory
from .references import register_funcrefs
from .slots import read_slots, write_slots
from .table import AotTable
from .type_ids import canonical_type_id

DEFAULT_STACK_SIZE = 1 << 20     # native stack bytes compiled code may use per call from Python
# What an AOT instance can import, besides a HostFunc (runtime/instantiation.py).
EXTERN_CLASSES = {"func": AotFunc, "table": AotTable, "memory": AotMemory, "global": AotGlobal}


def _u64_array(values):
    return (ctypes.c_uint64 * max(len(values), 1))(*values)


class Instance:
    """`exports` maps each export name to an AotFunc, AotMemory, AotTable or AotGlobal."""

    def __init__(self, aot_module, imports=None, stack_size=DEFAULT_STACK_SIZE,
                 max_memory_size=None):
        module = aot_module.module
        self.aot_module = aot_module
        self.module = module
        # Its types as they compare across modules (types.structural_types).
        self.types = structural_types(module.types)
        self.func_types = [self.types[i] for i in module.func_type_indices()]
        self.stack_size = max(stack_size, MIN_STACK_SIZE)
        self.max_memory_size = max_memory_size
        self._functions = {}
        # The externs also keep the instances they come from alive.
        self.externs = match_imports(module, imports, EXTERN_CLASSES)
        # The instances this one imports from and this one form a group (instance_group.py).
        # (A tag is no state that threads could share.)
        self.group, entered = link([extern.group for extern in self.externs
                                    if not isinstance(extern, (HostFunc, Tag))])
        try:
            self._initialise()
        finally:
            if entered is not None:
                entered.leave()

    def _initialise(self):
        module = self.module
        self.ctx = VMContext()
        self.ctx_address = ctypes.addressof(self.ctx)
        self._create_storage()
        self._create_functions()
        self._create_tables()
        self._fill_context()
        register_instance(self.ctx_address, self)

        first_defined = len(self.globals) - len(module.globals)
        for cell, glob in zip(self.globals[first_defined:], module.globals):
            cell.set_raw(self.evaluate(glob.init))
        self.elem_segments = [[self.evaluate(expr) for expr in seg.init] for seg in module.elems]
        self.data_segments = [seg.data for seg in module.datas]
        self.exports = {exp.name: self._export_object(exp) for exp in module.exports}
        initialise_segments(module, self)
        if module.start is not None:
            self.function(module.start).call_bits([])

    # Construction

    def _imported(self, kind):
        return [extern for imp, extern in zip(self.module.imports, self.externs)
                if imp.kind == kind]

    def _create_storage(self):
        """Memories and globals: the imported ones shared, then this module's own. Globals
        can hold funcrefs, so they keep every instance that may have stored one alive
        (their creator and their importers); tables: _create_tables."""
        module = self.module
        limit = self.aot_module.target.memory_limit
        self.memories = self._imported("memory") + [
            AotMemory(t, limit, self.max_memory_size) for t in module.memories]
        self.globals = self._imported("global") + [
            AotGlobal(structural_extern(g.type, self.types)) for g in module.globals]
        for shared in self.globals:
            shared.keepalive.add(self)
        for own in self.memories + self.globals:
            own.group = self.group      # the imported ones' groups were merged into it
        # Tags: the exporter's for an imported one, which is what makes it the same tag.
        names = {e.index: e.name for e in module.exports if e.kind == "tag"}
        first = len(self._imported("tag"))
        self.tags = self._imported("tag") + [Tag(self.types[t], names.get(first + i))
                                             for i, t in enumerate(module.tags)]

    def _create_functions(self):
        """The FuncRef records: imports inline in one array, definitions in another."""
        module = self.module
        image = self.aot_module.image
        type_indices = module.func_type_indices()
        num_imported = module.num_imported_funcs
        self.type_ids = _u64_array([canonical_type_id(t) for t in self.types])
        self.host_funcs = {}

        self.func_imports = (FuncRef * max(num_imported, 1))()
        for i, extern in enumerate(self._imported("func")):
            if isinstance(extern, HostFunc):
                functype = module.types[type_indices[i]]
                slots = max(aot_abi.slot_count(functype.params), aot_abi.slot_count(functype.results))
                self.host_funcs[i] = (extern, functype, slots)
                record = FuncRef(image.address_of(aot_abi.import_symbol(i)), self.ctx_address,
                                 self.type_ids[type_indices[i]])
            else:
                record = FuncRef.from_address(extern.funcref_address)
            ctypes.memmove(ctypes.byref(self.func_imports, i * ctypes.sizeof(FuncRef)),
                           ctypes.byref(record), ctypes.sizeof(FuncRef))

        self.func_defs = (FuncRef * max(len(module.funcs), 1))()
        for j, type_index in enumerate(module.funcs):
            func_index = num_imported + j
            self.func_defs[j] = FuncRef(image.address_of(aot_abi.func_symbol(func_index)),
                                        self.ctx_address, self.type_ids[type_index],
                                        image.symbols.get(aot_abi.tail_symbol(func_index), 0))

        size = ctypes.sizeof(FuncRef)
        records = [(ctypes.addressof(self.func_imports) + i * size, i)
                   for i in range(num_imported)]
        records += [(ctypes.addressof(self.func_defs) + j * size, num_imported + j)
                    for j in range(len(module.funcs))]
        self.func_refs = _u64_array([address for address, _ in records])
        register_funcrefs(self, records)

    def _create_tables(self):
        """The imported tables, then this module's own, their elements its initialisers'
        values (which may be funcrefs: after _create_functions). A table keeps every
        instance that may have stored a funcref in it alive (its creator and importers)."""
        module = self.module
        self.tables = self._imported("table") + [
            AotTable(structural_extern(t, self.types), 0 if init is None else self.evaluate(init))
            for t, init in zip(module.tables, module.table_inits)]
        for table in self.tables:
            table.keepalive.add(self)
        for own in self.tables[len(self.tables) - len(module.tables):]:
            own.group = self.group

    def _fill_context(self):
        ctx = self.ctx
        self.global_cells = _u64_array([g.address for g in self.globals])
        self.table_descs = _u64_array([t.desc_address for t in self.tables])
        self.memory_descs = _u64_array([m.desc_address for m in self.memories])
        ctx.memory = self.memories[0].desc_address if self.memories else 0
        ctx.memories = ctypes.addressof(self.memory_descs)
        ctx.globals = ctypes.addressof(self.global_cells)
        ctx.tables = ctypes.addressof(self.table_descs)
        ctx.func_imports = ctypes.addressof(self.func_imports)
        ctx.type_ids = ctypes.addressof(self.type_ids)
        ctx.func_refs = ctypes.addressof(self.func_refs)
        ctx.helpers = HELPERS_ADDRESS
        ctx.host_call = HOST_CALL_ADDRESS
        addresses = []
        if self.tags:       # exceptions.py is not loaded for a module without tags
            from .exceptions import tag_address
            addresses = [tag_address(t) for t in self.tags]
        self.tag_descs = _u64_array(addresses)
        ctx.tags = ctypes.addressof(self.tag_descs)

    def evaluate(self, expr):
        """The raw value of a constant expression (numbers as bits, references as words)."""
        return evaluate_constant(expr, self._global_raw, self.funcref_address, null_ref=0)

    def _global_raw(self, global_index):
        return self.globals[global_index].get_raw()

    def _export_object(self, export):
        match export.kind:
            case "func":
                return self.function(export.index)
            case "memory":
                return self.memories[export.index]
            case "table":
                return self.tables[export.index]
            case "global":
                return self.globals[export.index]
            case "tag":
                return self.tags[export.index]

    # Functions

    def function(self, func_index):
        """The AotFunc for a function index (one object per index)."""
        func = self._functions.get(func_index)
        if func is None:
            func = self._functions[func_index] = AotFunc(self, func_index)
        return func

    def funcref_address(self, func_index):
        return self.func_refs[func_index]

    def array_call(self, type_index):
        return self.aot_module.array_call(type_index)

    def call_host(self, import_index, argv):
        """The body of host_call: run the Python host function behind an import."""
        host, functype, count = self.host_funcs[import_index]
        slots = (ctypes.c_uint64 * count).from_address(argv)
        results = host.call_bits(read_slots(functype.params, slots))
        write_slots(functype.results, results, slots)

    # Operations of the runtime helpers (helpers.py); they raise Trap on a bounds violation.

    def memory_grow(self, memory_index, delta):
        return self.memories[memory_index].grow(delta)

    def memory_init(self, memory_index, segment, dst, src, n):
        data = self.data_segments[segment]
        memory = self.memories[memory_index]
        if src + n > len(data) or not memory.in_bounds(dst, n):
            from pywamr.runtime.trap_codes import TrapCode     # made only for a trap
            raise Trap(TrapCode.OUT_OF_BOUNDS_MEMORY)
        ctypes.memmove(memory.base + dst, data[src:src + n], n)

    def data_drop(self, segment):
        self.data_segments[segment] = b""

    def table_init(self, table_index, segment, dst, src, n):
        elems = self.elem_segments[segment]
        table = self.tables[table_index]
        if src + n > len(elems):
            from pywamr.runtime.trap_codes import TrapCode
            raise Trap(TrapCode.OUT_OF_BOUNDS_TABLE)
        table.check_range(dst, n)
        table.elems[dst:dst + n] = elems[src:src + n]

    def elem_drop(self, segment):
        self.elem_segments[segment] = []

    def table_copy(self, dst_table, src_table, dst, src, n):
        target, source = self.tables[dst_table], self.tables[src_table]
        source.check_range(src, n)
        target.check_range(dst, n)
        ctypes.memmove(ctypes.addressof(target.elems) + 8 * dst,
                       ctypes.addressof(source.elems) + 8 * src, 8 * n)

    def table_grow(self, table_index, init, delta):
        return self.tables[table_index].grow_raw(delta, init)

    def table_fill(self, table_index, dst, value, n):
        table = self.tables[table_index]
        table.check_range(dst, n)
        table.elems[dst:dst + n] = [value] * n
