"""Start llama_cpp.server without llama.cpp's extra (repacking) buffer types.

This VM advertises AMX, and this build of llama.cpp (native CPU features) places the
weights in its AMX buffer; the AMX matrix product then dies with a general protection
fault on ``ldtilecfg``, and the server with it, on any completion. With
``use_extra_bufts = False`` the weights stay in plain CPU buffers and the ordinary
AVX-512 kernels run. llama-cpp-python does not expose the flag, so the default model
parameters are patched before the server loads the model.
"""
import sys

import llama_cpp.llama_cpp as native

_default = native.llama_model_default_params


def _params():  # type: ignore[no-untyped-def]
    params = _default()
    params.use_extra_bufts = False
    return params


native.llama_model_default_params = _params

from llama_cpp.server.__main__ import main  # noqa: E402

sys.exit(main())
