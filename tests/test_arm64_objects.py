"""The AArch64 relocator on real LLVM output, run on arm64: objects compiled with llvmlite in
each code model and at -O0 and -O3 are loaded under qemu by tests/arm64_object_loader.py,
which relocates them with pywamr.loader.reloc_aarch64 and calls their functions."""

import json
from pathlib import Path

from arm64_objects import EXPECTED, HOST_VALUE, compile_object, describe_object
from arm64_qemu import run_arm64_python

CONFIGURATIONS = [(code_model, opt, attributes)
                  for code_model in ("small", "large")
                  for opt in (0, 3)
                  for attributes in ("", "minsize optsize")]


def test_relocated_objects_run_on_arm64():
    request = {"host_value": HOST_VALUE, "objects": [
        {"object": describe_object(compile_object(*configuration)),
         "calls": [[name, signature, args] for name, signature, args, _ in EXPECTED]}
        for configuration in CONFIGURATIONS]}
    loader = Path(__file__).with_name("arm64_object_loader.py")
    answers = json.loads(run_arm64_python([loader], input=json.dumps(request)))
    expected = [result for *_, result in EXPECTED]
    for configuration, answer in zip(CONFIGURATIONS, answers, strict=True):
        assert answer["results"] == expected, configuration
        assert answer["veneers"] == 2, configuration  # fmod and memcpy are out of BL's reach
