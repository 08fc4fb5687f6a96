"""A relocatable object reduced to what a loader needs: the neutral form between LLVM's ELF
output and the `.aot` writer (compiler/aot_writer.py), which consumes exactly these fields.

Only sections that occupy memory at run time are kept; symbols and relocations refer to them
by their index in `ObjectImage.sections`.
"""

from dataclasses import dataclass, field


@dataclass(slots=True)
class ObjSection:
    name: str
    data: bytes          # b"" for a zero-initialised (bss) section, whose size is still > 0
    size: int
    align: int
    executable: bool
    writable: bool


@dataclass(slots=True)
class ObjSymbol:
    name: str
    section: int | None  # index into ObjectImage.sections; None: undefined, e.g. memcpy
    offset: int
    is_global: bool = False  # visible to other objects: resolves their undefined symbols


@dataclass(slots=True)
class ObjRelocation:
    section: int         # the section patched
    offset: int          # where in it
    type: int            # the ELF r_type number of the target architecture
    symbol: int          # index into ObjectImage.symbols
    addend: int


@dataclass(slots=True)
class ObjectImage:
    arch: str            # 'x86_64' | 'aarch64'
    sections: list = field(default_factory=list)     # [ObjSection]
    symbols: list = field(default_factory=list)      # [ObjSymbol]
    relocations: list = field(default_factory=list)  # [ObjRelocation]

    def symbol_index(self, name):
        """Index of the symbol called `name` (KeyError if absent)."""
        for i, sym in enumerate(self.symbols):
            if sym.name == name:
                return i
        raise KeyError(name)
