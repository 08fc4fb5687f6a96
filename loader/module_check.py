"""The wasm module of an `.aot` file checked against its code, before anything is mapped.

The loader instantiates the module from this metadata and the compiled code indexes the
instance's arrays and calls functions with signatures fixed at compile time, so the module
must be valid WebAssembly, exactly what the writer leaves of it (empty bodies, no custom
sections but the function names of a name section), have the index spaces the code was
compiled for (aot_layout.module_interface), keep its memories within the code's memory
limit, and come with every symbol the loader will look up, each defined once, in
executable code.
"""

from itertools import zip_longest

from pywamr.runtime import aot_abi
from pywamr.runtime.aot_layout import function_names_payload, module_interface
from pywamr.runtime.errors import InvalidModule
from pywamr.runtime.types import MAX_PAGES
from pywamr.runtime.validator import validate

from .aot_file import corrupted
from .externals import provides
from .image import GOT_SYMBOL


def check_module(aot, module):
    """Raise AotFormatError (one line) unless `module`, decoded from `aot`, is the module its
    code was compiled for."""
    try:
        validate(module, bodies=False)
    except InvalidModule as error:
        raise corrupted(f"its wasm module is invalid: {error}") from None
    for i, code in enumerate(module.codes):
        if code.num_locals or len(code.body) != 1:
            raise corrupted(f"its wasm module has a body for function "
                            f"{module.num_imported_funcs + i}")
    names = [("name", function_names_payload(module.func_names))] if module.func_names else []
    for custom in module.customs:
        if custom not in names:
            raise corrupted(f"its wasm module has a custom section {custom[0]!r}")
    if len(module.customs) > len(names):
        raise corrupted("its wasm module has two name sections")
    lines = module_interface(module).split("\n")
    for line, wanted in zip_longest(lines, aot.target.interface.split("\n")):
        if line != wanted:
            what = f"{line.partition(':')[0]} differ" if line else "more index spaces"
            raise corrupted(f"its wasm module does not match the code ({what})")
    _check_memory_limit(module, aot.target.memory_limit)


def _check_memory_limit(module, limit):
    """The code may rely on no memory growing past `limit` (docs/aot-abi.md, "Addresses"):
    a memory that may start or grow bigger is not one the compiler gave it."""
    if limit >= MAX_PAGES:
        return
    for imp in module.imported("memory"):
        if imp.desc.limits.max is None or imp.desc.limits.max > limit:
            raise corrupted(f"its imported memory may grow past the code's limit of "
                            f"{limit} pages")
    for memory in module.memories:
        if memory.limits.min > limit:
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
    if aot.target.bounds_checks == "guard-pages":
        names.append(aot_abi.FAULT_HANDLER_SYMBOL)
    names += [aot_abi.INTERRUPT_HANDLER_SYMBOL, aot_abi.REQUEST_INTERRUPT_SYMBOL,
              aot_abi.TRAP_SYMBOL]
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
