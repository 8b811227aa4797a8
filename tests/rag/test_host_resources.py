"""The CPUs and memory this process may use, as a container sees them: its affinity, a cgroup's
CPU quota and memory limit (v1 and v2), /proc/meminfo. Read on fake cgroup folders for each
form, and on this host."""

from __future__ import annotations

import os

import pytest

from rag.host_resources import _cpu_quota, available_memory_mib, usable_cpus

MEMINFO = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   8388608 kB\n"


def cgroup(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text + "\n")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "200000 100000"}, 2),  # v2: docker --cpus 2
        ({"cpu.max": "150000 100000"}, 2),  # 1.5 CPUs: two processes can share them
        ({"cpu.max": "50000 100000"}, 1),
        ({"cpu.max": "max 100000"}, None),  # v2 without a quota
        ({"cpu/cpu.cfs_quota_us": "400000", "cpu/cpu.cfs_period_us": "100000"}, 4),  # v1
        ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),
        ({}, None),  # no cgroup files at all (not Linux, or not mounted)
        ({"cpu.max": "garbage"}, None),
    ],
)
def test_the_cpu_quota_is_read_in_whole_cpus(tmp_path, files, quota):
    assert _cpu_quota(cgroup(tmp_path, files)) == quota


def test_the_usable_cpus_are_the_affinity_bounded_by_the_quota(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    assert usable_cpus(cgroup(tmp_path / "none", {})) == affinity
    one = cgroup(tmp_path / "one", {"cpu.max": "100000 100000"})
    assert usable_cpus(one) == 1
    many = cgroup(tmp_path / "many", {"cpu.max": f"{(affinity + 8) * 100000} 100000"})
    assert usable_cpus(many) == affinity  # a quota above the CPUs it may run on adds none


def test_free_memory_is_meminfos_available_bounded_by_the_cgroup_limit(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(MEMINFO)
    assert available_memory_mib(meminfo, cgroup(tmp_path / "none", {})) == 8192
    gib = 1024**3
    v2 = cgroup(tmp_path / "v2", {"memory.max": str(4 * gib), "memory.current": str(gib)})
    assert available_memory_mib(meminfo, v2) == 3072
    unlimited = cgroup(tmp_path / "v2max", {"memory.max": "max", "memory.current": str(gib)})
    assert available_memory_mib(meminfo, unlimited) == 8192
    v1 = cgroup(
        tmp_path / "v1",
        {"memory/memory.limit_in_bytes": str(2 * gib), "memory/memory.usage_in_bytes": "0"},
    )
    assert available_memory_mib(meminfo, v1) == 2048
    v1_none = cgroup(
        tmp_path / "v1none",
        {
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "memory/memory.usage_in_bytes": str(gib),
        },
    )
    assert available_memory_mib(meminfo, v1_none) == 8192
    assert available_memory_mib(tmp_path / "absent", cgroup(tmp_path / "empty", {})) is None


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="reads Linux's /proc")
def test_this_host_is_read():
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
    free = available_memory_mib()
    assert free is not None and free > 0
