"""Equilibria of monocycle rosters without ever building the n x n payoff matrix.

With ``a = sum_i s_i v_i`` and ``P = sum_i s_i p_i`` every entry of ``A s`` is
``(A s)_l = p_l + v_l x a - P``, so a mixed strategy ``s`` is optimal exactly when no
character's *translated power* ``f_l(a) = p_l + v_l x a`` exceeds ``P``. Checking that
takes one O(n) pass; its excess ``max_l f_l(a) - P`` is the exploitability of ``s``.

Fast method (``monocycle-sampling``), in the spirit of Clarkson's sampling algorithm:

1. draw a random pool of about ``2 sqrt(n)`` characters;
2. solve the game restricted to the pool by *double oracle*: solve the game on a small
   working set with the simplex (``lp.py``), add the pool members whose translated power
   beats ``P`` the most, repeat until no pool member beats ``P``;
3. one O(n) pass over all characters: if nobody beats ``P`` the answer is certified;
   otherwise the violators, and the near-violators lying as far below ``P`` as the worst
   one is above it, join the pool (that is where the next support lies) and step 2
   resumes from the current support.

Generic data has an equilibrium support of at most 3 characters, so the working sets stay
small and two full passes are typical. Tolerances are relative to the data's scale
``S = max|p| + 2 (max|x|^2 + max|y|^2)`` (at least ``max|p| + 2 max|v|^2``): the search
aims for ``1e-12 S`` (far above float round-off, about ``1e-16 S``), and an answer is
certified when its exploitability is at most ``1e-9 S``; if the search stalls, the best
answer within ``1e-9 S`` is returned, and without one the exact method takes over.
A tiny roster (coordinates below ``2^-200``) is first scaled up by an exact power of two,
so that neither its payoffs nor its tolerances underflow.

Exact method (``monocycle-exact``): the same double oracle over all characters in
rational arithmetic (``fractions.Fraction``; floats convert exactly), adding one exact
best response per round. It is used on request and as the fallback when the fast method
cannot certify its answer; a float pass with a rigorous margin picks the few candidates
whose translated power is then computed exactly.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import compress

from monocycle_nash.solver.lp import SolverFailure, solve_matrix_game, solve_matrix_game_exact

__all__ = [
    "RELATIVE_TOLERANCE",
    "SEARCH_TOLERANCE",
    "RosterSolution",
    "roster_scale",
    "solve_roster",
    "translated_power_excess",
    "translation_and_mean_power",
]

RELATIVE_TOLERANCE = 1e-9
"""Certification tolerance, as a fraction of the roster's scale (see ``roster_scale``)."""

SEARCH_TOLERANCE = 1e-12
"""What the fast method aims for, as a fraction of the scale (far above round-off)."""

_DIRECT_SIZE = 24  # rosters up to this size go straight to the restricted simplex
_POOL_FACTOR = 2.0  # pool size = _POOL_FACTOR * sqrt(n)
_POOL_MIN = 64
_VIOLATOR_CAP = 20_000  # a pass adds at most this many violators (the largest) to the pool
_ADD_PER_ROUND = 4  # pool violators added to the working set per double-oracle round
_MAX_WORKING = 200  # beyond this the fast method gives up and the exact method takes over
_MAX_PASSES = 12
_TINY_SIZE = 2.0**-200  # rosters whose coordinates are all below this are scaled up


@dataclass(frozen=True, slots=True)
class RosterSolution:
    """An optimal strategy of a monocycle roster (the same for both players).

    ``support`` holds (index, weight) pairs with positive weight summing to 1;
    ``translation`` is ``a = sum s_i v_i``; ``mean_power`` is ``P = sum s_i p_i``;
    ``exploitability`` is ``max_l (p_l + v_l x a) - P``; ``tolerance`` is the
    certification threshold used; ``passes`` counts the O(n) passes over the roster.
    """

    support: tuple[tuple[int, float], ...]
    translation: tuple[float, float]
    mean_power: float
    exploitability: float
    tolerance: float
    method: str
    passes: int

    def strategy(self, size: int) -> tuple[float, ...]:
        """The strategy as one probability per character (``size`` = roster length)."""
        weights = [0.0] * size
        for index, weight in self.support:
            weights[index] = weight
        return tuple(weights)


