"""Monocycle (roster) approximations of a skew-symmetric game (RESEARCH.md section 3).

For a skew-symmetric A with top level ``sigma_1 > 0`` (``spectrum.py``):

- **Dominant eigenpair** (``dominant_eigenpair``): ``J = A Q Q^T``, Q an orthonormal
  basis ``(q1, q2)`` of the eigenspace of ``A^T A`` for ``sigma_1^2``: the best rank-2
  approximation (Eckart-Young), ``|A - J|_2 = sigma_2``. On that plane A acts as
  ``A q2 = sigma_1 q1``, ``A q1 = -sigma_1 q2`` (orientation ``q1^T A q2 = +sigma_1``),
  so J is the roster with zero powers and ``v_i = sqrt(sigma_1) (q1_i, q2_i)``:
  ``J[i][j] = v_i x v_j``. ``dominant_eigen_ratio = sigma_1 / sigma_2`` (None with a
  single level). When ``sigma_1`` is a repeated level the plane is not unique (any plane
  of its eigenspace is as good): a warning says so.
- **Equilibrium preserving** (``equilibrium_preserving``): with ``R = A - J`` and u an
  equilibrium of A, the powers ``p = R u`` make ``B[i][j] = J[i][j] + p_i - p_j``, and
  ``B u = A u`` (``u^T R u = 0``): u stays an equilibrium of B, and every pure payoff
  against it is unchanged. If u has more than 3 strategies, B (a roster whose support
  characters tie at one translation point) has a whole polytope of equilibria, all with
  the same payoffs ``B w = A u`` and supported inside u's support; a solver may return
  another one of them (a roster's equilibria are generically at most 3 strong).

The plane is found by inverse iteration on ``A - i sigma_1 I`` in complex arithmetic
(Python's own ``complex``): one LU factorisation with partial pivoting (O(n^3)), then a
few O(n^2) solves from Wilkinson's start ``U z = (1, ..., 1)``. The eigenvector
``z = x + i y`` of ``+i sigma_1`` gives ``A y = sigma_1 x`` and ``A x = -sigma_1 y``,
with ``x`` and ``y`` orthogonal and of equal length (z is orthogonal to its conjugate,
the eigenvector of ``-i sigma_1``); they are orthonormalised by modified Gram-Schmidt
(twice), oriented, and iterated until the plane's residual ``|A Q - Q Q^T A Q|`` is at
most ``1e-13 sigma_1`` (about 1e-12 relative accuracy, or the accuracy the gap to the
next level allows). The matrix is first scaled by a power of two (exact) so that no
product overflows, and the skew part ``(A - A^T) / 2`` of an almost skew-symmetric
matrix is what is approximated. Levels and their tolerance are ``spectrum_of``'s.

A roster ``Game`` is a monocycle game already: ``AlreadyMonocycleError``. A game that is
not skew-symmetric: ``ApproximationError`` with the spectrum's one-line reason. (Pass
``game.matrix`` to approximate a roster's payoff matrix anyway.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from operator import mul
from typing import Literal, get_args

from monocycle_nash.analysis import pure_strategy_payoffs
from monocycle_nash.character import Character
from monocycle_nash.compare import Comparison, compare_games
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.errors import AlreadyMonocycleError, ApproximationError
from monocycle_nash.game import Game
from monocycle_nash.matrix import PayoffMatrix
from monocycle_nash.solver import solve
from monocycle_nash.spectrum import (
    RELATIVE_TOLERANCE,
    SKEW_TOLERANCE,
    NotSkewSymmetricError,
    Spectrum,
    spectrum_of,
)
from monocycle_nash.text import printable
from monocycle_nash.toml_writer import dumps

__all__ = [
    "METHODS",
    "NEARLY_REPEATED",
    "Approximation",
    "ApproximationMethod",
    "approximate",
    "dominant_eigenpair",
    "dominant_plane",
    "equilibrium_preserving",
]

ApproximationMethod = Literal["dominant_eigenpair", "equilibrium_preserving"]
METHODS: tuple[ApproximationMethod, ...] = get_args(ApproximationMethod)
"""The values of ``[approximation] method``."""

NEARLY_REPEATED = 1e-6
"""``sigma_1 / sigma_2 - 1`` below this (but the levels distinct) earns a warning: the
plane, and so J, is then barely determined by the data."""

_RESIDUAL = 1e-13  # stop when the plane's residual is below this times sigma_1
_ITERATIONS = 8  # inverse iteration converges in 1-3 steps; more only for clusters
_EPS = 2.0**-52


@dataclass(frozen=True, slots=True)
class Approximation:
    """A monocycle approximation of a skew-symmetric game.

    ``roster`` is the approximating game (a roster ``Game`` with the original labels;
    its ``matrix`` is the approximating matrix, J or B). ``spectrum`` is the original
    game's; ``sigma_1`` the level the plane belongs to. ``equilibrium`` is the original
    game's equilibrium u (the one B keeps; also the reference equilibrium of
    ``distances``). ``distances`` compares the approximation (the game X) with the
    original (the reference R): ``distances.max_element`` is ``max |J - A|``,
    ``distances.relative_spectral_error`` is ``|A - J|_2 / sigma_1``. ``warnings`` are
    whole sentences (a repeated top level).
    """

    method: ApproximationMethod
    source: str
    roster: Game
    spectrum: Spectrum
    equilibrium: Equilibrium
    distances: Comparison
    warnings: tuple[str, ...]

    @property
    def matrix(self) -> PayoffMatrix:
        """The approximating payoff matrix (J or B), the roster's matrix."""
        return self.roster.matrix

    @property
    def characters(self) -> tuple[Character, ...]:
        """The approximating roster's characters (label, p, v)."""
        characters = self.roster.characters
        if characters is None:  # pragma: no cover - always built as a roster
            raise RuntimeError("an approximation without its roster")
        return characters

    @property
    def sigma_1(self) -> float:
        """The top level of the original game (0 for the zero matrix)."""
        return self.spectrum.levels[0] if self.spectrum.levels else 0.0

    @property
    def dominant_eigen_ratio(self) -> float | None:
        """``sigma_1 / sigma_2``, or None with fewer than two levels (never infinity)."""
        return self.spectrum.dominant_gap

    def to_json(self) -> dict[str, object]:
        """The contents of ``approximation.json``: finite numbers and nulls only."""
        levels = self.spectrum.levels
        return {
            "method": self.method,
            "source": self.source,
            "labels": list(self.roster.labels),
            "matrix": [list(row) for row in self.matrix.rows],
            "characters": [
                {"label": c.label, "p": c.power, "v": list(c.vector)} for c in self.characters
            ],
            "sigma_1": levels[0] if levels else None,
            "sigma_2": levels[1] if len(levels) > 1 else None,
            "top_level_multiplicity": self.spectrum.multiplicities[0] if levels else None,
            "dominant_eigen_ratio": self.dominant_eigen_ratio,
            "u": list(self.equilibrium.column_strategy),
            "distances": self.distances.distances(),
            "warnings": list(self.warnings),
        }

    @property
    def roster_equilibrium(self) -> Equilibrium:
        """The approximating roster's equilibrium used by ``distances``: u itself for the
        equilibrium-preserving B, the roster's solved equilibrium for J."""
        return self.distances.game_equilibrium

    @property
    def _name(self) -> str:
        return "J" if self.method == "dominant_eigenpair" else "B"

    def roster_document(self) -> dict[str, object]:
        """The approximating roster as a game file's table: ``{"characters": [...]}``."""
        return {
            "characters": [
                {"label": c.label, "p": c.power, "v": list(c.vector)} for c in self.characters
            ]
        }

    def roster_toml(self) -> str:
        """``approximated_roster.toml``: a game file that the main job solves as it is."""
        lines = [
            f"The {self.method.replace('_', ' ')} monocycle approximation of "
            f"{printable(self.source)} (monocycle_nash.approximation):",
            f"max |{self._name} - A| = {self.distances.max_element!r}.",
        ]
        support = sum(1 for weight in self.equilibrium.column_strategy if weight > 0)
        if self.method == "equilibrium_preserving" and support > 3:
            lines.append(
                f"The game's equilibrium u ({support} strategies) is an equilibrium of this "
                "roster; a solver may return another one, with the same pure payoffs."
            )
        return "".join(f"# {line}\n" for line in lines) + dumps(self.roster_document())

    def summary_line(self) -> str:
        """One console line on how good the approximation is, e.g. (A4 of RESEARCH.md)
        ``Approximation (dominant eigenpair): relative spectral error 0.2679, max |J - A|
        0.2887 (0.2887 of max |A|); sigma_1/sigma_2 3.732``."""
        head = f"Approximation ({self.method.replace('_', ' ')}): "
        if not self.spectrum.levels:
            return head + "the game is the zero matrix, its own approximation"
        d = self.distances
        text = head
        if d.relative_spectral_error is not None:
            text += f"relative spectral error {d.relative_spectral_error:.4g}, "
        text += f"max |{self._name} - A| {d.max_element:.4g}"
        if d.relative_max_element is not None:
            text += f" ({d.relative_max_element:.4g} of max |A|)"
        ratio = self.dominant_eigen_ratio
        text += "; single level" if ratio is None else f"; sigma_1/sigma_2 {ratio:.4g}"
        if self.method == "equilibrium_preserving":
            text += f"; payoffs against u kept to {d.equilibrium_u:.2g}"
        if self.spectrum.multiplicities[0] > 1:
            text += "; not unique (sigma_1 is a repeated level)"
        elif self.warnings:
            text += "; barely unique (sigma_1 and sigma_2 nearly coincide)"
        return text


