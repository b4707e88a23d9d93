"""What an instance offers to pods: Kubernetes quantities and the EKS kubelet reservation.

Facts about instances, beside their lookups in the knowledge tables; the stage rules and
the completion step (`complete.py`) ask here, so the arithmetic exists once.
"""

from __future__ import annotations

import re

from envparity.core.knowledge import Instance

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTOR = {
    None: 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def quantity(text: str) -> float:
    """A Kubernetes quantity ('500m', '16Gi', '8') as a number (cores or bytes)."""
    found = _QUANTITY.match(text)
    if not found:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return float(found[1]) * _FACTOR[found[2]]


def allocatable(info: Instance) -> tuple[float, float]:
    """(CPU cores, memory bytes) an EKS node of this type offers to pods.

    The EKS AMI's kubelet reservation (amazon-eks-ami nodeadm): kube-reserved CPU is 6% of
    the first core, 1% of the second, 0.5% of the third and fourth and 0.25% of the rest;
    kube-reserved memory is 11 MiB x maxPods + 255 MiB; eviction keeps 100 MiB free.
    """
    millicores = info.vcpus * 1000
    reserved = 0.0
    for start, end, share in ((0, 1000, 0.06), (1000, 2000, 0.01), (2000, 4000, 0.005)):
        reserved += max(0, min(millicores, end) - start) * share
    reserved += max(0, millicores - 4000) * 0.0025
    memory_mib = info.memory_mib - (11 * info.max_pods + 255) - 100
    return (millicores - reserved) / 1000, memory_mib * 2**20
