"""pytest set-up of the test suite."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def compile_cache_dir(tmp_path_factory):
    """A compile cache of the session's own (PYWAMR_CACHE_DIR) for every pyiwasm and
    compile_cached the tests run, so that none writes to the user's cache."""
    directory = tmp_path_factory.mktemp("compile-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYWAMR_CACHE_DIR", str(directory))
        yield directory
