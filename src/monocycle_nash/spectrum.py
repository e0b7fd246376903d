"""The spectrum of a skew-symmetric game: the levels sigma_1 > sigma_2 > ... of its matrix.

A real skew-symmetric matrix A (``A^T = -A``) has eigenvalues ``±i sigma_k`` and zeros.
Its *moduli* are the n values ``|Im lambda|`` in descending order (each ``sigma_k``
twice, then the zeros); its *levels* are the distinct positive ones. Distinctness and
zero are decided with a tolerance relative to ``sigma_1`` (``relative_tolerance``,
default 1e-9), never an absolute one. ``sigma_2 / sigma_1`` measures how far the game is
from a monocycle (rank 2) game: when ``sigma_1`` is a simple level it is the relative
spectral-norm error of the best rank-2 approximation.

Two methods, both standard library only:

- **Matrices** (``householder-ql``), O(n^3): orthogonal Householder reflections reduce
  the skew-symmetric matrix to skew tridiagonal form (a similarity, so the spectrum is
  kept; each step is a rank-2 update ``A + beta (v w^T - w v^T)`` with ``w = A v``). A
  skew tridiagonal matrix with superdiagonal ``e`` is similar to ``i S``, S the
  symmetric tridiagonal matrix with zero diagonal and off-diagonal ``e``, whose
  eigenvalues (``±sigma_k``) the implicit QL method with Wilkinson shifts finds to about
  ``n eps sigma_1``. The matrix is first scaled by a power of two (exact) so that no
  product overflows.
- **Rosters** (``roster-rank4``), O(n) without building the matrix:
  ``A = p 1^T - 1 p^T + x y^T - y x^T`` has rank at most 4. Translating every vector by
  the mean vector m (``p -> p + v x m``, ``v -> v - m``: the same matrix) centres x and y;
  with ``p~`` the centred translated powers, A is ``sqrt(n) (p~ u0^T - u0 p~^T) + D (q1
  q2^T - q2 q1^T)`` in an orthonormal basis ``u0 = 1 / sqrt(n)``, ``q1, q2`` of the
  centred vectors (D their area, ``|xc| |y_perp|``) and ``q3`` (the part of p~ off their
  plane, of length ``rho``). A 4 x 4 skew-symmetric matrix splits into two 3-vectors
  ``u`` (row 0) and ``w`` (its dual) with ``sigma = (|u + w| ± |u - w|) / 2``, so
  ``sigma_1 = (a + b) / 2`` and ``sigma_2 = 2 sqrt(n) rho D / (a + b)`` with
  ``a, b = sqrt(n c^2 + (sqrt(n) rho ± D)^2)``: no cancellation, and ``rho`` and ``D``
  are norms of explicit residuals (not differences of Gram entries), so a roster whose
  powers lie in the span of its vectors gets ``sigma_2`` of round-off size, not
  ``sqrt(eps)``.

A game that is not skew-symmetric (within ``SKEW_TOLERANCE`` times ``max |A|``) has no
spectrum: ``spectrum_of`` raises ``NotSkewSymmetricError``, whose message is one line
saying why. An almost skew-symmetric matrix is taken as its skew part ``(A - A^T) / 2``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from operator import add, mul

from monocycle_nash.character import MAX_COORDINATE, MAX_POWER
from monocycle_nash.game import Game
from monocycle_nash.matrix import PayoffMatrix

__all__ = [
    "RELATIVE_TOLERANCE",
    "SKEW_TOLERANCE",
    "NotSkewSymmetricError",
    "Spectrum",
    "roster_spectrum",
    "skew_symmetry_defect",
    "spectrum_of",
]

RELATIVE_TOLERANCE = 1e-9
"""Default tolerance of levels, relative to ``sigma_1``: moduli within it of 0 are 0,
levels closer than it are one level."""

SKEW_TOLERANCE = 1e-9
"""``A`` is skew-symmetric when every ``|A[i][j] + A[j][i]|`` is at most this times ``max |A|``."""

_QL_ITERATIONS = 60  # per eigenvalue; implicit QL needs 2-3
# Rosters: a level below this share of the bound on |A|_2 is round-off of 0 (the O(n)
# method cannot tell it apart, unlike the matrix method, whose zero matrix is exact).
_ROUNDOFF = 64 * 2.0**-52
_SAFE_LOW, _SAFE_HIGH = 2.0**-400, 2.0**400  # no scaling needed for a norm bound between
_CANCELLATION = 0.5  # orthogonalise again when a pass leaves less than this share
_PIVOT = 1.0 / 64.0  # the Gram route is taken when no squared pivot loses more than this


class NotSkewSymmetricError(ValueError):
    """The game is not skew-symmetric, so it has no spectrum; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def summary_line(self) -> str:
        """One console line: ``Spectrum: none, not skew-symmetric: ...``."""
        return f"Spectrum: none, {self.reason}"