# --- the two methods --------------------------------------------------------------------


def approximate(
    game: Game | PayoffMatrix | Sequence[Sequence[float]],
    method: str,
    *,
    equilibrium: Equilibrium | None = None,
    relative_tolerance: float = RELATIVE_TOLERANCE,
) -> Approximation:
    """The approximation ``method`` (one of ``METHODS``) of ``game``; see the module.

    ``equilibrium`` is an equilibrium of ``game`` already solved (solved here if None).
    Raise ``ValueError`` for an unknown method, ``AlreadyMonocycleError`` for a roster
    ``Game`` and ``ApproximationError`` for a game that is not skew-symmetric.
    """
    if method == "dominant_eigenpair":
        return dominant_eigenpair(
            game, equilibrium=equilibrium, relative_tolerance=relative_tolerance
        )
    if method == "equilibrium_preserving":
        return equilibrium_preserving(
            game, equilibrium=equilibrium, relative_tolerance=relative_tolerance
        )
    raise ValueError(f"unknown approximation method {method!r}; expected one of {METHODS}")


def dominant_eigenpair(
    game: Game | PayoffMatrix | Sequence[Sequence[float]],
    *,
    equilibrium: Equilibrium | None = None,
    relative_tolerance: float = RELATIVE_TOLERANCE,
) -> Approximation:
    """The best rank-2 approximation J of ``game`` as a roster with zero powers.

    ``equilibrium`` (of ``game``; solved if None) is the reference equilibrium of the
    distances. Raises as ``approximate`` does.
    """
    return _approximation(game, "dominant_eigenpair", equilibrium, relative_tolerance)


