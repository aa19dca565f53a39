"""Growth of filings: the one definition every table and report uses.

Growth compares the ``window`` filing years up to ``last_year`` (*recent*) with the
``window`` years before them (*before*): ``(recent − before) / before``, undefined (NaN)
when nothing was filed before. Imports nothing of the package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["windows", "growth_rate"]


def windows(years, last_year: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the rows whose year lies in the recent window and in the window before.

    Examples
    --------
    >>> recent, before = windows([2018, 2019, 2020, 2021, 2022], 2022, 2)
    >>> recent.tolist(), before.tolist()
    ([False, False, False, True, True], [False, True, True, False, False])
    """
    y = pd.to_numeric(pd.Series(years), errors="coerce")
    return (y.between(last_year - window + 1, last_year).to_numpy(bool),
            y.between(last_year - 2 * window + 1, last_year - window).to_numpy(bool))


def growth_rate(recent, before):
    """``(recent − before) / before``; NaN where ``before`` is 0. Numbers or Series.

    Examples
    --------
    >>> growth_rate(3, 2), growth_rate(5, 0)
    (0.5, nan)
    >>> growth_rate(pd.Series([1, 4]), pd.Series([2, 0])).tolist()
    [-0.5, nan]
    """
    if isinstance(recent, pd.Series) or isinstance(before, pd.Series):
        before = pd.Series(before, dtype="float64") if not isinstance(before, pd.Series) else before.astype("float64")
        return ((recent - before) / before.where(before > 0)).astype("float64")
    return float((recent - before) / before) if before else np.nan
