"""Admitting local task attempts the way kube-scheduler admits pods: by requested CPU and memory.

A task's request is its container's `resources` requests (`set_cpu_request` / `set_memory_request`; a limit
alone counts as the request, as Kubernetes defaults it), with `DEFAULT_REQUEST` for a dimension it leaves
unset. An attempt starts when its request fits in what the machine's capacity (`machine_capacity`: CPU count,
total memory) leaves after the running attempts' requests; a task that asks for more than the whole machine
can never start, and is refused with a message naming both.

So I/O-bound fan-outs of small tasks run together, and heavy tasks never oversubscribe what they asked for.
Requests are a reservation, not a limit: nothing throttles a task that uses more than it asked for.
Pure bookkeeping, no locking: the executor calls it with its own lock held.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from chalicelib.executors.k8s.resources import ResourceSpecError, container_resources

MEMINFO = Path("/proc/meminfo")
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


@dataclasses.dataclass(frozen=True)
class Resources:
    """An amount of CPU (millicores) and memory (bytes)."""

    cpu_millis: int
    memory_bytes: int

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu_millis + other.cpu_millis, self.memory_bytes + other.memory_bytes)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cpu_millis - other.cpu_millis, self.memory_bytes - other.memory_bytes)

    def fits_in(self, available: Resources) -> bool:
        return self.cpu_millis <= available.cpu_millis and self.memory_bytes <= available.memory_bytes

    def describe(self) -> str:
        return f"{format_cpu(self.cpu_millis)} CPU and {format_memory(self.memory_bytes)} memory"


NOTHING = Resources(0, 0)
# What a task that requests nothing is counted as: small, so fan-outs of light tasks run together.
DEFAULT_REQUEST = Resources(cpu_millis=100, memory_bytes=64 * 2**20)


def parse_quantity(text: str) -> Decimal:
    """A Kubernetes quantity (`500m`, `2`, `1.5Gi`, `64M`, `1e3`) as a number of base units."""
    match = _QUANTITY.match(text.strip())
    if match is None or match.group(2) not in _SUFFIXES:
        raise ResourceSpecError(f"{text!r} is not a resource quantity")
    try:
        value = Decimal(match.group(1)) * _SUFFIXES[match.group(2)]
    except InvalidOperation as error:
        raise ResourceSpecError(f"{text!r} is not a resource quantity") from error
    if value < 0:
        raise ResourceSpecError(f"{text!r} is negative")
    return value


def format_cpu(millis: int) -> str:
    return f"{millis / 1000:g}"


def format_memory(size: int) -> str:
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor:
            return f"{size / factor:.4g}{unit}"
    return f"{size}"


def requested_resources(container: Mapping[str, Any], parameters: Mapping[str, Any]) -> Resources:
    """The CPU and memory a container task requests (see the module docstring). Raises ResourceSpecError
    for a value that is not a quantity."""
    block = container_resources(container.get("resources"), parameters)
    requests, limits = block.get("requests", {}), block.get("limits", {})
    cpu = requests.get("cpu") or limits.get("cpu")
    memory = requests.get("memory") or limits.get("memory")
    return Resources(
        cpu_millis=int(parse_quantity(cpu) * 1000) if cpu else DEFAULT_REQUEST.cpu_millis,
        memory_bytes=int(parse_quantity(memory)) if memory else DEFAULT_REQUEST.memory_bytes,
    )


def machine_capacity() -> Resources:
    """This machine's CPUs and total memory (MemTotal of /proc/meminfo, else physical pages × page size)."""
    return Resources(cpu_millis=(os.cpu_count() or 1) * 1000, memory_bytes=_total_memory())


def _total_memory() -> int:
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


class Admission:
    """What is reserved of `capacity` by running attempts."""

    def __init__(self, capacity: Resources) -> None:
        self.capacity = capacity
        self.reserved = NOTHING

    def refusal(self, request: Resources) -> str:
        """Why `request` can never be admitted here ('' when it could)."""
        if request.fits_in(self.capacity):
            return ""
        return (
            f"the task requests {request.describe()}, more than this machine has ({self.capacity.describe()}); "
            "lower its set_cpu_request/set_memory_request (or limits), or run it on Kubernetes"
        )

    def fits(self, request: Resources) -> bool:
        return request.fits_in(self.capacity - self.reserved)

    def reserve(self, request: Resources) -> None:
        self.reserved = self.reserved + request

    def release(self, request: Resources) -> None:
        self.reserved = self.reserved - request
