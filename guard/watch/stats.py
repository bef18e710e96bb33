"""Small-sample honesty: the Wilson score interval for a proportion.

The incident's anomaly detector fired at "75% zero invoices" on 8 jobs; the 95% interval on that sample
is 41%-93%, which contains the 70% alarm threshold. The Wilson interval (unlike the normal approximation)
stays inside [0, 1] and behaves at tiny n and at rates near 0 or 1, so it is the one to alarm on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Proportion:
    successes: int
    n: int
    rate: float | None  # None when n == 0
    lower: float
    upper: float
    confidence: float


def z_for(confidence: float) -> float:
    """Two-sided critical value: 0.95 -> 1.95996..."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """Wilson score interval for ``successes`` out of ``n``; with ``n == 0`` the interval is [0, 1]."""
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return Proportion(successes=0, n=0, rate=None, lower=0.0, upper=1.0, confidence=confidence)
    z = z_for(confidence)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return Proportion(
        successes=successes,
        n=n,
        rate=p,
        lower=max(0.0, center - half_width),
        upper=min(1.0, center + half_width),
        confidence=confidence,
    )
