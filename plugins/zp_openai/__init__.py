"""Served models: score and generate through an OpenAI-compatible server (vLLM, llama.cpp)."""
