"""Loading real LLVM objects: every code model and relocation model, the GOT and PLT stubs
reaching the C library from code mapped far from it, and the protection of the pages."""

import ctypes

import pytest

from pywamr.loader.errors import RelocationError
from pywamr.loader.image import LoadedImage
from pywamr.loader.reloc_x86_64 import R
from pywamr.runtime.errors import AotFormatError

from loader_objects import (CODE_MODELS, WORK_RESULT, native_function, object_aot_file)


def run_image(image):
    pick = native_function(image.address_of("pick"), ctypes.c_int32, ctypes.c_int32)
    work = native_function(image.address_of("work"), ctypes.c_double, ctypes.c_void_p,
                           ctypes.c_double)
    buffer = (ctypes.c_int64 * 4)()
    result = work(ctypes.addressof(buffer), 10.0)
    return [pick(i) for i in range(8)], result, list(buffer)


@pytest.mark.parametrize("opt", [0, 2])
@pytest.mark.parametrize("reloc", ["pic", "static"])
@pytest.mark.parametrize("code_model", CODE_MODELS)
def test_every_code_model_loads_and_runs(code_model, reloc, opt):
    aot = object_aot_file(code_model=code_model, reloc=reloc, opt=opt)
    image = LoadedImage(aot)
    picks, result, buffer = run_image(image)
    assert picks == [11, 22, 33, 44, 55, 20, 30, 40]
    assert result == WORK_RESULT
    assert buffer == [1, 2, 3, 4]
    fmod_address = native_function(image.address_of("fmod_address"), ctypes.c_void_p)()
    assert fmod_address == ctypes.cast(ctypes.CDLL("libm.so.6").fmod, ctypes.c_void_p).value


def test_32_bit_absolute_addresses_put_the_image_below_2gb():
    aot = object_aot_file(code_model="small", reloc="static")
    assert {R.X86_64_32S} & {r.type for r in aot.relocations}
    image = LoadedImage(aot)
    assert image.address + image.mapping.size <= 1 << 31


def test_far_libc_is_reached_through_a_stub_and_a_got_slot():
    """Kernel code model: the image sits below 2 GB, libm far above, so the PLT32 call to
    fmod needs a stub and the GOTPCREL address load a slot."""
    aot = object_aot_file(code_model="kernel", reloc="pic")
    fmod_relocations = {r.type for r in aot.relocations if aot.symbols[r.symbol].name == "fmod"}
    assert fmod_relocations == {R.X86_64_PLT32, R.X86_64_REX_GOTPCRELX}
    image = LoadedImage(aot)
    fmod = ctypes.cast(ctypes.CDLL("libm.so.6").fmod, ctypes.c_void_p).value
    assert abs(fmod - image.address) > 1 << 31
    assert run_image(image)[1] == WORK_RESULT


def mapping_permissions(image):
    """{start address: 'r-xp' ...} of the pages of the image, from /proc/self/maps."""
    start, end = image.address, image.address + image.mapping.size
    permissions = {}
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            low, high = (int(x, 16) for x in span.split("-"))
            if low < end and high > start:
                permissions[low] = perms
    return permissions


@pytest.mark.parametrize("code_model", CODE_MODELS)
def test_never_writable_and_executable(code_model):
    image = LoadedImage(object_aot_file(code_model=code_model))
    permissions = sorted(mapping_permissions(image).values())
    assert permissions == sorted(["r-xp", "r--p", "rw-p"])


def test_unknown_external_symbol():
    aot = object_aot_file(ir="declare i32 @system(ptr)\n"
                             "define i32 @f() {\n %r = call i32 @system(ptr null)\n"
                             " ret i32 %r\n}\n")
    with pytest.raises(AotFormatError, match="unknown external symbol 'system'"):
        LoadedImage(aot)


def test_unknown_relocation_type():
    aot = object_aot_file()
    aot.relocations[0] = aot.relocations[0].replace(type=23)
    with pytest.raises(RelocationError, match="R_X86_64_TPOFF32"):
        LoadedImage(aot)
