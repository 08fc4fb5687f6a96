"""The wasm module of an `.aot` file checked against its code, before anything is mapped.

The loader instantiates the module from this metadata and the compiled code indexes the
instance's arrays and calls functions with signatures fixed at compile time, so the module must
be valid WebAssembly 3.0 as far as pywamr implements it (but for the function bodies, which the
file does not hold: the code is trusted as native code is, docs/aot-format.md "Trust"), have
the index spaces the code was compiled for (aot_layout.module_interface), keep its memories
within the code's memory limit, and come with every symbol the loader will look up, each
defined once, in executable code.

The rules are the validator's for a module (runtime/validator.py `validate(module,
bodies=False)`, spec 3.4) and its wording, spelled here for the metadata so that the loader
needs neither the decoder nor the validator.
"""

from itertools import zip_longest

from pywamr.runtime import aot_abi
from pywamr.runtime.aot_layout import (CONSTANT_ARITHMETIC, F32_CONST, F64_CONST, GLOBAL_GET,
                                       I32_CONST, I64_CONST, REF_FUNC, REF_NULL, V128_CONST,
                                       module_interface)
from pywamr.runtime.types import (MAX_PAGES, MAX_PAGES_OF, MAX_TABLE_SIZE_OF,
                                  MEMORY_SIZE_MESSAGES, TABLE_SIZE_MESSAGES, heap_type,
                                  is_defaultable, is_subtype, ref_type, structural_types)

from .aot_file import corrupted
from .externals import provides
from .image import GOT_SYMBOL

_CONSTANT_TYPES = {I32_CONST: "i32", I64_CONST: "i64", F32_CONST: "f32", F64_CONST: "f64",
                   V128_CONST: "v128"}


def check_module(aot, module):
    """Raise AotFormatError (one line) unless `module`, read from `aot`, is valid and the
    module its code was compiled for."""
    _check_valid(module)
    lines = module_interface(module).split("\n")
    for line, wanted in zip_longest(lines, aot.target.interface.split("\n")):
        if line != wanted:
            what = f"{line.partition(':')[0]} differ" if line else "more index spaces"
            raise corrupted(f"its wasm module does not match the code ({what})")
    _check_memory_limit(module, aot.target.memory_limit)


def _invalid(reason):
    return corrupted(f"its wasm module is invalid: {reason}")


def _check_valid(module):
    types = module.types
    structural = structural_types(types)

    def check_valtype(valtype, known=len(types)):
        heap = heap_type(valtype) if valtype.startswith("(ref ") else None
        if isinstance(heap, int) and heap >= known:
            raise _invalid(f"unknown type {heap}")

    def matches(actual, expected):
        return is_subtype(actual, expected, lambda a, b: structural[a] == structural[b])

    for i, functype in enumerate(types):
        for valtype in functype.params + functype.results:
            check_valtype(valtype, i + 1)
    func_type_indices = module.func_type_indices()
    func_types = []
    for type_index in func_type_indices:
        if type_index >= len(types):
            raise _invalid(f"unknown type {type_index}")
        func_types.append(types[type_index])
    tables = module.all_tables()
    memories = module.all_memories()
    globals_ = module.all_global_types()
    for valtype in [t.elem_type for t in tables] + [g.valtype for g in globals_] + [
            seg.elem_type for seg in module.elems]:
        check_valtype(valtype)
    for table, init in zip(module.tables, module.table_inits):
        if init is None and not is_defaultable(table.elem_type):
            raise _invalid(f"type mismatch: a table of {table.elem_type} needs an initialiser")
    for table in tables:
        _check_limits(table.limits, MAX_TABLE_SIZE_OF[table.address_type],
                      TABLE_SIZE_MESSAGES[table.address_type])
    for memory in memories:
        _check_limits(memory.limits, MAX_PAGES_OF[memory.address_type],
                      MEMORY_SIZE_MESSAGES[memory.address_type])
    tags = module.tag_type_indices()
    for type_index in tags:
        if type_index >= len(types):
            raise _invalid(f"unknown type {type_index}")
        if types[type_index].results:
            raise _invalid("non-empty tag result type")
    for i, functype in enumerate(types):
        group = functype.group
        if group is not None and not (group.first <= i < group.first + group.size <= len(types)
                                      and all(s < i for s in group.supertypes)):
            raise _invalid(f"type {i} is not in its recursion group")

    # A global's initialiser sees the globals before it, a table's the imported ones, a
    # segment's expressions all of them.
    num_imported_globals = len(globals_) - len(module.globals)

    def check_constant(expr, valtype, visible=len(globals_)):
        stack = []
        for instr in expr:
            if instr.op == GLOBAL_GET:
                if instr.imm >= visible:
                    raise _invalid(f"unknown global {instr.imm}")
                if globals_[instr.imm].mutable:
                    raise _invalid("constant expression required")
                stack.append(globals_[instr.imm].valtype)
            elif instr.op == REF_FUNC:
                if instr.imm >= len(func_types):
                    raise _invalid(f"unknown function {instr.imm}")
                stack.append(ref_type(func_type_indices[instr.imm], False))
            elif instr.op in CONSTANT_ARITHMETIC:
                operand = CONSTANT_ARITHMETIC[instr.op]
                if stack[-2:] != [operand, operand]:
                    raise _invalid(f"type mismatch: {instr.op:#x} needs two {operand} operands")
                stack.pop()
            elif instr.op == REF_NULL:
                check_valtype(instr.imm)
                stack.append(instr.imm)
            else:
                stack.append(_CONSTANT_TYPES[instr.op])
        if len(stack) != 1 or not matches(stack[0], valtype):
            raise _invalid(f"type mismatch: a constant expression of type {stack} where "
                           f"[{valtype}] is expected")

    for i, glob in enumerate(module.globals):
        check_constant(glob.init, glob.type.valtype, num_imported_globals + i)
    for table, init in zip(module.tables, module.table_inits):
        if init is not None:
            check_constant(init, table.elem_type, num_imported_globals)
    for seg in module.elems:
        for expr in seg.init:
            check_constant(expr, seg.elem_type)
        if seg.mode == "active":
            if seg.table >= len(tables):
                raise _invalid(f"unknown table {seg.table}")
            if not matches(seg.elem_type, tables[seg.table].elem_type):
                raise _invalid(f"type mismatch: element segment's type {seg.elem_type} does "
                               f"not match table's element type {tables[seg.table].elem_type}")
            check_constant(seg.offset, tables[seg.table].address_type)
    for seg in module.datas:
        if seg.mode == "active":
            if seg.memory >= len(memories):
                raise _invalid(f"unknown memory {seg.memory}")
            check_constant(seg.offset, memories[seg.memory].address_type)

    if module.start is not None:
        if module.start >= len(func_types):
            raise _invalid(f"unknown function {module.start}")
        if func_types[module.start].params or func_types[module.start].results:
            raise _invalid("start function must not have parameters or results")
    spaces = {"func": (func_types, "function"), "table": (tables, "table"),
              "memory": (memories, "memory"), "global": (globals_, "global"),
              "tag": (tags, "tag")}
    names = set()
    for export in module.exports:
        space, category = spaces[export.kind]
        if export.index >= len(space):
            raise _invalid(f"unknown {category} {export.index}")
        if export.name in names:
            raise _invalid(f"duplicate export name {export.name!r}")
        names.add(export.name)
    for func_index in module.func_names:
        if func_index >= len(func_types):
            raise corrupted(f"its function names name function {func_index} of "
                            f"{len(func_types)}")


