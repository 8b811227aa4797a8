"""What this process may use of the host: CPUs and free memory, as a container or a systemd unit
limits them.

`os.cpu_count()` counts the host's CPUs, also inside a container limited to two of them
(`docker run --cpus 2`, docker-compose's `cpus:`) or a unit with `CPUQuota=200%`: sizing
worker pools and thread pools by it would start a process or thread per host CPU. Here the CPUs
are the ones the process may run on (its affinity, what `taskset` and a cpuset set), no more
than the CPU quota of its cgroup and of each cgroup above it allows; the memory is what
/proc/meminfo calls available, no more than those cgroups' limits leave. Linux reads both
(cgroup v1 and v2, found through /proc/self/mountinfo and /proc/self/cgroup); elsewhere the CPU
count is `os.cpu_count()` and the memory unknown (None).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
MEMINFO = Path("/proc/meminfo")
MOUNTINFO = Path("/proc/self/mountinfo")
OWN_CGROUPS = Path("/proc/self/cgroup")
CPU_TOPOLOGY = Path("/sys/devices/system/cpu")
MIB = 1024 * 1024
# cgroup v1 writes "no limit" as the largest page-aligned 64-bit number: this large is none.
NO_LIMIT_BYTES = 2**60


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The CPU's instruction-set flags as the kernel names them ("avx2", "avx512_vnni",
    "amx_int8"); empty where /proc/cpuinfo is not there (not Linux)."""
    text = _read(cpuinfo) or ""
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def usable_cpus(mountinfo: Path = MOUNTINFO, own: Path = OWN_CGROUPS) -> int:
    """The CPUs this process may keep busy at once, at least 1. A quota of 1.5 CPUs counts 2:
    two processes then share them, each busy three quarters of the time."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    for folder in _cgroup_folders("cpu", mountinfo, own):
        quota = _cpu_quota(folder)
        if quota is not None:
            cpus = min(cpus, quota)
    return max(1, cpus)


def usable_cores(topology: Path = CPU_TOPOLOGY) -> int:
    """The physical cores under the CPUs this process may use, no more than `usable_cpus`.

    Two hyperthreads of a core share its arithmetic units: a compute-bound thread pool (the
    embedder's) gains little from the second, so it takes one thread per core, as ONNX
    Runtime and OpenVINO do by default. Where the topology cannot be read, `usable_cpus`."""
    cpus = usable_cpus()
    try:
        affinity = os.sched_getaffinity(0)
    except AttributeError:  # not Linux
        return cpus
    cores = set()
    for cpu in affinity:
        # The kernel's own grouping of a core's hyperthreads (thread_siblings_list before 5.7).
        folder = topology / f"cpu{cpu}" / "topology"
        siblings = _read(folder / "core_cpus_list") or _read(folder / "thread_siblings_list")
        if siblings is None:
            return cpus
        cores.add(siblings.strip())
    return max(1, min(cpus, len(cores)))


def available_memory_mib(
    meminfo: Path = MEMINFO, mountinfo: Path = MOUNTINFO, own: Path = OWN_CGROUPS
) -> float | None:
    """Memory the process could still take (MiB), or None where it cannot be read."""
    known = [_meminfo_available(meminfo)]
    known += [_cgroup_memory_left(folder) for folder in _cgroup_folders("memory", mountinfo, own)]
    known = [value for value in known if value is not None]
    return min(known) if known else None


def _cgroup_folders(controller: str, mountinfo: Path, own: Path) -> list[Path]:
    """The folders whose limits bind this process for `controller`: its own cgroup's and each
    one's above it up to the mount, in the v1 hierarchy of `controller` and in v2.

    /proc/self/cgroup names the process's cgroup per hierarchy ("0::/path" for v2,
    "4:memory:/path" or "1:cpu,cpuacct:/path" for v1); mountinfo says where each hierarchy
    is mounted and which of its cgroups the mount shows as its root (a container's own, when
    it sees the host's paths)."""
    member_of = _memberships(own)
    folders: list[Path] = []
    for mount_point, mount_root, hierarchy in _cgroup_mounts(mountinfo, controller):
        path = member_of.get(hierarchy)
        if path is not None:
            folders += _chain(Path(mount_point), mount_root, path)
    return folders


def _memberships(own: Path) -> dict[str, str]:
    """hierarchy ("v2" or a v1 controller) -> the process's cgroup path in it."""
    member_of: dict[str, str] = {}
    for line in (_read(own) or "").splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        hierarchy_id, controllers, path = fields
        if hierarchy_id == "0" and controllers == "":
            member_of["v2"] = path
        else:
            for controller in controllers.split(","):
                member_of[controller] = path
    return member_of


def _cgroup_mounts(mountinfo: Path, controller: str) -> list[tuple[str, str, str]]:
    """(mount point, the cgroup it shows as its root, "v2" or `controller`) of the cgroup
    mounts: the v2 ones and the v1 ones holding `controller`."""
    mounts = []
    for line in (_read(mountinfo) or "").splitlines():
        mount, _, filesystem = line.partition(" - ")
        fields, kind = mount.split(), filesystem.split()
        if len(fields) < 5 or len(kind) < 3:
            continue
        mount_root, mount_point = _unescape(fields[3]), _unescape(fields[4])
        if kind[0] == "cgroup2":
            mounts.append((mount_point, mount_root, "v2"))
        elif kind[0] == "cgroup" and controller in kind[2].split(","):
            mounts.append((mount_point, mount_root, controller))
    return mounts


def _unescape(field: str) -> str:
    """mountinfo writes a space, tab, newline or backslash in a path as octal (\\040)."""
    return re.sub(r"\\([0-7]{3})", lambda found: chr(int(found[1], 8)), field)


def _chain(mount_point: Path, mount_root: str, path: str) -> list[Path]:
    """The folder of cgroup `path` under a mount showing `mount_root`, and each one above it
    up to the mount point; none where `path` lies outside what the mount shows (a cgroup
    namespace's "/.." paths, another subtree): no folder there is the process's."""
    root = mount_root.rstrip("/")
    if path != root and not path.startswith(root + "/"):
        return []
    parts = [part for part in path[len(root) :].split("/") if part]
    if ".." in parts:
        return []
    return [mount_point.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _cpu_quota(cgroup: Path) -> int | None:
    """The CPU quota of the cgroup folder `cgroup` in whole CPUs (rounded up), or None.

    cgroup v2: cpu.max holds "QUOTA PERIOD" or "max PERIOD"; v1: cpu.cfs_quota_us (-1: none)
    and cpu.cfs_period_us."""
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
    kib = _number(meminfo, "MemAvailable:")
    return None if kib is None else kib / 1024


def _cgroup_memory_left(cgroup: Path) -> float | None:
    """The memory limit of the cgroup folder `cgroup` less what it uses, or None without one.

    cgroup v2: memory.max ("max": none) and memory.current; v1: memory.limit_in_bytes (a
    number near 2**63 when there is none) and memory.usage_in_bytes. Both count the page
    cache of files read, which the kernel gives back when needed: its inactive part
    (memory.stat) is not counted as used, as /proc/meminfo's MemAvailable does not."""
    limit, used = _read(cgroup / "memory.max"), _read(cgroup / "memory.current")
    cache_field = "inactive_file"
    if limit is None:
        limit = _read(cgroup / "memory.limit_in_bytes")
        used = _read(cgroup / "memory.usage_in_bytes")
        cache_field = "total_inactive_file"
    if limit is None or used is None or limit.strip() == "max":
        return None
    try:
        limit_bytes, used_bytes = int(limit), int(used)
    except ValueError:
        return None
    if limit_bytes >= NO_LIMIT_BYTES:
        return None
    used_bytes -= _number(cgroup / "memory.stat", cache_field) or 0
    return max(0, limit_bytes - used_bytes) / MIB


def _number(path: Path, key: str) -> int | None:
    """The number after `key` on its line of a "key value [unit]" file (meminfo, memory.stat)."""
    for line in (_read(path) or "").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == key:
            try:
                return int(words[1])
            except ValueError:
                return None
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
