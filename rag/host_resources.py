"""What this process may use of the host: CPUs and free memory, as a container sees them.

`os.cpu_count()` counts the host's CPUs, also inside a container limited to two of them
(`docker run --cpus 2`, docker-compose's `cpus:`): sizing worker pools by it would start a
process per host CPU. Here the CPUs are the ones the process may run on (its affinity, what
`taskset` and a cpuset set) and no more than its cgroup's CPU quota allows; the memory is
what /proc/meminfo calls available, and no more than the cgroup's limit leaves. Linux reads
both; elsewhere the CPU count is `os.cpu_count()` and the memory unknown (None).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")  # where cgroups are mounted (v2; v1: a folder per controller)
OWN_CGROUPS = Path("/proc/self/cgroup")
MIB = 1024 * 1024
# cgroup v1 writes "no limit" as the largest page-aligned 64-bit number: this large is none.
NO_LIMIT_BYTES = 2**60


def usable_cpus(cgroup: Path = CGROUP, own: Path = OWN_CGROUPS) -> int:
    """The CPUs this process may keep busy at once, at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quotas = [_cpu_quota(folder) for folder in _cgroup_folders(cgroup, own, "cpu")]
    for quota in quotas:
        if quota is not None:
            cpus = min(cpus, quota)
    return max(1, cpus)


def available_memory_mib(
    meminfo: Path = Path("/proc/meminfo"), cgroup: Path = CGROUP, own: Path = OWN_CGROUPS
) -> float | None:
    """Memory the process could still take (MiB), or None where it cannot be read."""
    known = [_meminfo_available(meminfo)]
    known += [_cgroup_memory_left(folder) for folder in _cgroup_folders(cgroup, own, "memory")]
    known = [value for value in known if value is not None]
    return min(known) if known else None


def _cgroup_folders(cgroup: Path, own: Path, controller: str) -> list[Path]:
    """The folders whose limits bind this process for `controller`: its own cgroup and each
    one above it, for cgroup v2 (`cgroup/<path>`) and v1 (`cgroup/<controller>/<path>`).

    /proc/self/cgroup names the process's cgroups: "0::/path" (v2), "4:memory:/path" or
    "1:cpu,cpuacct:/path" (v1). Inside a container it says "/", so the mount's own files
    are read; a systemd unit's CPUQuota= is a cgroup further down, found by its path."""
    try:
        lines = own.read_text().splitlines()
    except OSError:
        lines = []
    paths = {"v2": "/", "v1": "/"}
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controllers == "":
            paths["v2"] = path or "/"
        elif controller in controllers.split(","):
            paths["v1"] = path or "/"
    folders = []
    for root, path in ((cgroup, paths["v2"]), (cgroup / controller, paths["v1"])):
        folder = root.joinpath(*Path(path).parts[1:])
        while True:
            folders.append(folder)
            if folder == root or not folder.is_relative_to(root):
                break
            folder = folder.parent
    return folders


def _cpu_quota(cgroup: Path) -> int | None:
    """The CPU quota of the cgroup folder `cgroup` in whole CPUs (rounded up), or None.

    cgroup v2: cpu.max holds "QUOTA PERIOD" or "max PERIOD"; v1 (the cpu controller's
    folder): cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us."""
    v2 = _read(cgroup / "cpu.max")
    if v2 is not None:
        parts = v2.split()
        if len(parts) == 2 and parts[0] != "max":
            return _ceil_ratio(parts[0], parts[1])
        return None
    quota = _read(cgroup / "cpu.cfs_quota_us")
    period = _read(cgroup / "cpu.cfs_period_us")
    if quota is None or period is None or quota.strip() == "-1":
        return None
    return _ceil_ratio(quota, period)


def _ceil_ratio(quota: str, period: str) -> int | None:
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:
        return None
    if quota_us <= 0 or period_us <= 0:
        return None
    return max(1, math.ceil(quota_us / period_us))


def _meminfo_available(meminfo: Path) -> float | None:
    text = _read(meminfo)
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            try:
                return int(line.split()[1]) / 1024  # kB
            except (IndexError, ValueError):
                return None
    return None


def _cgroup_memory_left(cgroup: Path) -> float | None:
    """The memory limit of the cgroup folder `cgroup` less what it uses, or None without one.

    cgroup v2: memory.max ("max": none) and memory.current; v1 (the memory controller's
    folder): memory.limit_in_bytes (a number near 2**63 when there is none) and
    memory.usage_in_bytes."""
    limit, used = _read(cgroup / "memory.max"), _read(cgroup / "memory.current")
    if limit is None:
        limit = _read(cgroup / "memory.limit_in_bytes")
        used = _read(cgroup / "memory.usage_in_bytes")
    if limit is None or used is None or limit.strip() == "max":
        return None
    try:
        limit_bytes, used_bytes = int(limit), int(used)
    except ValueError:
        return None
    if limit_bytes >= NO_LIMIT_BYTES:
        return None
    return max(0, limit_bytes - used_bytes) / MIB


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