def _check_limits(limits, bound, message):
    if limits.min > bound or (limits.max is not None and limits.max > bound):
        raise _invalid(message)
    if limits.max is not None and limits.min > limits.max:
        raise _invalid("size minimum must not be greater than maximum")


def _check_memory_limit(module, limit):
    """The code may rely on no memory growing past `limit` (docs/aot-abi.md, "Addresses"):
    a memory that may start or grow bigger is not one the compiler gave it."""
    if limit >= MAX_PAGES:
        return
    for imp in module.imported("memory"):
        if imp.desc.address_type == "i64":      # checked in code at every access
            continue
        if imp.desc.limits.max is None or imp.desc.limits.max > limit:
            raise corrupted(f"its imported memory may grow past the code's limit of "
                            f"{limit} pages")
    for memory in module.memories:
        if memory.address_type == "i32" and memory.limits.min > limit:
            raise corrupted(f"its memory starts above the code's limit of {limit} pages")


def check_symbols(aot, module, relocs):
    """Check every symbol the loader looks up; return {type index: name of the
    aot_array_call entry for that type} for the types of the module's functions."""
    defined = {}
    for symbol in aot.symbols:
        if symbol.section is None:
            continue
        if provides(symbol.name) or symbol.name == GOT_SYMBOL:
            raise corrupted(f"the object defines {symbol.name!r}, which the loader provides")
        if not symbol.name.startswith(aot_abi.SYMBOL_PREFIX):
            continue
        if symbol.name in defined:
            raise corrupted(f"the object defines {symbol.name!r} twice")
        defined[symbol.name] = symbol

    def entry_point(name):
        symbol = defined.get(name)
        if symbol is None:
            raise corrupted(f"the object does not define {name}")
        section = aot.sections[symbol.section]
        if not section.executable or symbol.offset >= section.size:
            raise corrupted(f"{name} is not in executable code")
        if symbol.offset % relocs.FUNCTION_ALIGNMENT:
            raise corrupted(f"{name} is not aligned as the compiler aligns functions")
        start = (symbol.section, symbol.offset)
        if start in functions:
            raise corrupted(f"{name} starts where {functions[start]} does")
        return start

    # Each adapter, function and signal handler is a function of its own; only array
    # calls for equal signatures could be one function under several names.
    functions = {}          # (section, offset) -> name
    num_imported = module.num_imported_funcs
    names = [aot_abi.import_symbol(i) for i in range(num_imported)]
    names += [aot_abi.func_symbol(i)
              for i in range(num_imported, num_imported + len(module.funcs))]
    names += [aot_abi.tail_symbol(i)          # functions that make tail calls have one
              for i in range(num_imported, num_imported + len(module.funcs))
              if aot_abi.tail_symbol(i) in defined]
    if aot.target.bounds_checks == "guard-pages":
        names.append(aot_abi.FAULT_HANDLER_SYMBOL)
    names += [aot_abi.INTERRUPT_HANDLER_SYMBOL, aot_abi.REQUEST_INTERRUPT_SYMBOL]
    for name in names:
        functions[entry_point(name)] = name
    array_calls = {}
    for type_index in set(module.func_type_indices()):
        name = _array_call_name(module, type_index, defined)
        entry_point(name)
        array_calls[type_index] = name
    return array_calls


def _array_call_name(module, type_index, defined):
    """The compiler may emit the entry once per distinct signature: any type index with an
    equal function type will do."""
    wanted = module.types[type_index]
    for index in [type_index] + list(range(len(module.types))):
        name = aot_abi.array_call_symbol(index)
        if module.types[index] == wanted and name in defined:
            return name
    return aot_abi.array_call_symbol(type_index)      # entry_point() names it in the error
