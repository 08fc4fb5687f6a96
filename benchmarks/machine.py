"""The machine and tool versions a benchmark session ran on, for the report's header."""

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def os_name():
    try:
        with open("/etc/os-release") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    name = line.split("=", 1)[1].strip().strip('"')
                    return f"{name}, {platform.system()} {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def tool_version(argv):
    """The first line `argv` prints, such as `clang-19 --version`."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, cwd=REPO_DIR).stdout
    except OSError:
        return "not installed"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def package_version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe():
    """A dict of what the report prints about the machine."""
    return {
        "CPU": f"{cpu_model()} ({platform.machine()})",
        "cores": str(os.cpu_count()),
        "OS": os_name(),
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "clang": tool_version(["clang-19", "--version"]),
        "Node.js": tool_version(["node", "--version"]),
        "wasmtime (PyPI)": package_version("wasmtime"),
        "pywasm (PyPI)": package_version("pywasm"),
        "llvmlite": package_version("llvmlite"),
        "pywamr commit": tool_version(["git", "describe", "--always", "--dirty"]),
    }
