"""A module prepared for the interpreter: decoded, validated, and translated lazily.

Translation happens per function on its first call, and the compiled code object is kept
here, so every instance of the module shares it (an instance only binds its own namespace).
"""

from ..decoder import decode_module
from ..module import Module as DecodedModule
from ..types import structural_types
from ..validator import validate
from .boundary import DEFAULT_MAX_CALL_DEPTH
from . import layout
from .code_cache import CodeCache
from .codegen import FunctionTranslator, Unsupported
from .instance import Instance


class Module:
    """A module the interpreter can instantiate (see docs/interpreter.md)."""

    def __init__(self, source, validated=False, cache_dir=None, fuel=False):
        """`source` is the module's bytes, or a decoded `runtime.module.Module` (validated
        here unless `validated` says it already was). With `cache_dir`, translations of a
        module given as bytes are kept there for later runs (see code_cache.py). With
        `fuel`, the translation charges fuel (runtime/fuel.py), as `pyaotc --fuel` does;
        without, it contains no trace of it."""
        self.cache = None
        self.fuel = fuel
        if isinstance(source, DecodedModule):
            decoded = source
        else:
            data = bytes(source)
            decoded = decode_module(data)
            validated = False
            if cache_dir is not None:
                self.cache = CodeCache(cache_dir, data, b"fuel" if fuel else b"")
        if not validated:
            validate(decoded)
        self.decoded = decoded
        # Types whose reference types name other types by what they are, not by index: equal
        # across modules when they are the same type (types.structural_types).
        self.types = structural_types(decoded.types)
        self.func_types = [self.types[i] for i in decoded.func_type_indices()]
        self.tag_types = [self.types[i] for i in decoded.tag_type_indices()]
        self.global_types = decoded.all_global_types()
        self.global_cells = layout.global_cells(decoded)
        self._code = {}
        self._line_offsets = {}

    def function_code(self, func_index):
        """The compiled code object defining `f<func_index>` in an instance namespace."""
        code = self._code.get(func_index)
        if code is None:
            code = self.cache.load(func_index) if self.cache else None
            if code is None:
                code = self._compile(func_index)
                if self.cache:
                    self.cache.store(func_index, code)
            self._code[func_index] = code
        return code

    def _compile(self, func_index):
        translator = FunctionTranslator(self, func_index)
        source = translator.translate()
        self._line_offsets[func_index] = translator.line_offsets
        name = self.decoded.func_names.get(func_index)
        filename = f"{layout.FUNCTION_FILENAME}{func_index}{' ' + name if name else ''}>"
        try:
            return compile(source, filename, "exec")
        except (SyntaxError, RecursionError, MemoryError) as e:
            raise Unsupported(f"function {func_index} cannot be compiled by CPython "
                              f"({type(e).__name__}: {e})") from None

    def code_offset(self, func_index, line, columns=None):
        """The module offset of the instruction line `line` of a function's translation was
        made for, or None; within a line that evaluates loads of earlier instructions, the
        load's when `columns` (start, end: what CPython's code positions say failed) lie
        within one. (A translation loaded from the cache is made again for this: it is
        asked for only when something traps.)"""
        offsets = self._line_offsets.get(func_index)
        if offsets is None:
            translator = FunctionTranslator(self, func_index)
            translator.translate()
            offsets = self._line_offsets[func_index] = translator.line_offsets
        offset = offsets[line - 1] if 0 < line <= len(offsets) else None
        if not isinstance(offset, tuple):
            return offset
        offset, spans = offset
        if columns is not None and None not in columns:
            inside = [span for span in spans
                      if span[0] <= columns[0] and columns[1] <= span[1]]
            if inside:                          # the innermost load: an address's own load
                return min(inside, key=lambda span: span[1] - span[0])[2]
        return offset

    @property
    def translated_functions(self):
        """How many functions have been translated (or loaded from the cache) so far."""
        return len(self._code)

    def function_source(self, func_index):
        """The Python source of a function's translation (for debugging and the docs)."""
        return FunctionTranslator(self, func_index).translate()

    def instantiate(self, imports=None, max_call_depth=DEFAULT_MAX_CALL_DEPTH,
                    max_memory_size=None):
        """Link, allocate, initialise segments, run the start function (spec 4.5.4).
        `max_memory_size`: bytes the instance's own memories may grow to (api.py)."""
        return Instance(self, imports or {}, max_call_depth, max_memory_size)
