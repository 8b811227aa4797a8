"""llama.cpp keeps a model's weights in plain CPU buffers, not in its "extra buffer types".

Those repack the weights at load for special kernels: AMX tiles on Intel Xeons from Sapphire
Rapids on, and interleaved Q4_0/Q4_K/IQ4_NL layouts. The AMX kernels crash the process
(SIGSEGV in the first decode) on some such machines (llama.cpp issue 20824), and ours is one:
the packaged SmolLM2 Q4_1 model killed the service at its first answer. llama-cpp-python's
`Llama()` takes no argument for it, so its default model parameters are wrapped while a model
loads. `llm.repack_weights: true` leaves llama.cpp's default.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_PATCHING = threading.Lock()  # two models loading at once must not restore each other's wrapper


@contextmanager
def plain_weight_buffers() -> Iterator[None]:
    """Models loaded inside this block keep their weights in plain CPU buffers."""
    import llama_cpp.llama as llama_module

    bindings = llama_module.llama_cpp
    with _PATCHING:
        default = bindings.llama_model_default_params

        def without_extra_buffers():
            params = default()
            params.use_extra_bufts = False
            return params

        bindings.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            bindings.llama_model_default_params = default
