"""The CPUs and memory this process may use, as a container or a systemd unit limits them: its
affinity, its cgroups' CPU quota and memory limit (v1 and v2), /proc/meminfo. Read on fake
cgroup folders for each form, on this host, and in a real cgroup with a quota."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest

from rag.host_resources import CGROUP, _cpu_quota, available_memory_mib, usable_cpus

MEMINFO = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   8388608 kB\n"
GIB = 1024**3


def cgroup(tmp_path, files: dict[str, str]):
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text + "\n")
    return tmp_path


def own(tmp_path, text: str = "0::/\n"):
    """A /proc/self/cgroup: which cgroup the process is in, per hierarchy."""
    (tmp_path / "self-cgroup").write_text(text)
    return tmp_path / "self-cgroup"


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "200000 100000"}, 2),  # v2: docker --cpus 2
        ({"cpu.max": "150000 100000"}, 2),  # 1.5 CPUs: two processes can share them
        ({"cpu.max": "50000 100000"}, 1),
        ({"cpu.max": "max 100000"}, None),  # v2 without a quota
        ({"cpu.cfs_quota_us": "400000", "cpu.cfs_period_us": "100000"}, 4),  # v1
        ({"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"}, None),
        ({}, None),  # no cgroup files at all (not Linux, or not mounted)
        ({"cpu.max": "garbage"}, None),
    ],
)
def test_the_cpu_quota_is_read_in_whole_cpus(tmp_path, files, quota):
    assert _cpu_quota(cgroup(tmp_path, files)) == quota


def test_the_usable_cpus_are_the_affinity_bounded_by_the_quota(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    assert usable_cpus(cgroup(tmp_path / "none", {}), own(tmp_path)) == affinity
    one = cgroup(tmp_path / "one", {"cpu.max": "100000 100000"})
    assert usable_cpus(one, own(tmp_path)) == 1
    many = cgroup(tmp_path / "many", {"cpu.max": f"{(affinity + 8) * 100000} 100000"})
    assert usable_cpus(many, own(tmp_path)) == affinity  # more than it may run on adds none


def test_the_processs_own_cgroup_and_those_above_it_are_read(tmp_path):
    """A systemd unit's CPUQuota= or its slice's is a cgroup below the mount's root, named in
    /proc/self/cgroup; the tightest of the chain binds."""
    v1_mount = cgroup(
        tmp_path / "v1",
        {
            "cpu/system.slice/cpu.cfs_quota_us": "100000",
            "cpu/system.slice/cpu.cfs_period_us": "100000",
            "cpu/system.slice/rag.service/cpu.cfs_quota_us": "300000",
            "cpu/system.slice/rag.service/cpu.cfs_period_us": "100000",
        },
    )
    v1 = own(tmp_path, "4:memory:/\n1:cpu,cpuacct:/system.slice/rag.service\n0::/\n")
    assert usable_cpus(v1_mount, v1) == 1  # the slice above the unit allows one
    v2_mount = cgroup(tmp_path / "v2", {"work/rag/cpu.max": "100000 100000"})
    assert usable_cpus(v2_mount, own(tmp_path, "0::/work/rag\n")) == 1
    elsewhere = own(tmp_path, "0::/elsewhere\n")
    assert usable_cpus(v2_mount, elsewhere) == len(os.sched_getaffinity(0))


def test_free_memory_is_meminfos_available_bounded_by_the_cgroup_limit(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(MEMINFO)
    procs = own(tmp_path, "4:memory:/\n0::/\n")

    def free(files: dict[str, str], name: str) -> float | None:
        return available_memory_mib(meminfo, cgroup(tmp_path / name, files), procs)

    assert free({}, "none") == 8192
    assert free({"memory.max": str(4 * GIB), "memory.current": str(GIB)}, "v2") == 3072
    assert free({"memory.max": "max", "memory.current": str(GIB)}, "v2max") == 8192
    v1 = {"memory/memory.limit_in_bytes": str(2 * GIB), "memory/memory.usage_in_bytes": "0"}
    assert free(v1, "v1") == 2048
    v1_none = {
        "memory/memory.limit_in_bytes": "9223372036854771712",  # v1's "no limit"
        "memory/memory.usage_in_bytes": str(GIB),
    }
    assert free(v1_none, "v1none") == 8192
    nothing = cgroup(tmp_path / "empty", {})
    assert available_memory_mib(tmp_path / "absent", nothing, procs) is None


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="reads Linux's /proc")
def test_this_host_is_read():
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
    free = available_memory_mib()
    assert free is not None and free > 0


ONE_CPU_PROBE = """
import os, sys
with open(sys.argv[1], "w") as procs:
    procs.write(str(os.getpid()))
from rag.config import IngestSettings
from rag.host_resources import usable_cpus
from ingest.file_workers import worker_count
print(usable_cpus(), worker_count(IngestSettings()))
"""


@contextlib.contextmanager
def cgroup_of_one_cpu():
    """A real cgroup with a quota of one CPU (v1's cpu controller, else v2), removed after."""
    name = f"rag-test-{os.getpid()}"
    for folder, quota in (
        (CGROUP / "cpu" / name, {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "100000"}),
        (CGROUP / name, {"cpu.max": "100000 100000"}),
    ):
        try:
            folder.mkdir()
        except OSError:
            continue
        try:
            for file, value in quota.items():
                (folder / file).write_text(value)
        except OSError:
            folder.rmdir()
            continue
        try:
            yield folder / "cgroup.procs"
        finally:
            folder.rmdir()
        return
    pytest.skip("cannot make a cgroup with a CPU quota here (not root, or cgroupfs read-only)")


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to limit to one")
def test_a_process_under_a_one_cpu_quota_counts_one_cpu_and_runs_one_file_worker():
    """As under `docker run --cpus 1` or a systemd unit's CPUQuota=100%: the affinity still
    lists every CPU, the quota allows one."""
    with cgroup_of_one_cpu() as procs:
        probe = subprocess.run(
            [sys.executable, "-c", ONE_CPU_PROBE, str(procs)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split() == ["1", "1"]