def roster_scale(powers: Sequence[float], xs: Sequence[float], ys: Sequence[float]) -> float:
    """Return ``max|p| + 2 (max|x|^2 + max|y|^2)``, a bound on the size of the payoffs."""
    return _scale_of(*_extents(powers, xs, ys))


def _extents(
    powers: Sequence[float], xs: Sequence[float], ys: Sequence[float]
) -> tuple[float, float, float]:
    """Return (max|p|, max|x|, max|y|)."""
    return float(max(map(abs, powers))), float(max(map(abs, xs))), float(max(map(abs, ys)))


def _scale_of(max_p: float, max_x: float, max_y: float) -> float:
    return max_p + 2.0 * (max_x * max_x + max_y * max_y)


def translated_power_excess(
    powers: Sequence[float],
    xs: Sequence[float],
    ys: Sequence[float],
    support: Sequence[tuple[int, float]],
) -> tuple[float, float, float, float]:
    """One O(n) certification pass for the strategy given by ``support`` pairs.

    Return (a_x, a_y, P, excess) with ``excess = max_l (p_l + v_l x a) - P``, which is
    the exploitability of the strategy (0 or less at an equilibrium, up to round-off).
    """
    ax, ay, mean = translation_and_mean_power(powers, xs, ys, support)
    best = max(p + x * ay - y * ax for p, x, y in zip(powers, xs, ys, strict=True))
    return ax, ay, mean, best - mean


def solve_roster(
    powers: Sequence[float],
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    exact: bool = False,
    seed: int = 0,
) -> RosterSolution:
    """Solve the monocycle roster given as parallel lists of p, x and y.

    ``exact=True`` uses the rational double oracle directly. Otherwise the sampling
    method runs first and the exact method is the fallback if it cannot certify.
    """
    n = len(powers)
    if n == 0 or len(xs) != n or len(ys) != n:
        raise ValueError("a roster needs at least one character and equal-length p, x, y")
    ps, px, py = _as_list(powers), _as_list(xs), _as_list(ys)
    max_p, max_x, max_y = _extents(ps, px, py)
    largest = max(max_x, max_y, math.sqrt(max_p))
    shift = -math.frexp(largest)[1] if 0.0 < largest < _TINY_SIZE else 0
    if shift:
        # Tiny data: products of coordinates would underflow. Scaling v by 2^shift and
        # p by 2^(2 shift) is exact and multiplies every payoff by 2^(2 shift), which
        # leaves the optimal strategies unchanged.
        ps = [math.ldexp(p, 2 * shift) for p in ps]
        px = [math.ldexp(x, shift) for x in px]
        py = [math.ldexp(y, shift) for y in py]
        max_p, max_x, max_y = (
            math.ldexp(max_p, 2 * shift),
            math.ldexp(max_x, shift),
            math.ldexp(max_y, shift),
        )
    scale = _scale_of(max_p, max_x, max_y)
    return _downscaled(_solve_scaled(ps, px, py, scale, exact=exact, seed=seed), shift)


def _solve_scaled(
    ps: list[float], xs: list[float], ys: list[float], scale: float, *, exact: bool, seed: int
) -> RosterSolution:
    if exact:
        return _solve_exact(ps, xs, ys, scale, "monocycle-exact")
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    solution = _solve_sampling(ps, xs, ys, scale, rng)
    if solution is not None:
        return solution
    return _solve_exact(ps, xs, ys, scale, "monocycle-exact-fallback")