@dataclass(frozen=True, slots=True)
class Spectrum:
    """The spectrum of an n x n skew-symmetric game.

    ``moduli`` are the n values ``|Im lambda|`` in descending order (computed ones; those
    within ``tolerance`` of 0 are written 0.0), ``levels`` the distinct positive ones
    (each the mean of the moduli it groups) and ``multiplicities`` how many eigenvalue
    pairs ``±i sigma`` each level has. ``rank`` is the number of nonzero moduli (even).
    ``tolerance`` is the absolute tolerance used, ``relative_tolerance * sigma_1`` (0 for
    the zero matrix). ``method`` is ``"householder-ql"`` or ``"roster-rank4"``.
    """

    size: int
    moduli: tuple[float, ...]
    levels: tuple[float, ...]
    multiplicities: tuple[int, ...]
    rank: int
    tolerance: float
    relative_tolerance: float
    method: str

    @property
    def ratio2_to_1(self) -> float | None:
        """``sigma_2 / sigma_1``, or None with fewer than two levels."""
        return self.levels[1] / self.levels[0] if len(self.levels) > 1 else None

    @property
    def ratio3_to_1(self) -> float | None:
        """``sigma_3 / sigma_1``, or None with fewer than three levels."""
        return self.levels[2] / self.levels[0] if len(self.levels) > 2 else None

    @property
    def dominant_gap(self) -> float | None:
        """``sigma_1 / sigma_2``, or None with fewer than two levels."""
        return self.levels[0] / self.levels[1] if len(self.levels) > 1 else None

    def to_json(self) -> dict[str, object]:
        """The contents of ``spectrum.json`` (RESEARCH.md section 2): finite numbers and
        nulls only, never NaN or infinity."""
        return {
            "size": self.size,
            "levels": list(self.levels),
            "multiplicities": list(self.multiplicities),
            "moduli": list(self.moduli),
            "rank": self.rank,
            "ratio2_to_1": self.ratio2_to_1,
            "ratio3_to_1": self.ratio3_to_1,
            "dominant_gap": self.dominant_gap,
            "tolerance": self.tolerance,
            "relative_tolerance": self.relative_tolerance,
            "method": self.method,
        }

    def summary_line(self, shown: int = 3) -> str:
        """One console line: the top ``shown`` levels, the rank and ``sigma_2 / sigma_1``.

        e.g. ``Spectrum: levels 1.98099, 0.820868, 0.0288262 (rank 6); sigma2/sigma1 0.414372``.
        """
        if not self.levels:
            return "Spectrum: the zero matrix (no levels, rank 0)"
        text = ", ".join(f"{level:.6g}" for level in self.levels[:shown])
        if len(self.levels) > shown:
            text += f", ... ({len(self.levels)} levels)"
        ratio = self.ratio2_to_1
        tail = "single level" if ratio is None else f"sigma2/sigma1 {ratio:.6g}"
        return f"Spectrum: levels {text} (rank {self.rank}); {tail}"


def spectrum_of(
    game: Game | PayoffMatrix | Sequence[Sequence[float | Fraction]],
    *,
    relative_tolerance: float = RELATIVE_TOLERANCE,
) -> Spectrum:
    """Return the spectrum of a skew-symmetric game (module docstring).

    A roster ``Game`` takes O(n) and never builds its matrix; a matrix (a ``Game``, a
    ``PayoffMatrix`` or rows of floats or Fractions, e.g. an exact team game's) takes
    O(n^3). Raise ``NotSkewSymmetricError`` (one-line reason) when the matrix is not
    skew-symmetric within ``SKEW_TOLERANCE``, and ``ValueError`` when
    ``relative_tolerance`` is not in (0, 1) or the rows are not a non-empty square table.
    """
    _check_tolerance(relative_tolerance)
    if isinstance(game, Game) and game.characters is not None:
        powers, xs, ys = game.arrays
        return _roster_spectrum(powers, xs, ys, relative_tolerance)
    labels: Sequence[str] | None = None
    if isinstance(game, Game):
        game = game.matrix
    if isinstance(game, PayoffMatrix):
        labels = game.labels
        game = game.rows
    rows = [[float(value) for value in row] for row in game]
    size = len(rows)
    if size == 0 or any(len(row) != size for row in rows):
        raise ValueError("a spectrum needs a non-empty square matrix")
    if not all(map(math.isfinite, chain.from_iterable(rows))):
        raise ValueError("a spectrum needs finite payoffs")
    reason = skew_symmetry_defect(rows, labels)
    if reason is not None:
        raise NotSkewSymmetricError(reason)
    pairs = _skew_pair_moduli(rows)
    return _assemble(size, pairs, relative_tolerance, "householder-ql")


