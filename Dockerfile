# syntax=docker/dockerfile:1
# The service image: `rag serve` by default; docker-compose.yml runs the same image as the
# migrate and worker services with another command.
#
#   docker build -t private-docs-qa .                          # CPU
#   docker build -t private-docs-qa:gpu --build-arg PIP_EXTRAS=gpu \
#       --build-arg FAISS_PACKAGE=faiss-gpu-cu12 .              # CUDA (compose's gpu profile)
#
# Needs BuildKit (the default builder of Docker 23+ and of `docker compose`): the runtime stage
# installs from the builder's wheels through a bind mount, so the wheels never become a layer.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
# builder: every dependency as a wheel. llama-cpp-python has no wheel on PyPI and compiles
# from source here (about 7 minutes), so the compiler stays in this stage.
FROM ${PYTHON_IMAGE} AS builder

# Comma-separated extras of pyproject.toml; "gpu" adds bitsandbytes.
ARG PIP_EXTRAS=""
# Takes the place of the faiss-cpu dependency (both provide `import faiss`); the GPU services
# pass faiss-gpu-cu12. The two must never be installed together: they write the same files.
ARG FAISS_PACKAGE=faiss-cpu
# Where torch comes from. Empty: the CPU-only build (download.pytorch.org/whl/cpu, a fraction
# of the size), unless PIP_EXTRAS has gpu: then pip's index, whose Linux torch is the CUDA one.
ARG TORCH_INDEX_URL=""
# Not -march=native: the image runs on other machines than the one that built it. With
# GGML_NATIVE off, ggml still enables AVX2/FMA/F16C (x86-64-v3) by default.
ARG LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF"

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build
# Only pyproject.toml: a change to the code does not rebuild the wheels.
COPY pyproject.toml ./

# The dependency list of the chosen extras, with faiss-cpu swapped for FAISS_PACKAGE (unless
# that is faiss-cpu itself: then pyproject's version bound stays), so that exactly one faiss
# is ever installed and nothing has to be uninstalled afterwards.
RUN mkdir /wheels && python - "$PIP_EXTRAS" "$FAISS_PACKAGE" > /wheels/requirements.txt <<'EOF'
import re, sys, tomllib

def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = [name.strip() for name in sys.argv[1].split(",") if name.strip()]
faiss = sys.argv[2].strip()
requirements = project["dependencies"] + [
    r for extra in extras for r in project["optional-dependencies"][extra]
]
for requirement in requirements:
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group()
    swap = normalized(name) == "faiss-cpu" and faiss and normalized(faiss) != "faiss-cpu"
    print(faiss if swap else requirement)
EOF

# torch first, alone, from its index; then a constraint pins the exact file's version
# (2.13.0+cpu), so resolving the rest cannot pick PyPI's CUDA build of the same release.
RUN index="$TORCH_INDEX_URL"; \
    if [ -z "$index" ]; then \
        case ",$PIP_EXTRAS," in *,gpu,*) ;; *) index=https://download.pytorch.org/whl/cpu ;; esac; \
    fi; \
    torch=$(grep -E '^torch[ =<>!~]' /wheels/requirements.txt) \
    && pip download --no-deps --dest /wheels ${index:+--index-url "$index"} "$torch" \
    && set -- /wheels/torch-*.whl && version=${1#/wheels/torch-} \
    && echo "torch==${version%%-*}" > /wheels/constraints.txt

# setuptools and wheel: the runtime stage builds the editable install from /wheels, offline.
RUN CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    pip wheel --wheel-dir /wheels --find-links /wheels -c /wheels/constraints.txt \
        -r /wheels/requirements.txt "setuptools>=68" wheel

# ---------------------------------------------------------------------------------------------
# runtime: the wheels installed, the source tree at /app, no compiler.
FROM ${PYTHON_IMAGE} AS runtime

# Nothing is ever fetched from a model hub: the models ship inside installed packages.
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    RAG_DATA_DIR=/data \
    RAG_EMBEDDING__CACHE_DIR=/app/onnx-cache \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# RAG_DATA_DIR: the volume below, whichever config is used (default.yaml says ./data, which
# the service user cannot write). RAG_EMBEDDING__CACHE_DIR: the onnx export and the openvino
# int8 model made from it (embedding.backend auto takes either, by the host's CPU), made once in
# the build below, so every container starts with them. NVIDIA_DRIVER_CAPABILITIES:
# on a GPU host, mount the CUDA driver libraries, not only nvidia-smi; without the NVIDIA
# runtime it does nothing.

# libgomp1: llama.cpp is built with OpenMP and, compiled here, does not bundle the runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 rag \
    && useradd --uid 10001 --gid rag --create-home rag \
    && mkdir /data && chown rag:rag /data

RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels -c /wheels/constraints.txt \
        -r /wheels/requirements.txt

# rag/config.py and rag/db/migrate.py find configs/ and migrations/ next to the rag package
# (REPO_ROOT = the folder above rag/). A regular install would put rag/ in site-packages,
# away from them, so the source tree stays at /app and is installed editable, as in
# development. RAG_CONFIG=/app/configs/... (docker-compose.yml) relies on this layout too.
WORKDIR /app
COPY pyproject.toml README.md ./
COPY rag ./rag
COPY ingest ./ingest
COPY migrations ./migrations
COPY configs ./configs
# The sample documents: `rag ingest examples` tries a fresh image with the default config.
COPY examples ./examples
# --no-deps: the dependencies are in place, and pip must not put faiss-cpu back.
# Then fail the build, not the first start, if the entry point, llama.cpp's shared libraries
# or the migrations cannot be found.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels --no-deps --editable . \
    && rag --help > /dev/null \
    && python -c "import llama_cpp; from rag.db.migrate import head_revision; head_revision()" \
    && python -c "from rag.config import Settings; from rag.embed import load_embedder; \
[load_embedder(Settings().embedding.model_copy(update={'backend': b})) for b in ('onnx', 'openvino')]"

# Numeric, so that a runtime that refuses root (Kubernetes' runAsNonRoot) can verify it.
USER 10001:10001
VOLUME /data
EXPOSE 8000

# Liveness of `rag serve` on port 8000; urllib because the slim image has no curl. The
# migrate and worker services run this image with another command and serve nothing: for
# them (PID 1 is not `serve`) the check passes instead of marking them unhealthy. The start
# period covers loading the models and catching the index up, which happen before serving.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; b'serve' not in open('/proc/1/cmdline', 'rb').read().split(b'\\0') or urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["rag", "serve", "--host", "0.0.0.0", "--port", "8000"]
