"""What both engines share: the module model, decoder and validator, instantiation, errors,
the interpreter, the WASI host, and the compiler-loader contract (aot_abi.py, aot_layout.py)."""

# pywamr's version: pyproject.toml reads it from here, and it is part of every compile
# cache key (compile_cache.py), which start-up cannot afford to look up with
# importlib.metadata (10 ms).
VERSION = "0.1.0"


# The modules the compiler needs besides pywamr's own: what `pip install 'pywamr[compiler]'`
# adds.
COMPILER_DEPENDENCIES = ("llvmlite", "typer")


def version():
    """pywamr's version."""
    return VERSION


def compiler_installed():
    """Whether pyaotc can run here, asked of the import system without importing anything:
    pyiwasm and the API compile a .wasm module when it can, and interpret it otherwise."""
    import importlib.util
    return all(importlib.util.find_spec(name) is not None for name in COMPILER_DEPENDENCIES)


def add_version_flag(parser):
    """Give an argparse parser (a tool's command line) `--version`."""
    import argparse

    class PrintVersion(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            print(f"{parser.prog} {version()}")
            parser.exit()

    parser.add_argument("--version", action=PrintVersion, nargs=0, dest=argparse.SUPPRESS,
                        default=argparse.SUPPRESS, help="print the version and exit")