def roster_spectrum(
    powers: Sequence[float],
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    relative_tolerance: float = RELATIVE_TOLERANCE,
) -> Spectrum:
    """The spectrum of the roster ``(p_i, (x_i, y_i))`` given as parallel columns, in O(n)
    without its matrix (as ``spectrum_of`` does for a roster ``Game``)."""
    _check_tolerance(relative_tolerance)
    if not len(powers) == len(xs) == len(ys) or not powers:
        raise ValueError("a roster's columns p, x and y must be non-empty and of one length")
    if not (
        all(map(math.isfinite, chain(powers, xs, ys)))
        and max(map(abs, powers)) <= MAX_POWER
        and max(map(abs, chain(xs, ys))) <= MAX_COORDINATE
    ):
        raise ValueError(
            f"a roster's columns must hold finite numbers, |p| <= {MAX_POWER:g} and "
            f"|x|, |y| <= {MAX_COORDINATE:g}"
        )
    return _roster_spectrum(powers, xs, ys, relative_tolerance)


def _check_tolerance(relative_tolerance: float) -> None:
    if (
        isinstance(relative_tolerance, bool)
        or not isinstance(relative_tolerance, int | float)
        or not 0.0 < relative_tolerance < 1.0
    ):
        raise ValueError(
            f"the spectrum's relative tolerance must be in (0, 1), got {relative_tolerance!r}"
        )


def skew_symmetry_defect(
    rows: Sequence[Sequence[float]],
    labels: Sequence[str] | None = None,
    *,
    relative_tolerance: float = SKEW_TOLERANCE,
) -> str | None:
    """Return None if ``rows`` is skew-symmetric within ``relative_tolerance * max |A|``,
    else a one-line reason naming its worst pair (by label when ``labels`` are given)."""
    largest = max((max(map(abs, row)) for row in rows), default=0.0)
    limit = relative_tolerance * largest
    worst, where = -1.0, (0, 0)
    for i, (row, column) in enumerate(zip(rows, zip(*rows, strict=True), strict=True)):
        sums = list(map(abs, map(add, row, column)))
        j = max(range(i, len(sums)), key=sums.__getitem__)
        if sums[j] > worst:
            worst, where = sums[j], (i, j)
    if worst <= limit:
        return None
    i, j = where

    def name(k: int) -> str:
        return str(k) if labels is None else repr(labels[k])

    if i == j:
        detail = f"A[{name(i)}][{name(i)}] = {rows[i][i]:.6g} is not 0"
    else:
        detail = (
            f"A[{name(i)}][{name(j)}] = {rows[i][j]:.6g} but "
            f"A[{name(j)}][{name(i)}] = {rows[j][i]:.6g}"
        )
    return (
        f"not skew-symmetric: {detail}; tolerance {limit:.3g} ({relative_tolerance:g} of max |A|)"
    )


# --- assembling the result ------------------------------------------------------------


def _assemble(
    size: int, pairs: Sequence[float], relative_tolerance: float, method: str
) -> Spectrum:
    """The spectrum of a size x size matrix whose eigenvalues are ``±i pairs[k]`` and
    zeros (``pairs`` may leave out any zero pair)."""
    top = max(pairs, default=0.0)
    tolerance = relative_tolerance * top
    sigmas = sorted((s for s in pairs if s > tolerance), reverse=True)
    moduli = [s for s in sigmas for _ in range(2)]
    moduli += [0.0] * (size - len(moduli))
    levels: list[float] = []
    multiplicities: list[int] = []
    group: list[float] = []
    for sigma in sigmas:
        if group and group[-1] - sigma > tolerance:
            levels.append(math.fsum(group) / len(group))
            multiplicities.append(len(group))
            group = []
        group.append(sigma)
    if group:
        levels.append(math.fsum(group) / len(group))
        multiplicities.append(len(group))
    return Spectrum(
        size=size,
        moduli=tuple(moduli),
        levels=tuple(levels),
        multiplicities=tuple(multiplicities),
        rank=2 * len(sigmas),
        tolerance=tolerance,
        relative_tolerance=relative_tolerance,
        method=method,
    )


