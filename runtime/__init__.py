"""What both engines share: the module model, decoder and validator, instantiation, errors,
the interpreter, the WASI host, and the compiler-loader contract (aot_abi.py, aot_layout.py)."""


def version():
    """pywamr's version as installed."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("pywamr")
    except PackageNotFoundError:
        return "(not installed)"


def add_version_flag(parser):
    """Give an argparse parser (a tool's command line) `--version`, which looks the version
    up only when asked: importlib.metadata costs 10 ms, which start-up should not pay."""
    import argparse

    class PrintVersion(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            print(f"{parser.prog} {version()}")
            parser.exit()

    parser.add_argument("--version", action=PrintVersion, nargs=0, dest=argparse.SUPPRESS,
                        default=argparse.SUPPRESS, help="print the version and exit")
