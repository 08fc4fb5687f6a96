"""The WASI preview1 host (wasi_snapshot_preview1), shared by both engines. See host.py."""

from .errors import WasiConfigError
from .host import MODULE_NAME, WasiHost

__all__ = ["MODULE_NAME", "WasiConfigError", "WasiHost"]
