"""OpenVINO's tests run in a pytest process of their own (test_openvino_process.py starts it).

Twice, the whole suite with OpenVINO loaded into its process died of a segmentation fault in
the Ctrl-C re-index test (tests/rag/test_cli_jobs.py), with no traceback, and never in smaller
runs or in a loop of that test beside a loaded OpenVINO model (bench/RESULTS.md, issue 19).
Until that is understood, OpenVINO's thread pool is kept out of the process that runs
everything else (tests/conftest.py pins onnx there, as the default, auto, takes openvino on a
CPU with VNNI or AMX); what an admin meets runs in processes of its own as in production: a
`rag worker` on the openvino backend stopped with Ctrl-C (tests/e2e/test_worker_crash.py) and
a `rag ingest` on the default (tests/e2e/test_auto_backend.py).
"""

import os

OPENVINO_PROCESS_VARIABLE = "RAG_TEST_OPENVINO_PROCESS"
OPENVINO_HERE = os.environ.get(OPENVINO_PROCESS_VARIABLE) == "1"
OPENVINO_TEST_FILES = ["test_openvino_export.py", "test_openvino_auto.py"]

if not OPENVINO_HERE:
    collect_ignore = OPENVINO_TEST_FILES