def _downscaled(solution: RosterSolution, shift: int) -> RosterSolution:
    """Undo the tiny-roster scaling on translation, mean power, exploitability, tolerance."""
    if not shift:
        return solution
    ax, ay = solution.translation
    return replace(
        solution,
        translation=(math.ldexp(ax, -shift), math.ldexp(ay, -shift)),
        mean_power=math.ldexp(solution.mean_power, -2 * shift),
        exploitability=math.ldexp(solution.exploitability, -2 * shift),
        tolerance=math.ldexp(solution.tolerance, -2 * shift),
    )


def _as_list(values: Sequence[float]) -> list[float]:
    return values if isinstance(values, list) else list(values)


def translation_and_mean_power(
    powers: Sequence[float],
    xs: Sequence[float],
    ys: Sequence[float],
    support: Sequence[tuple[int, float]],
) -> tuple[float, float, float]:
    """Return (a_x, a_y, P): ``a = sum s_i v_i`` and ``P = sum s_i p_i`` over the support pairs."""
    ax = math.fsum(w * xs[i] for i, w in support)
    ay = math.fsum(w * ys[i] for i, w in support)
    mean = math.fsum(w * powers[i] for i, w in support)
    return ax, ay, mean


def _restricted_game(
    ps: list[float], xs: list[float], ys: list[float], working: list[int]
) -> list[tuple[int, float]]:
    """Solve the game restricted to ``working`` (float simplex); return its support."""
    rows = [[ps[i] - ps[j] + xs[i] * ys[j] - ys[i] * xs[j] for j in working] for i in working]
    strategy = solve_matrix_game(rows).row_strategy
    total = math.fsum(strategy)
    return [(i, w / total) for i, w in zip(working, strategy, strict=True) if w > 0.0]


def _double_oracle(
    roster: tuple[list[float], list[float], list[float]],
    pool: list[int],
    working: list[int],
    tol: float,
) -> tuple[list[tuple[int, float]], float, float, float]:
    """Grow ``working`` until its equilibrium is unbeaten within ``pool``.

    Return (support, a_x, a_y, P). Raise ``SolverFailure`` if the working set grows
    beyond ``_MAX_WORKING`` or stops growing (round-off beyond the tolerance).
    """
    ps, xs, ys = roster
    pool_p = [ps[i] for i in pool]
    pool_x = [xs[i] for i in pool]
    pool_y = [ys[i] for i in pool]
    members = set(working)
    while True:
        support = _restricted_game(ps, xs, ys, working)
        ax, ay, mean = translation_and_mean_power(ps, xs, ys, support)
        threshold = mean + tol
        values = [p + x * ay - y * ax for p, x, y in zip(pool_p, pool_x, pool_y, strict=True)]
        beaten = list(compress(range(len(pool)), map(threshold.__lt__, values)))
        if not beaten:
            return support, ax, ay, mean
        best = heapq.nlargest(_ADD_PER_ROUND, beaten, key=values.__getitem__)
        added = [pool[k] for k in best if pool[k] not in members]
        if not added or len(working) + len(added) > _MAX_WORKING:
            raise SolverFailure("double oracle stalled")
        working.extend(added)
        members.update(added)


