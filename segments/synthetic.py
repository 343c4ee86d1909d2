"""A national-size synthetic input for the benchmark: OAs x variables with a three-level
structure (8 supergroups, about 3 groups each, about 2-3 subgroups each), like the 2021 OAC.

In the standardised space each OA is  z = clip(s + g + u + e, 0, 1)  with a supergroup centre
s ~ U(0.3, 0.7)^p, group and subgroup offsets g ~ N(0, 0.06^2), u ~ N(0, 0.04^2) and OA noise
e ~ N(0, noise^2).  The values handed to the build are percentages  x = sinh(z * asinh(100)),
so the build's asinh and range standardisation recover (up to the range) the same space.
Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def national_values(n: int = 190_000, p: int = 60, seed: int = 2021, noise: float = 0.12
                    ) -> pd.DataFrame:
    """DataFrame n OAs (``E9...`` codes) x p variables (``v01``..), values 0..100."""
    rng = np.random.default_rng(seed)
    centres = []
    for _ in range(8):
        s = rng.uniform(0.3, 0.7, p)
        for _ in range(int(rng.integers(2, 5))):
            g = s + rng.normal(0, 0.06, p)
            for _ in range(int(rng.integers(2, 4))):
                centres.append(g + rng.normal(0, 0.04, p))
    centres = np.array(centres)
    weights = rng.dirichlet(np.full(len(centres), 5.0))
    which = rng.choice(len(centres), size=n, p=weights)
    z = np.clip(centres[which] + rng.normal(0, noise, (n, p)), 0.0, 1.0)
    values = np.sinh(z * np.arcsinh(100.0))
    index = pd.Index([f"E9{i:07d}" for i in range(n)], name="oa21cd")
    return pd.DataFrame(values, index=index, columns=[f"v{j + 1:02d}" for j in range(p)])
