"""Canonical signature ids: structurally equal function types get the same id in every
instance of the process, which is what `call_indirect` compares (docs/aot-abi.md)."""

_ids = {}


def canonical_type_id(functype) -> int:
    return _ids.setdefault(functype, len(_ids) + 1)
