"""The names by which generated code reaches the state of its instance.

Every generated function runs with its instance's namespace dict as its globals; the
translator (`codegen.py`) writes these names and the instance (`instance.py`) binds them.
"""


def func(index):
    """The Python callable of function `index` (imports first)."""
    return f"f{index}"


def tail_body(index):
    """The body of a function that makes tail calls, which `func(index)` runs in a
    trampoline (tail_calls.py)."""
    return f"t{index}"


def table(index):
    """The element list of a table (grown in place, so the binding never changes)."""
    return f"T{index}"


def table_object(index):
    return f"TABLE{index}"


MEMORY = "M"                 # the bytearray of memory 0
# Typed views of it for aligned accesses, name -> (memoryview format, item size): each name
# is a tuple of `size` views, view k the bytes from k on cast to the format, so that the
# item at any address a is `MI[a & 3][a >> 2]`, and out of range exactly when the access is
# out of bounds (see Memory.views).
MEMORY_VIEWS = {"MH": ("H", 2), "MI": ("I", 4), "MQ": ("Q", 8), "MD": ("d", 8)}
MEMORY_OBJECT = "MEMORY"     # its `Memory` object (for grow)
FUNCS = "FUNCS"              # list of `Function` objects by index, for ref.func
DATA = "DATA"                # list of data segment bytes (b"" once dropped)
ELEMS = "ELEMS"              # list of element segment tuples (() once dropped)
MODULE = "MODULE"            # the interp Module: function names and code offsets of traps
FUEL = "FUEL"                # [fuel left] (boundary.FUEL), in code translated with fuel
OUT_OF_FUEL = "OUT_OF_FUEL"  # raises FuelExhausted
TAIL_CALL = "TAIL_CALL"      # tail_calls.TailCall
THROWN = "Thrown"            # exceptions.Thrown: what `throw` raises and handlers catch
THROW_REF = "THROW_REF"      # exceptions.throw_ref
TRAMPOLINE = "TRAMPOLINE"    # tail_calls.trampoline

FUNCTION_FILENAME = "<wasm function "    # how the file name of a translation starts


def memory(index):
    """The bytearray of memory `index`: memory 0 keeps the short name the load and store
    templates of operators.py are written with."""
    return MEMORY if index == 0 else f"{MEMORY}{index}"


def memory_view(name, index):
    """The tuple of typed views `name` (MEMORY_VIEWS) of memory `index`."""
    return name if index == 0 else f"{name}{index}"


def memory_object(index):
    return MEMORY_OBJECT if index == 0 else f"{MEMORY_OBJECT}{index}"


def functype(index):
    """The canonical FuncType object of type index `index`, for call_indirect."""
    return f"TY{index}"


def tag(index):
    """The runtime.api.Tag of tag `index` (imports first), compared by identity."""
    return f"TAG{index}"


def global_var(index):
    """A global kept directly in the namespace."""
    return f"g{index}"


def global_cell(index):
    """A global kept in a shared `Global` object, read and written as `.stored`."""
    return f"G{index}"


def global_cells(module):
    """Indices of the globals that live in a `Global` object: the mutable ones another
    instance or the host can reach (imported or exported). The others are plain namespace
    variables, which are faster."""
    exported = {e.index for e in module.exports if e.kind == "global"}
    types = module.all_global_types()
    imported = len(types) - len(module.globals)
    return {i for i, t in enumerate(types) if t.mutable and (i < imported or i in exported)}