def equilibrium_preserving(
    game: Game | PayoffMatrix | Sequence[Sequence[float]],
    *,
    equilibrium: Equilibrium | None = None,
    relative_tolerance: float = RELATIVE_TOLERANCE,
) -> Approximation:
    """The roster ``B = J + p_i - p_j`` with ``p = (A - J) u``: ``B u = A u``.

    u is ``equilibrium.column_strategy`` (an equilibrium of ``game``; solved if None).
    Raises as ``approximate`` does.
    """
    return _approximation(game, "equilibrium_preserving", equilibrium, relative_tolerance)


def _approximation(
    game: Game | PayoffMatrix | Sequence[Sequence[float]],
    method: ApproximationMethod,
    equilibrium: Equilibrium | None,
    relative_tolerance: float,
) -> Approximation:
    source, matrix = _matrix_of(game)
    try:
        spectrum = spectrum_of(matrix, relative_tolerance=relative_tolerance)
    except NotSkewSymmetricError as err:
        raise ApproximationError(
            source, f"no monocycle approximation, the game is {err.reason}{_hint(matrix)}"
        ) from err
    warnings = _warnings(spectrum)
    sigma, q1, q2 = dominant_plane(matrix.rows, spectrum)
    root = math.sqrt(sigma)
    # + 0.0 turns -0.0 into 0.0, which a game file shows more plainly.
    vectors = [(root * a + 0.0, root * b + 0.0) for a, b in zip(q1, q2, strict=True)]
    if equilibrium is None:
        equilibrium = solve(matrix)
    elif equilibrium.labels != matrix.labels:
        raise ValueError("the equilibrium's labels are not the game's")
    powers = [0.0] * matrix.size
    kept: Equilibrium | None = None
    if method == "equilibrium_preserving":
        powers = _preserving_powers(matrix.rows, vectors, equilibrium.column_strategy)
    try:
        characters = [
            Character(label, power, vector)
            for label, power, vector in zip(matrix.labels, powers, vectors, strict=True)
        ]
    except ValueError as err:
        raise ApproximationError(
            source, f"the approximating roster does not fit a roster's limits: {err}"
        ) from err
    roster = Game.of_roster(characters, f"{method} approximation of {source}")
    if method == "equilibrium_preserving":
        kept = _kept_equilibrium(roster, equilibrium)
    distances = compare_games(
        roster,
        Game.of_matrix(matrix, source),
        game_equilibrium=kept,
        reference_equilibrium=equilibrium,
        reference_norm=spectrum.levels[0] if spectrum.levels else 0.0,
    )
    return Approximation(
        method=method,
        source=source,
        roster=roster,
        spectrum=spectrum,
        equilibrium=equilibrium,
        distances=distances,
        warnings=warnings,
    )


