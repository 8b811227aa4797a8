"""llama-cpp-python's OpenAI-compatible server, its weights in plain CPU buffers
(rag/llm/llama_weights.py): the same arguments as `python -m llama_cpp.server`.

    python -m rag.llm.llama_server --model MODEL.gguf --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

import runpy

from rag.llm.llama_weights import plain_weight_buffers

if __name__ == "__main__":
    with plain_weight_buffers():
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
