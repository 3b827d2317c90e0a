"""Hook implementations of the zp_openai built-in plugin: the ``openai_compatible`` backend and ``zp-evolve serve``."""

from __future__ import annotations

from zp_evolve import hookimpl


@hookimpl
def zp_register_backends(register):
    from zp_openai.backend import OpenAICompatibleBackend

    register(
        "openai_compatible", OpenAICompatibleBackend,
        description="a model behind an OpenAI-compatible server (vLLM, llama.cpp): rank classification from prompt logprobs, generation",
    )  # fmt: skip


@hookimpl
def zp_register_commands(register):
    from zp_openai import serve

    register("serve", serve.serve_command, add_arguments=serve.serve_arguments,
             help="serve the packaged SmolLM2 GGUF with llama-cpp-python on loopback (an openai_compatible base_url)")
