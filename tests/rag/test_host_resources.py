"""The CPUs, cores and memory this process may use, as a container or a systemd unit limits
them: its affinity, its cgroups' CPU quota and memory limit (v1 and v2, found through
/proc/self/mountinfo and /proc/self/cgroup), /proc/meminfo. Read on fake files for each form, on
this host, and in a real cgroup with a quota where the test may make one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.host_resources import (
    MOUNTINFO,
    _cgroup_mounts,
    _cpu_quota,
    available_memory_mib,
    usable_cores,
    usable_cpus,
)

LINUX = hasattr(os, "sched_getaffinity")
pytestmark = pytest.mark.skipif(not LINUX, reason="reads Linux's /proc and cgroups")

MEMINFO = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   8388608 kB\n"
GIB = 1024**3


def affinity() -> int:
    return len(os.sched_getaffinity(0))


def files(folder: Path, contents: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in contents.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text + "\n")
    return folder


class Host:
    """A fake /proc/self/mountinfo, /proc/self/cgroup and the cgroup folders they point at."""

    def __init__(self, tmp_path: Path, mounts: list[tuple[str, str, str, str]], cgroups: str):
        self.root = tmp_path
        lines = [
            f"{30 + i} 23 0:{30 + i} {mount_root} {tmp_path / point} rw - {kind} {kind} {options}"
            for i, (point, mount_root, kind, options) in enumerate(mounts)
        ]
        lines.append(f"99 23 0:99 / {tmp_path / 'proc'} rw - proc proc rw")  # not a cgroup
        self.mountinfo = files(tmp_path, {"mountinfo": "\n".join(lines)}) / "mountinfo"
        self.own = files(tmp_path, {"self-cgroup": cgroups}) / "self-cgroup"

    def write(self, contents: dict[str, str]) -> None:
        files(self.root, contents)

    def cpus(self) -> int:
        return usable_cpus(self.mountinfo, self.own)

    def free_mib(self, meminfo: Path) -> float | None:
        return available_memory_mib(meminfo, self.mountinfo, self.own)


V2 = [("cg", "/", "cgroup2", "rw")]
V1 = [("cg/cpu", "/", "cgroup", "rw,cpu,cpuacct"), ("cg/memory", "/", "cgroup", "rw,memory")]


@pytest.mark.parametrize(
    ("contents", "quota"),
    [
        ({"cpu.max": "200000 100000"}, 2),  # v2: docker --cpus 2
        ({"cpu.max": "150000 100000"}, 2),  # 1.5 CPUs: two processes can share them
        ({"cpu.max": "50000 100000"}, 1),
        ({"cpu.max": "max 100000"}, None),  # v2 without a quota
        ({"cpu.cfs_quota_us": "400000", "cpu.cfs_period_us": "100000"}, 4),  # v1
        ({"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"}, None),
        ({}, None),  # no cgroup files at all
        ({"cpu.max": "garbage"}, None),
    ],
)
def test_the_cpu_quota_is_read_in_whole_cpus(tmp_path, contents, quota):
    assert _cpu_quota(files(tmp_path, contents)) == quota


def test_a_container_quota_bounds_the_affinity(tmp_path):
    host = Host(tmp_path, V2, "0::/\n")
    assert host.cpus() == affinity()  # no quota written yet
    host.write({"cg/cpu.max": "100000 100000"})
    assert host.cpus() == 1
    host.write({"cg/cpu.max": f"{(affinity() + 8) * 100000} 100000"})
    assert host.cpus() == affinity()  # a quota above the CPUs it may run on adds none


def test_the_processs_own_cgroup_and_those_above_it_bind(tmp_path):
    """A systemd unit's CPUQuota= or its slice's is a cgroup below the mount's root, named in
    /proc/self/cgroup; the tightest of the chain binds."""
    host = Host(tmp_path, V1, "4:memory:/\n1:cpu,cpuacct:/system.slice/rag.service\n0::/\n")
    host.write(
        {
            "cg/cpu/system.slice/cpu.cfs_quota_us": "100000",
            "cg/cpu/system.slice/cpu.cfs_period_us": "100000",
            "cg/cpu/system.slice/rag.service/cpu.cfs_quota_us": "300000",
            "cg/cpu/system.slice/rag.service/cpu.cfs_period_us": "100000",
            "cg/cpu/other.slice/cpu.cfs_quota_us": "100000",  # not ours: not read
            "cg/cpu/other.slice/cpu.cfs_period_us": "100000",
        }
    )
    assert host.cpus() == 1  # the slice above the unit allows one
    v2 = Host(tmp_path / "v2", V2, "0::/work/rag\n")
    v2.write({"cg/work/rag/cpu.max": "100000 100000"})
    assert v2.cpus() == 1
    elsewhere = Host(tmp_path / "elsewhere", V2, "0::/elsewhere\n")
    elsewhere.write({"cg/work/rag/cpu.max": "100000 100000"})
    assert elsewhere.cpus() == affinity()


def test_a_mount_showing_a_containers_cgroup_as_its_root_is_read_from_there(tmp_path):
    """A v1 container without its own cgroup namespace sees the host's path of its cgroup
    (/docker/ID), mounted as the root of its /sys/fs/cgroup/cpu."""
    host = Host(
        tmp_path,
        [("cg/cpu", "/docker/abc", "cgroup", "rw,cpu,cpuacct")],
        "1:cpu,cpuacct:/docker/abc/nested\n",
    )
    host.write(
        {"cg/cpu/nested/cpu.cfs_quota_us": "100000", "cg/cpu/nested/cpu.cfs_period_us": "100000"}
    )
    assert host.cpus() == 1
    outside = Host(
        tmp_path / "outside",
        [("cg/cpu", "/docker/abc", "cgroup", "rw,cpu")],
        "1:cpu:/../../escape\n",
    )
    outside.write({"cg/cpu/cpu.cfs_quota_us": "100000", "cg/cpu/cpu.cfs_period_us": "100000"})
    assert outside.cpus() == affinity()  # outside what the mount shows: none of it is ours


def test_a_real_mountinfo_line_with_optional_fields_and_an_escaped_path(tmp_path):
    """The kernel's form: optional fields ("shared:5") before the " - ", a space as \\040."""
    files(tmp_path / "cg with space", {"rag/cpu.max": "100000 100000"})
    escaped = str(tmp_path / "cg with space").replace(" ", "\\040")
    line = f"35 24 0:30 / {escaped} rw,nosuid shared:9 master:2 - cgroup2 cgroup2 rw,nsdelegate"
    mountinfo = files(tmp_path, {"mountinfo": line}) / "mountinfo"
    own = files(tmp_path, {"self-cgroup": "0::/rag"}) / "self-cgroup"
    assert usable_cpus(mountinfo, own) == 1