def _power_of_two_below(value: float) -> int:
    """The exponent e with ``2^(e-1) <= value < 2^e`` (``value`` finite, > 0)."""
    return math.frexp(value)[1]


# --- matrices: Householder to skew tridiagonal form, then implicit QL ---------------


def _skew_pair_moduli(rows: list[list[float]]) -> list[float]:
    """The ``sigma_k`` of the skew part of ``rows`` (n // 2 values, any order)."""
    size = len(rows)
    largest = max(max(map(abs, row)) for row in rows)
    if largest == 0.0:
        return [0.0] * (size // 2)
    shift = _power_of_two_below(largest)
    # The skew part, scaled by a power of two (exact) so that max |entry| < 1.
    block = [
        [math.ldexp((a - b) / 2.0, -shift) for a, b in zip(row, column, strict=True)]
        for row, column in zip(rows, zip(*rows, strict=True), strict=True)
    ]
    offdiagonal = _skew_tridiagonal(block)
    eigenvalues = _tridiagonal_eigenvalues([0.0] * size, offdiagonal)
    magnitudes = sorted(map(abs, eigenvalues), reverse=True)
    # Eigenvalues come in pairs ±sigma (and a lone 0 when n is odd): average each pair.
    return [
        math.ldexp((magnitudes[2 * k] + magnitudes[2 * k + 1]) / 2.0, shift)
        for k in range(size // 2)
    ]


def _skew_tridiagonal(block: list[list[float]]) -> list[float]:
    """Reduce the skew-symmetric ``block`` (consumed) to skew tridiagonal form by
    Householder reflections; return the n - 1 subdiagonal entries (signs irrelevant).

    Step k reflects column k below the diagonal onto ``alpha e_1``; with
    ``P = I - beta v v^T`` and ``w = A v`` (``v^T A v = 0``), ``P A P = A + beta (v w^T
    - w v^T)``, applied to the trailing block only, which then becomes the next block.
    """
    subdiagonal: list[float] = []
    while len(block) > 2:
        below = block[1:]
        x = [row[0] for row in below]
        rest = [row[1:] for row in below]
        norm = math.hypot(*x)
        if norm == 0.0:
            subdiagonal.append(0.0)
            block = rest
            continue
        alpha = -norm if x[0] > 0.0 else norm
        beta = 1.0 / (alpha * (alpha - x[0]))  # 2 / (v^T v)
        v = x
        v[0] = x[0] - alpha
        w = [sum(map(mul, row, v)) for row in rest]
        bv = [beta * t for t in v]
        bw = [beta * t for t in w]
        block = [
            [c + f * wj - g * vj for c, wj, vj in zip(row, w, v, strict=True)]
            for row, f, g in zip(rest, bv, bw, strict=True)
        ]
        subdiagonal.append(alpha)
    if len(block) == 2:
        subdiagonal.append((block[1][0] - block[0][1]) / 2.0)
    return subdiagonal


def _tridiagonal_eigenvalues(diagonal: list[float], offdiagonal: list[float]) -> list[float]:
    """Eigenvalues of the symmetric tridiagonal matrix (implicit QL, Wilkinson shifts).

    ``offdiagonal[i]`` couples i and i + 1. An off-diagonal entry is taken as 0 when it
    is below ``eps`` times its neighbours on the diagonal or times the matrix's norm
    (the latter lets clusters at 0 split); accuracy about ``eps`` times the norm.
    """
    d = list(diagonal)
    e = [*offdiagonal, 0.0]
    size = len(d)
    eps = 2.0**-52
    norm = max((abs(a) + abs(b) for a, b in zip(d, e, strict=True)), default=0.0)
    floor = eps * norm
    for low in range(size):
        iterations = 0
        while True:
            m = low
            while m < size - 1:
                if abs(e[m]) <= floor or abs(e[m]) <= eps * (abs(d[m]) + abs(d[m + 1])):
                    break
                m += 1
            if m == low:
                break
            iterations += 1
            if iterations > _QL_ITERATIONS:
                raise RuntimeError("the QL iteration did not converge (spectrum)")
            g = (d[low + 1] - d[low]) / (2.0 * e[low])
            r = math.hypot(g, 1.0)
            g = d[m] - d[low] + e[low] / (g + math.copysign(r, g))
            s = c = 1.0
            p = 0.0
            i = m - 1
            underflow = False
            while i >= low:
                f = s * e[i]
                b = c * e[i]
                r = math.hypot(f, g)
                e[i + 1] = r
                if r == 0.0:
                    d[i + 1] -= p
                    e[m] = 0.0
                    underflow = True
                    break
                s = f / r
                c = g / r
                g = d[i + 1] - p
                r = (d[i] - g) * s + 2.0 * c * b
                p = s * r
                d[i + 1] = g + p
                g = c * r - b
                i -= 1
            if underflow:
                continue
            d[low] -= p
            e[low] = g
            e[m] = 0.0
    return d


# --- rosters: the rank-4 structure, O(n) -----------------------------------------------


def _roster_spectrum(
    powers: Sequence[float], xs: Sequence[float], ys: Sequence[float], relative_tolerance: float
) -> Spectrum:
    """The spectrum of the roster matrix ``p_i - p_j + x_i y_j - y_i x_j`` (module docstring)."""
    size = len(powers)
    norms = (math.hypot(*powers), math.hypot(*xs), math.hypot(*ys))
    largest = max(norms[0], norms[1] * norms[1], norms[2] * norms[2])
    if size < 2 or largest == 0.0:
        return _assemble(size, [], relative_tolerance, "roster-rank4")
    # Scale p by 2^-2k and v by 2^-k (exact; the matrix by 2^-2k) when a product of the
    # norms could overflow or underflow.
    k = 0
    if not _SAFE_LOW < largest < _SAFE_HIGH:
        k = (_power_of_two_below(largest) + 1) // 2
        powers = [math.ldexp(value, -2 * k) for value in powers]
        xs = [math.ldexp(value, -k) for value in xs]
        ys = [math.ldexp(value, -k) for value in ys]
        norms = (math.ldexp(norms[0], -2 * k), math.ldexp(norms[1], -k), math.ldexp(norms[2], -k))
    found = _roster_levels_by_gram(powers, xs, ys, norms)
    if found is None:
        found = _roster_levels(powers, xs, ys, norms[1], norms[2])
    sigma_1, sigma_2, floor = found
    pairs = [math.ldexp(s, 2 * k) for s in (sigma_1, sigma_2) if s > floor]
    return _assemble(size, pairs[: size // 2], relative_tolerance, "roster-rank4")


def _roster_levels_by_gram(
    p: Sequence[float], x: Sequence[float], y: Sequence[float], norms: tuple[float, float, float]
) -> tuple[float, float, float] | None:
    """``(sigma_1, sigma_2, round-off)`` from the Gram matrix of ``1, x, y, p`` (9 passes),
    or None when its Cholesky factor loses too much to cancellation (a large mean, nearly
    collinear vectors, powers nearly in their span): ``_roster_levels`` then works on
    explicit residuals.

    With ``[1, x, y, p] = Q R`` (R upper triangular, from the Cholesky factor of the
    Gram matrix), ``A = Q M Q^T`` for the 4 x 4 skew-symmetric ``M = P E^T - E P^T +
    X Y^T - Y X^T`` (E, X, Y, P the columns of R), and ``sigma_1 sigma_2 = |Pf M| =
    R_11 R_22 R_33 R_44``, which has no cancellation.
    """
    n = len(p)
    root_n = math.sqrt(n)
    p_norm, x_norm, y_norm = norms
    r1x, r1y, r1p = (math.fsum(values) / root_n for values in (x, y, p))
    xx = x_norm * x_norm - r1x * r1x
    if not xx > _PIVOT * x_norm * x_norm:
        return None
    r22 = math.sqrt(xx)
    r2y = (math.fsum(map(mul, x, y)) - r1x * r1y) / r22
    r2p = (math.fsum(map(mul, x, p)) - r1x * r1p) / r22
    yy = y_norm * y_norm - r1y * r1y - r2y * r2y
    if not yy > _PIVOT * y_norm * y_norm:
        return None
    r33 = math.sqrt(yy)
    r3p = (math.fsum(map(mul, y, p)) - r1y * r1p - r2y * r2p) / r33
    pp = p_norm * p_norm - r1p * r1p - r2p * r2p - r3p * r3p
    if p_norm > 0.0 and not pp > _PIVOT * p_norm * p_norm:
        return None
    r44 = math.sqrt(pp) if p_norm > 0.0 else 0.0
    e = (root_n, 0.0, 0.0, 0.0)
    xr = (r1x, r22, 0.0, 0.0)
    yr = (r1y, r2y, r33, 0.0)
    pr = (r1p, r2p, r3p, r44)

    def m(i: int, j: int) -> float:
        return pr[i] * e[j] - e[i] * pr[j] + xr[i] * yr[j] - yr[i] * xr[j]

    u = (m(0, 1), m(0, 2), m(0, 3))
    w = (m(2, 3), m(3, 1), m(1, 2))
    sigma_1 = (
        math.hypot(*map(add, u, w)) + math.hypot(*(a - b for a, b in zip(u, w, strict=True)))
    ) / 2.0
    floor = _ROUNDOFF * (root_n * p_norm + 5.0 * x_norm * y_norm)
    return sigma_1, root_n * r22 * r33 * r44 / sigma_1, floor


def _roster_levels(
    p: Sequence[float], x: Sequence[float], y: Sequence[float], x_norm: float, y_norm: float
) -> tuple[float, float, float]:
    """``(sigma_1, sigma_2)`` of the (scaled) roster matrix from explicit residuals (about
    16 passes), and the size of their round-off: levels below it are 0."""
    n = len(p)
    mx, my, mp = math.fsum(x) / n, math.fsum(y) / n, math.fsum(p) / n
    # q1 ~ xc = x - mean, q2 ~ y_perp = y - mean - (component along xc): orthogonal to
    # each other and to 1 (done again where cancellation left them inexact).
    xc = _orthogonal_part([value - mx for value in x], x_norm, None, 0.0)
    xx = math.hypot(*xc) ** 2
    along = xc if xx > 0.0 else None
    alpha = sum(map(mul, xc, y)) / xx if along else 0.0
    y_perp = _orthogonal_part(
        [b - my - alpha * a for a, b in zip(xc, y, strict=True)], y_norm, along, xx
    )
    yy = math.hypot(*y_perp) ** 2
    area = math.sqrt(xx) * math.sqrt(yy)  # D = |xc| |y_perp| = |xc x yc|
    # p~ = p - mean + v x m: the powers after translating every vector by the mean m.
    shifted = [a - mp + my * b - mx * c for a, b, c in zip(p, x, y, strict=True)]
    mean = math.fsum(shifted) / n  # round-off: p~ is orthogonal to 1
    gamma_1 = sum(map(mul, shifted, xc)) / xx if xx > 0.0 else 0.0
    gamma_2 = sum(map(mul, shifted, y_perp)) / yy if yy > 0.0 else 0.0
    residual = [
        a - mean - gamma_1 * b - gamma_2 * c for a, b, c in zip(shifted, xc, y_perp, strict=True)
    ]
    rho = math.hypot(*residual)
    root_n = math.sqrt(n)
    # Round-off of p~ and of the area: eps (|p - mp| + |m| |v|) and eps |x| |y|.
    floor = _ROUNDOFF * (root_n * math.hypot(*shifted) + 5.0 * x_norm * y_norm)
    # sqrt(n) |c| for c = (p~ . q1, p~ . q2), the part of p~ in the vectors' plane.
    plane = root_n * math.hypot(gamma_1 * math.sqrt(xx), gamma_2 * math.sqrt(yy))
    a = math.hypot(plane, root_n * rho + area)
    b = math.hypot(plane, root_n * rho - area)
    total = a + b
    if total == 0.0:
        return 0.0, 0.0, floor
    return total / 2.0, 2.0 * root_n * rho * area / total, floor


def _orthogonal_part(
    vector: list[float], before: float, direction: list[float] | None, length2: float
) -> list[float]:
    """``vector``, made orthogonal to 1 (and ``direction``) by one pass from a vector of
    length ``before``, made so again if that pass cancelled more than half its length.

    Kahan's "twice is enough": if the second pass cancels as much again, the vector lies
    in the span to working precision and is 0.
    """
    after = math.hypot(*vector)
    if after == 0.0 or after > _CANCELLATION * before:
        return vector
    mean = math.fsum(vector) / len(vector)
    if direction is None:
        vector = [a - mean for a in vector]
    else:
        coefficient = sum(map(mul, direction, vector)) / length2
        vector = [a - mean - coefficient * b for a, b in zip(vector, direction, strict=True)]
    if math.hypot(*vector) > _CANCELLATION * after:
        return vector
    return [0.0] * len(vector)