def _solve_sampling(
    ps: list[float], xs: list[float], ys: list[float], scale: float, rng: random.Random
) -> RosterSolution | None:
    """The fast method; ``None`` when it cannot certify within its pass budget."""
    n = len(ps)
    tol = RELATIVE_TOLERANCE * scale
    aim = SEARCH_TOLERANCE * scale
    if n <= _DIRECT_SIZE:
        pool = list(range(n))
    else:
        size = min(n, max(_POOL_MIN, int(_POOL_FACTOR * math.sqrt(n))))
        pool = rng.sample(range(n), size)
    in_pool = set(pool)
    working = heapq.nlargest(_ADD_PER_ROUND, pool, key=ps.__getitem__)
    acceptable: RosterSolution | None = None  # best answer within ``tol`` seen so far
    for passes in range(1, _MAX_PASSES + 1):
        try:
            support, ax, ay, mean = _double_oracle((ps, xs, ys), pool, working, aim)
        except SolverFailure:
            return acceptable
        values = [p + x * ay - y * ax for p, x, y in zip(ps, xs, ys, strict=True)]
        best = max(values)
        solution = RosterSolution(
            support=tuple(support),
            translation=(ax, ay),
            mean_power=mean,
            exploitability=max(best - mean, 0.0),
            tolerance=tol,
            method="monocycle-sampling",
            passes=passes,
        )
        if best <= mean + aim:
            return solution
        if best <= mean + tol and (
            acceptable is None or solution.exploitability < acceptable.exploitability
        ):
            acceptable = solution
        # Violators, and the near-violators as far below P as the worst is above it:
        # the next answer moves by about that much, so they are its likely support.
        floor = mean - (best - mean)
        near = [i for i in compress(range(n), map(floor.__lt__, values)) if i not in in_pool]
        # sorted(...)[:k] is what heapq.nlargest is documented to equal (same order, ties
        # by position); on tens of thousands of candidates the C sort is 2-10x faster than
        # the heap, whose key calls and comparisons run in Python (document/benchmarks.md).
        largest_first = sorted(near, key=values.__getitem__, reverse=True)
        if len(near) > _VIOLATOR_CAP:
            near = largest_first[:_VIOLATOR_CAP]
        pool.extend(near)
        in_pool.update(near)
        working = [i for i, _ in support] + largest_first[:_ADD_PER_ROUND]
    return acceptable


def _solve_exact(
    ps: list[float], xs: list[float], ys: list[float], scale: float, method: str
) -> RosterSolution:
    """Rational double oracle over the whole roster; always ends at an exact equilibrium."""
    n = len(ps)
    exact: dict[int, tuple[Fraction, Fraction, Fraction]] = {}

    def point(i: int) -> tuple[Fraction, Fraction, Fraction]:
        if i not in exact:
            exact[i] = (Fraction(ps[i]), Fraction(xs[i]), Fraction(ys[i]))
        return exact[i]

    # Float round-off in one translated power is a few ulps of the scale; this margin
    # is far wider, so every exact violator is among the float candidates.
    margin = 1e-7 * scale
    first = max(range(n), key=lambda i: (ps[i], -i))
    working = [first]
    passes = 0
    while True:
        rows = [
            [
                point(i)[0] - point(j)[0] + point(i)[1] * point(j)[2] - point(i)[2] * point(j)[1]
                for j in working
            ]
            for i in working
        ]
        strategy = solve_matrix_game_exact(rows).row_strategy
        weights = [(i, w) for i, w in zip(working, strategy, strict=True) if w > 0]
        ax = sum((w * point(i)[1] for i, w in weights), Fraction(0))
        ay = sum((w * point(i)[2] for i, w in weights), Fraction(0))
        mean = sum((w * point(i)[0] for i, w in weights), Fraction(0))
        fax, fay, fmean = float(ax), float(ay), float(mean)
        passes += 1
        floor = fmean - margin
        values = [p + x * fay - y * fax for p, x, y in zip(ps, xs, ys, strict=True)]
        candidates = compress(range(n), map(floor.__le__, values))
        best_index = -1
        best_value = mean
        for i in candidates:
            p, x, y = point(i)
            value = p + x * ay - y * ax
            if value > best_value:
                best_index, best_value = i, value
        if best_index < 0:
            # An exact equilibrium: nobody beats P and the support attains it, so the
            # exploitability is exactly zero.
            return RosterSolution(
                support=tuple((i, float(w)) for i, w in weights),
                translation=(fax, fay),
                mean_power=fmean,
                exploitability=0.0,
                tolerance=RELATIVE_TOLERANCE * scale,
                method=method,
                passes=passes,
            )
        working.append(best_index)