def test_malformed_lines_are_passed_over(tmp_path):
    host = Host(tmp_path, V2, "0::/work\n\ngarbage\n5:cpu\n")
    host.write({"cg/work/cpu.max": "100000 100000"})
    assert host.cpus() == 1


def test_free_memory_is_meminfos_available_bounded_by_the_cgroup_limit(tmp_path):
    meminfo = files(tmp_path, {"meminfo": MEMINFO}) / "meminfo"
    assert Host(tmp_path / "none", V2, "0::/\n").free_mib(meminfo) == 8192
    v2 = Host(tmp_path / "v2", V2, "0::/\n")
    v2.write({"cg/memory.max": str(4 * GIB), "cg/memory.current": str(GIB)})
    assert v2.free_mib(meminfo) == 3072
    # the page cache of files read counts as used in the cgroup, but is given back on demand
    v2.write({"cg/memory.stat": f"anon {GIB}\ninactive_file {GIB // 2}\nactive_file 1"})
    assert v2.free_mib(meminfo) == 3584
    unlimited = Host(tmp_path / "v2max", V2, "0::/\n")
    unlimited.write({"cg/memory.max": "max", "cg/memory.current": str(GIB)})
    assert unlimited.free_mib(meminfo) == 8192
    v1 = Host(tmp_path / "v1", V1, "4:memory:/\n1:cpu,cpuacct:/\n")
    v1.write(
        {"cg/memory/memory.limit_in_bytes": str(2 * GIB), "cg/memory/memory.usage_in_bytes": "0"}
    )
    assert v1.free_mib(meminfo) == 2048
    v1_none = Host(tmp_path / "v1none", V1, "4:memory:/\n")
    v1_none.write(
        {
            "cg/memory/memory.limit_in_bytes": "9223372036854771712",  # v1's "no limit"
            "cg/memory/memory.usage_in_bytes": str(GIB),
        }
    )
    assert v1_none.free_mib(meminfo) == 8192
    assert Host(tmp_path / "nothing", [], "").free_mib(tmp_path / "absent") is None