def _kept_equilibrium(roster: Game, equilibrium: Equilibrium) -> Equilibrium:
    """u, the game's equilibrium, as the equilibrium of B that it is (``B u = A u``).

    B is skew-symmetric, so its value is 0 and u's exploitability in B is
    ``max_i (B u)_i``, computed here (O(n)) rather than taken from A.
    """
    u = equilibrium.column_strategy
    exploitability = max(0.0, *pure_strategy_payoffs(roster, u))
    return Equilibrium(
        labels=roster.labels,
        row_strategy=u,
        column_strategy=u,
        value=0.0,
        exploitability=exploitability,
        solver=f"kept from the game ({equilibrium.solver})",
        gap=2.0 * exploitability,
        tolerance=equilibrium.tolerance,
    )


def _matrix_of(game: Game | PayoffMatrix | Sequence[Sequence[float]]) -> tuple[str, PayoffMatrix]:
    if isinstance(game, Game):
        if game.characters is not None:
            raise AlreadyMonocycleError(
                game.source,
                "the game is a roster, a monocycle game already: nothing to approximate",
            )
        return game.source, game.matrix
    if isinstance(game, PayoffMatrix):
        return "<matrix>", game
    return "<matrix>", PayoffMatrix.from_rows(game)


def _hint(matrix: PayoffMatrix) -> str:
    """For a constant-sum game (``A + A^T = c``, e.g. win rates, c = 1): how to make it
    skew-symmetric. Empty for any other game."""
    rows = matrix.rows
    total = 2.0 * rows[0][0]
    sums = (
        a + b
        for row, column in zip(rows, zip(*rows, strict=True), strict=True)
        for a, b in zip(row, column, strict=True)
    )
    largest = max(max(map(abs, row)) for row in rows)
    if total == 0.0 or any(abs(s - total) > SKEW_TOLERANCE * largest for s in sums):
        return ""
    return (
        f"; it is constant-sum (A + A^T = {total:g}): subtract {total / 2:g} from every "
        "entry (win rates become advantages)"
    )


