"""Terminal charts: a row of block characters, for the places a person expects a picture in a terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence

_BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    """One block character per value on a linear scale: ``▁▂▁█▁▁``.

    Zero is the lowest block, any non-zero value at least the second lowest, so "no rows" and "a few rows"
    stay distinguishable next to a spike ten thousand times taller (the point of the chart).
    """
    top = max(values, default=0)
    out = []
    for value in values:
        if value <= 0 or top <= 0:
            out.append(_BLOCKS[1])
        else:
            out.append(_BLOCKS[max(2, math.ceil(value / top * (len(_BLOCKS) - 1)))])
    return "".join(out)
