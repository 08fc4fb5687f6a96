"""References crossing between compiled code and Python.

In compiled code a funcref is the address of a FuncRef record and an externref an opaque
non-zero handle, an exnref the address of an exception object; 0 is null in all three.
Python sees None, an AotFunc (which can be called and passed back in), the very object that
was passed in as an externref, or a WasmException for an exnref (exceptions.py).
"""

import weakref

from pywamr.runtime.types import EXNREF, FUNCREF, representation


# FuncRef address -> (weak reference to the instance owning the record, function index)
_funcref_owners = {}

# Instances whose functions Python has handed to compiled code: the records must outlive
# whatever table or global the code stores them in.
_pinned_instances = set()

# Externref handles: the objects are kept for the life of the process, since compiled code
# may hold a handle anywhere (tables, globals, memory) without Python knowing.
_extern_objects = {}    # handle -> object
_extern_handles = {}    # id(object) -> handle


def register_funcrefs(instance, records):
    """Record that the FuncRef records [(address, function index)] belong to `instance`;
    they are forgotten when the instance is collected."""
    owner = weakref.ref(instance)
    addresses = []
    for address, func_index in records:
        _funcref_owners[address] = (owner, func_index)
        addresses.append(address)
    weakref.finalize(instance, _forget_funcrefs, addresses)


def _forget_funcrefs(addresses):
    for address in addresses:
        _funcref_owners.pop(address, None)


def funcref_to_python(address):
    if not address:
        return None
    owner, func_index = _funcref_owners[address]
    return owner().function(func_index)


def funcref_to_raw(func):
    if func is None:
        return 0
    address = getattr(func, "funcref_address", None)
    if address is None:
        raise TypeError(f"a funcref must be None or a function of an AOT instance, "
                        f"not {type(func).__name__}")
    _pinned_instances.add(func.instance)
    return address


def externref_to_python(handle):
    return _extern_objects[handle] if handle else None


def externref_to_raw(obj):
    if obj is None:
        return 0
    handle = _extern_handles.get(id(obj))
    if handle is None:
        handle = len(_extern_objects) + 1
        _extern_objects[handle] = obj
        _extern_handles[id(obj)] = handle
    return handle


def ref_to_python(valtype, raw):
    kept = representation(valtype)
    if kept == FUNCREF:
        return funcref_to_python(raw)
    if kept == EXNREF:
        from . import exceptions    # loaded by the first exnref, not at start-up
        return exceptions.exnref_to_python(raw)
    return externref_to_python(raw)


def ref_to_raw(valtype, value):
    kept = representation(valtype)
    if kept == FUNCREF:
        return funcref_to_raw(value)
    if kept == EXNREF:
        from . import exceptions
        return exceptions.exnref_to_raw(value)
    return externref_to_raw(value)