def _warnings(spectrum: Spectrum) -> tuple[str, ...]:
    levels = spectrum.levels
    if not levels:
        return ("the game is the zero matrix: its approximation is itself, every v = (0, 0)",)
    if spectrum.multiplicities[0] > 1:
        return (
            f"sigma_1 = {levels[0]:.6g} is a repeated level (multiplicity "
            f"{spectrum.multiplicities[0]}): the best rank-2 approximation is not unique, "
            "this is one of them",
        )
    if len(levels) > 1 and levels[0] / levels[1] - 1.0 < NEARLY_REPEATED:
        return (
            f"sigma_1 = {levels[0]:.6g} and sigma_2 = {levels[1]:.6g} nearly coincide: the "
            "rank-2 approximation is barely determined by the game",
        )
    return ()


def _preserving_powers(
    rows: Sequence[Sequence[float]],
    vectors: Sequence[tuple[float, float]],
    u: Sequence[float],
) -> list[float]:
    """``p = (A - J) u`` with ``J[i][j] = v_i x v_j``: ``(A u)_i - v_i x (sum_j u_j v_j)``."""
    ax = math.fsum(w * x for w, (x, _) in zip(u, vectors, strict=True))
    ay = math.fsum(w * y for w, (_, y) in zip(u, vectors, strict=True))
    return [
        math.fsum(chain(map(mul, row, u), (-(x * ay), y * ax)))
        for row, (x, y) in zip(rows, vectors, strict=True)
    ]


# --- the dominant plane -----------------------------------------------------------------


def dominant_plane(
    rows: Sequence[Sequence[float]], spectrum: Spectrum | None = None
) -> tuple[float, list[float], list[float]]:
    """``(sigma, q1, q2)``: an orthonormal pair spanning the top eigenplane of the
    skew-symmetric ``rows`` (their skew part), oriented so that ``q1^T A q2 = sigma > 0``,
    and ``sigma`` that Rayleigh quotient (``sigma_1`` to round-off).

    ``spectrum`` is ``spectrum_of(rows)`` if already known. The zero matrix gives
    ``(0.0, e_1, e_2)`` (any plane; ``e_2 = 0`` for a 1 x 1 matrix).
    """
    if spectrum is None:
        spectrum = spectrum_of(rows)
    size = len(rows)
    largest = max(max(map(abs, row)) for row in rows)
    if not spectrum.levels or largest == 0.0 or size < 2:
        q1 = [1.0] + [0.0] * (size - 1)
        q2 = [0.0, 1.0, *[0.0] * (size - 2)] if size > 1 else [0.0]
        return 0.0, q1, q2
    shift = math.frexp(largest)[1]
    skew = [
        [math.ldexp((a - b) / 2.0, -shift) for a, b in zip(row, column, strict=True)]
        for row, column in zip(rows, zip(*rows, strict=True), strict=True)
    ]
    sigma = math.ldexp(spectrum.levels[0], -shift)
    factors = _lu(skew, sigma)
    z = _solve_upper(factors, [1.0 + 0.0j] * size)
    best: tuple[float, float, list[float], list[float]] | None = None
    for _ in range(_ITERATIONS):
        q1, q2 = _orthonormal_pair(z)
        if not q1:
            z = _solve(factors, [complex(1.0, k / size) for k in range(size)])
            continue
        rayleigh, residual = _plane_residual(skew, q1, q2)
        if rayleigh < 0.0:
            q2 = [-value for value in q2]
            rayleigh = -rayleigh
        if best is None or residual < best[1]:
            best = (rayleigh, residual, q1, q2)
        if residual <= _RESIDUAL * sigma:
            break
        z = _solve(factors, [complex(a, b) for a, b in zip(q1, q2, strict=True)])
    if best is None:  # pragma: no cover - the start vectors are never annihilated twice
        raise RuntimeError("inverse iteration found no dominant plane")
    rayleigh, _, q1, q2 = best
    return math.ldexp(rayleigh, shift), q1, q2


_Factors = tuple[list[list[complex]], list[int]]