def test_cores_count_hyperthreads_of_one_core_once(tmp_path):
    cpus = sorted(os.sched_getaffinity(0))
    siblings = ",".join(map(str, cpus))
    one_core = {f"cpu{cpu}/topology/core_cpus_list": siblings for cpu in cpus}
    assert usable_cores(files(tmp_path / "one", one_core)) == 1
    each_its_own = {f"cpu{cpu}/topology/thread_siblings_list": str(cpu) for cpu in cpus}
    assert usable_cores(files(tmp_path / "own", each_its_own)) == usable_cpus()  # older kernels
    assert usable_cores(tmp_path / "unreadable") == usable_cpus()


def test_this_host_is_read():
    assert 1 <= usable_cores() <= usable_cpus() <= affinity()
    assert available_memory_mib() is not None


ONE_CPU_PROBE = """
import os, sys
with open(sys.argv[1], "w") as procs:
    procs.write(str(os.getpid()))
from rag.config import IngestSettings
from ingest.file_workers import host_capacity, worker_count
print(host_capacity().cpus, worker_count(IngestSettings()))
"""


@contextlib.contextmanager
def cgroup_of_one_cpu():
    """A real cgroup with a quota of one CPU, made in this host's cpu hierarchy (v1's cpu
    controller or v2) and removed after; the test is skipped where none can be made."""
    name = f"rag-test-{os.getpid()}"
    for mount_point, _, hierarchy in _cgroup_mounts(MOUNTINFO, "cpu"):
        folder = Path(mount_point) / name
        if hierarchy == "v2":
            quota = {"cpu.max": "100000 100000"}
        else:
            quota = {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "100000"}
        try:
            folder.mkdir()
        except OSError:
            continue
        try:
            if not (folder / "cgroup.procs").is_file():  # not a cgroup after all
                raise OSError
            for file, value in quota.items():
                with open(folder / file, "r+") as control:  # never created: must exist
                    control.write(value)
        except OSError:
            folder.rmdir()
            continue
        try:
            yield folder / "cgroup.procs"
        finally:
            folder.rmdir()
        return
    pytest.skip("cannot make a cgroup with a CPU quota here (not root, or cgroupfs read-only)")


@pytest.mark.skipif(LINUX and affinity() < 2, reason="needs two CPUs to limit to one")
def test_a_process_under_a_one_cpu_quota_counts_one_cpu_and_runs_one_file_worker():
    """As under `docker run --cpus 1` or a systemd unit's CPUQuota=100%: the affinity still
    lists every CPU, the quota allows one. Made for real where the test may (root and a
    writable cgroupfs, as on this project's CI machines); skipped elsewhere."""
    with cgroup_of_one_cpu() as procs:
        probe = subprocess.run(
            [sys.executable, "-c", ONE_CPU_PROBE, str(procs)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split() == ["1", "1"]
