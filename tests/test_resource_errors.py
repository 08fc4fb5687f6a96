"""Memory the engines cannot get is an error (ResourceError), worded alike by both engines,
and pyiwasm reports it in one line with status 1 (issue #13); memory.grow and table.grow
that cannot be satisfied return -1, as the spec has them, and trap no more than before.

The limits are set in child processes: RLIMIT_AS for the AOT loader's address-space
reservation, RLIMIT_DATA (which Linux applies to private writable mappings, so also to the
pages an AOT memory makes accessible) for allocations.
"""

import resource
import subprocess
import sys

import pytest

from pywamr.loader import cli
from pywamr.runtime.errors import ResourceError, Trap
from pywamr.runtime.interp import Module

from module_text import aot, wasm

ENGINES = ["interp", "aot"]

HUGE_TABLE = '(module (table 4294967295 funcref) (func (export "_start")))'
HUGE_TABLE_MESSAGE = "cannot allocate a table of 4294967295 elements"
MEMORY_2GIB = '(module (memory (export "memory") 32768) (func (export "_start")))'
ONE_PAGE = '(module (memory (export "memory") 1) (func (export "_start")))'
GROW = """(module
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (func (export "_start"))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "table_grow") (param i32) (result i32)
    (table.grow $t (ref.null func) (local.get 0))))
"""


def load(engine, text):
    if engine == "interp":
        return Module(wasm(text))
    from pywamr.loader.aot_module import AotModule
    return AotModule(aot(text))


def program_file(engine, text, tmp_path):
    path = tmp_path / ("program.wasm" if engine == "interp" else "program.aot")
    path.write_bytes(wasm(text) if engine == "interp" else aot(text))
    return path


def limited(which, limit_bytes):
    """A preexec_fn lowering a soft resource limit in the child."""
    def lower():
        resource.setrlimit(which, (limit_bytes, resource.getrlimit(which)[1]))
    return lower


def pyiwasm(*args, preexec_fn=None):
    return subprocess.run([sys.executable, "-m", "pywamr.loader", *map(str, args)],
                          capture_output=True, text=True, preexec_fn=preexec_fn)


def assert_one_error_line(done, path, message):
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"pyiwasm: error: {path}: {message}\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_table_too_big_is_a_resource_error(engine):
    with pytest.raises(ResourceError) as raised:
        load(engine, HUGE_TABLE).instantiate()
    assert str(raised.value) == HUGE_TABLE_MESSAGE
    assert not isinstance(raised.value, Trap)


@pytest.mark.parametrize("engine", ENGINES)
def test_pyiwasm_reports_a_table_too_big_in_one_line(engine, tmp_path):
    path = program_file(engine, HUGE_TABLE, tmp_path)
    flags = ["--interp"] if engine == "interp" else []
    assert_one_error_line(pyiwasm(*flags, path), path, HUGE_TABLE_MESSAGE)


def test_address_space_reservation_failing_is_one_line(tmp_path):
    """AOT memories reserve 10 GiB of address space up front; under a 4 GB RLIMIT_AS the
    reservation fails. The interpreter reserves nothing and runs."""
    four_gb = limited(resource.RLIMIT_AS, 4_000_000 << 10)
    path = program_file("aot", ONE_PAGE, tmp_path)
    assert_one_error_line(pyiwasm(path, preexec_fn=four_gb), path,
                          "cannot reserve 10737418240 bytes of address space for linear "
                          "memory: Cannot allocate memory")
    done = pyiwasm("--interp", program_file("interp", ONE_PAGE, tmp_path), preexec_fn=four_gb)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("engine", ENGINES)
def test_memory_that_cannot_be_allocated_is_one_line(engine, tmp_path):
    path = program_file(engine, MEMORY_2GIB, tmp_path)
    flags = ["--interp"] if engine == "interp" else []
    done = pyiwasm(*flags, path, preexec_fn=limited(resource.RLIMIT_DATA, 1 << 30))
    assert_one_error_line(done, path, "cannot allocate a linear memory of 32768 pages")


GROW_UNDER_LIMIT = """
import resource, sys
from pathlib import Path
engine, path = sys.argv[1:]
if engine == "interp":
    from pywamr.runtime.interp import Module
    module = Module(Path(path).read_bytes())
else:
    from pywamr.loader.aot_module import AotModule
    module = AotModule(Path(path).read_bytes())
exports = module.instantiate().exports
with open("/proc/self/status") as status:
    data_kib = next(int(line.split()[1]) for line in status if line.startswith("VmData:"))
hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
resource.setrlimit(resource.RLIMIT_DATA, ((data_kib << 10) + (32 << 20), hard))
print(exports["grow"](20000), exports["grow"](1), exports["table_grow"](9_000_000),
      exports["table_grow"](1))
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_growing_beyond_the_memory_available_returns_minus_one(engine, tmp_path):
    """memory.grow by 1.3 GB and table.grow by 72 MB with 32 MB to spare fail with -1
    (spec 4.4.7: growing may fail for lack of resources); small growths still succeed."""
    path = program_file(engine, GROW, tmp_path)
    done = subprocess.run([sys.executable, "-c", GROW_UNDER_LIMIT, engine, str(path)],
                          capture_output=True, text=True)
    assert (done.stdout, done.stderr) == ("-1 1 -1 0\n", "")


@pytest.mark.parametrize("engine", ENGINES)
def test_growing_past_the_implementation_limit_returns_minus_one(engine):
    exports = load(engine, GROW).instantiate().exports
    assert exports["table_grow"](0x7FFF_FFFF) == -1
    assert exports["table_grow"](2) == 0
    assert exports["grow"](65536) == -1
    assert exports["grow"](1) == 1


def test_pyiwasm_reports_python_out_of_memory_in_one_line(monkeypatch, capsys):
    def run(options):
        raise MemoryError
    monkeypatch.setattr(cli, "run", run)
    assert cli.main(["program.wasm"]) == cli.ERROR_STATUS
    assert capsys.readouterr().err == "pyiwasm: error: out of memory\n"