def _lu(rows: Sequence[Sequence[float]], sigma: float) -> _Factors:
    """LU with partial pivoting of ``rows - i sigma I`` (``perm[k]``: the row in place k).

    A pivot below ``eps`` (the matrix is scaled to ``max |A| < 1``; the shift is an
    eigenvalue to working precision) is raised to ``eps`` in its direction, as inverse
    iteration wants: the solve then grows along the eigenvector, and stays finite.
    """
    size = len(rows)
    a = [[complex(value) for value in row] for row in rows]
    for k in range(size):
        a[k][k] -= 1j * sigma
    perm = list(range(size))
    for k in range(size):
        pivot = max(range(k, size), key=lambda i: abs(a[i][k]))
        if pivot != k:
            a[k], a[pivot] = a[pivot], a[k]
            perm[k], perm[pivot] = perm[pivot], perm[k]
        head = a[k]
        magnitude = abs(head[k])
        if magnitude < _EPS:
            head[k] = _EPS * (head[k] / magnitude if magnitude else 1.0)
        inverse = 1.0 / head[k]
        tail = head[k + 1 :]
        for i in range(k + 1, size):
            row = a[i]
            factor = row[k] * inverse
            if factor:
                row[k] = factor
                row[k + 1 :] = [c - factor * t for c, t in zip(row[k + 1 :], tail, strict=True)]
            else:
                row[k] = 0j
    return a, perm


def _solve_upper(factors: _Factors, b: list[complex]) -> list[complex]:
    """``U^{-1} b`` (back substitution)."""
    a, _ = factors
    size = len(a)
    x = [0j] * size
    for k in range(size - 1, -1, -1):
        row = a[k]
        total = b[k] - sum(map(mul, row[k + 1 :], x[k + 1 :]), 0j)
        x[k] = total / row[k]
    return x


def _solve(factors: _Factors, b: list[complex]) -> list[complex]:
    """``(L U)^{-1} P b``: the solve of one inverse-iteration step."""
    a, perm = factors
    y = [b[p] for p in perm]
    for k in range(len(a)):
        y[k] -= sum(map(mul, a[k][:k], y[:k]), 0j)
    return _solve_upper(factors, y)


def _orthonormal_pair(z: Sequence[complex]) -> tuple[list[float], list[float]]:
    """``Re z`` and ``Im z`` orthonormalised (modified Gram-Schmidt, twice); empty lists
    if z is not finite or spans less than a plane.

    For an eigenvector of ``i sigma`` (sigma > 0) they are orthogonal and of equal length
    whatever z's phase (z is orthogonal to its conjugate), so Gram-Schmidt only removes
    round-off and what is left of other eigenvectors.
    """
    x = [value.real for value in z]
    y = [value.imag for value in z]
    x_norm = math.hypot(*x)
    if x_norm == 0.0 or not math.isfinite(x_norm):
        return [], []
    q1 = [value / x_norm for value in x]
    before = math.hypot(*y)
    for _ in range(2):
        along = math.fsum(map(mul, q1, y))
        y = [b - along * a for a, b in zip(q1, y, strict=True)]
    after = math.hypot(*y)
    if not math.isfinite(after) or after <= 1e-8 * before:
        return [], []
    return q1, [value / after for value in y]


def _plane_residual(
    rows: Sequence[Sequence[float]], q1: Sequence[float], q2: Sequence[float]
) -> tuple[float, float]:
    """``q1^T A q2`` and the Frobenius norm of ``A Q - Q (Q^T A Q)``."""
    w1 = [math.fsum(map(mul, row, q1)) for row in rows]
    w2 = [math.fsum(map(mul, row, q2)) for row in rows]
    h = [[math.fsum(map(mul, q, w)) for w in (w1, w2)] for q in (q1, q2)]
    residual = math.hypot(
        *(
            w - (a * h[0][column] + b * h[1][column])
            for column, ws in enumerate((w1, w2))
            for w, a, b in zip(ws, q1, q2, strict=True)
        )
    )
    rayleigh = (h[0][1] - h[1][0]) / 2.0
    return rayleigh, residual
