"""Distances between two games on the same strategies: a game X and a reference R.

RESEARCH.md section 3. The strategies are matched by label (R is reordered to X's
order); a label in one game and not the other is a ``ComparisonError`` listing them.
With ``u_X`` and ``u_R`` equilibria of X and R (column strategies, which a payoff is
taken against; for a skew-symmetric game the row and column strategies are one):

- ``max_element = max |X - R|`` (and where: ``max_element_at``, the first in row-major
  order), ``relative_max_element = max_element / max |R|``;
- ``equilibrium_u = max_i |((X - R) u_R)_i|``: how differently the two games pay each
  pure strategy against the reference's equilibrium; ``game_equilibrium_u`` the same
  against the game's equilibrium ``u_X``;
- ``reference_exploitability = max_i (R u_X)_i - val(R)``: how much the reference
  punishes the game's equilibrium; ``game_exploitability = max_i (X u_R)_i - val(X)``
  the other way round (both clamped at 0, which they are at least but for round-off);
- ``strategy_l1 = |x_X - x_R|_1`` of the row strategies (the equilibria themselves);
- when X and R are both skew-symmetric (``spectrum.SKEW_TOLERANCE``, each against its
  own size): ``spectral_error = |X - R|_2``, the top level of the skew part of
  ``X - R``, and ``relative_spectral_error`` that over ``|R|_2``; for the
  dominant-eigenpair approximation J of A the latter is ``sigma_2 / sigma_1``
  (Eckart-Young). Both None otherwise;
- per strategy (``strategies``): both equilibria's probabilities and the pure payoffs
  in X and R against each equilibrium, with their differences.

Every figure is a finite float or None (never NaN or infinity): payoffs are finite and
bounded (``MAX_PAYOFF``), so differences and sums of them are finite too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.errors import ComparisonError, brief
from monocycle_nash.game import Game
from monocycle_nash.matrix import PayoffMatrix, payoffs_against
from monocycle_nash.solver import solve
from monocycle_nash.spectrum import skew_symmetry_defect, spectrum_of
from monocycle_nash.text import plural

__all__ = ["MAX_LISTED_LABELS", "Comparison", "StrategyDifference", "compare_games"]

MAX_LISTED_LABELS = 5
"""Labels a mismatch message lists on each side before ``and N more``."""


@dataclass(frozen=True, slots=True)
class StrategyDifference:
    """One strategy of a comparison: its probabilities and pure payoffs in both games.

    ``*_vs_reference`` are payoffs against the reference's equilibrium u_R, ``*_vs_game``
    against the game's u_X; ``difference_vs_*`` is ``((X - R) u)_i`` for that u,
    computed from the difference matrix (not as a difference of the two payoffs).
    """

    label: str
    game_probability: float
    reference_probability: float
    game_vs_reference: float
    reference_vs_reference: float
    difference_vs_reference: float
    game_vs_game: float
    reference_vs_game: float
    difference_vs_game: float

    def to_json(self) -> dict[str, object]:
        """One entry of ``comparison.json``'s ``strategies``."""
        return {
            "label": self.label,
            "game_probability": self.game_probability,
            "reference_probability": self.reference_probability,
            "against_reference_equilibrium": {
                "game": self.game_vs_reference,
                "reference": self.reference_vs_reference,
                "difference": self.difference_vs_reference,
            },
            "against_game_equilibrium": {
                "game": self.game_vs_game,
                "reference": self.reference_vs_game,
                "difference": self.difference_vs_game,
            },
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """A game X compared with a reference R on the same labels (module docstring).

    ``game`` and ``reference`` are the two payoff matrices in X's label order, and
    ``game_equilibrium`` and ``reference_equilibrium`` the equilibria used (the
    reference's reordered to X's labels). ``game_source`` and ``reference_source`` name
    where the games came from.
    """

    game_source: str
    reference_source: str
    game: PayoffMatrix
    reference: PayoffMatrix
    game_equilibrium: Equilibrium
    reference_equilibrium: Equilibrium
    max_element: float
    max_element_at: tuple[str, str]
    relative_max_element: float | None
    equilibrium_u: float
    game_equilibrium_u: float
    reference_exploitability: float
    game_exploitability: float
    strategy_l1: float
    spectral_error: float | None
    relative_spectral_error: float | None
    strategies: tuple[StrategyDifference, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """The strategies, in the game's order."""
        return self.game.labels

    def difference(self) -> list[list[float]]:
        """The matrix ``X - R`` (rows and columns in the game's label order)."""
        return _difference(self.game.rows, self.reference.rows)

    def distances(self) -> dict[str, object]:
        """The distance figures alone (what ``approximation.json`` keeps as ``distances``)."""
        return {
            "max_element": self.max_element,
            "max_element_at": list(self.max_element_at),
            "relative_max_element": self.relative_max_element,
            "equilibrium_u": self.equilibrium_u,
            "game_equilibrium_u": self.game_equilibrium_u,
            "reference_exploitability": self.reference_exploitability,
            "game_exploitability": self.game_exploitability,
            "strategy_l1": self.strategy_l1,
            "spectral_error": self.spectral_error,
            "relative_spectral_error": self.relative_spectral_error,
        }

    def to_json(self) -> dict[str, object]:
        """The contents of ``comparison.json``: finite numbers and nulls only."""
        return {
            "game": _side(self.game_source, self.game_equilibrium),
            "reference": _side(self.reference_source, self.reference_equilibrium),
            "labels": list(self.labels),
            **self.distances(),
            "strategies": [strategy.to_json() for strategy in self.strategies],
        }

    def summary_line(self, reference_name: str | None = None) -> str:
        """One console line, e.g. ``Comparison with ref.toml: max |X - R| 1.732 at (P, S);
        equilibrium_u 1.155; reference exploits the game's equilibrium by 0.5774;
        strategy L1 0.3333``. ``reference_name`` defaults to the reference's source."""
        row, column = self.max_element_at
        name = self.reference_source if reference_name is None else reference_name
        return (
            f"Comparison with {name}: max |X - R| "
            f"{_number(self.max_element)} at ({row}, {column}); "
            f"equilibrium_u {_number(self.equilibrium_u)}; "
            f"reference exploits the game's equilibrium by "
            f"{_number(self.reference_exploitability)}; "
            f"strategy L1 {_number(self.strategy_l1)}"
        )


def _side(source: str, equilibrium: Equilibrium) -> dict[str, object]:
    return {
        "source": source,
        "value": float(equilibrium.value),
        "row_strategy": list(equilibrium.row_strategy),
        "column_strategy": list(equilibrium.column_strategy),
        "solver": equilibrium.solver,
    }


def _number(value: float) -> str:
    return f"{value:.4g}"


def compare_games(
    game: Game | PayoffMatrix,
    reference: Game | PayoffMatrix,
    *,
    game_equilibrium: Equilibrium | None = None,
    reference_equilibrium: Equilibrium | None = None,
    spectral: bool = True,
    reference_norm: float | None = None,
) -> Comparison:
    """Compare the game X with the reference R (module docstring).

    The equilibria are solved (``monocycle_nash.solver.solve``) unless given; a given
    one must have its game's labels (any order for the reference's). ``spectral=False``
    skips the two spectral figures (each an O(n^3) spectrum); ``reference_norm`` is
    ``|R|_2`` when already known (a skew-symmetric reference's ``sigma_1``). Raise
    ``ComparisonError`` (a ``GameError``, one line) when the labels differ.
    """
    game_source, x = _matrix_of(game, "<game>")
    reference_source, r = _matrix_of(reference, "<reference>")
    order = _match_labels(x.labels, r.labels, reference_source)
    if game_equilibrium is None:
        game_equilibrium = solve(game)
    _check_equilibrium(game_equilibrium, x.labels, "game")
    game_equilibrium = _reordered(game_equilibrium, x.labels)
    if reference_equilibrium is None:
        reference_equilibrium = solve(reference)
    _check_equilibrium(reference_equilibrium, r.labels, "reference")
    if order is not None:
        r = PayoffMatrix(x.labels, tuple(tuple(r.rows[i][j] for j in order) for i in order))
    reference_equilibrium = _reordered(reference_equilibrium, x.labels)

    difference = _difference(x.rows, r.rows)
    max_element, at = _largest(difference)
    largest_reference = max(max(map(abs, row)) for row in r.rows)
    u_x, u_r = game_equilibrium.column_strategy, reference_equilibrium.column_strategy
    x_vs_r, r_vs_r, d_vs_r = (payoffs_against(m, u_r) for m in (x.rows, r.rows, difference))
    x_vs_x, r_vs_x, d_vs_x = (payoffs_against(m, u_x) for m in (x.rows, r.rows, difference))
    spectral_error, relative_spectral_error = (
        _spectral_errors(x.rows, r.rows, difference, reference_norm) if spectral else (None, None)
    )
    labels = x.labels
    strategies = tuple(
        StrategyDifference(label, *values)
        for label, *values in zip(
            labels,
            game_equilibrium.row_strategy,
            reference_equilibrium.row_strategy,
            x_vs_r,
            r_vs_r,
            d_vs_r,
            x_vs_x,
            r_vs_x,
            d_vs_x,
            strict=True,
        )
    )
    return Comparison(
        game_source=game_source,
        reference_source=reference_source,
        game=x,
        reference=r,
        game_equilibrium=game_equilibrium,
        reference_equilibrium=reference_equilibrium,
        max_element=max_element,
        max_element_at=(labels[at[0]], labels[at[1]]),
        relative_max_element=max_element / largest_reference if largest_reference else None,
        equilibrium_u=max(map(abs, d_vs_r)),
        game_equilibrium_u=max(map(abs, d_vs_x)),
        reference_exploitability=max(0.0, max(r_vs_x) - reference_equilibrium.value),
        game_exploitability=max(0.0, max(x_vs_r) - game_equilibrium.value),
        strategy_l1=math.fsum(
            abs(a - b)
            for a, b in zip(
                game_equilibrium.row_strategy, reference_equilibrium.row_strategy, strict=True
            )
        ),
        spectral_error=spectral_error,
        relative_spectral_error=relative_spectral_error,
        strategies=strategies,
    )


def _matrix_of(game: Game | PayoffMatrix, default_source: str) -> tuple[str, PayoffMatrix]:
    if isinstance(game, Game):
        return game.source, game.matrix
    return default_source, game


def _match_labels(
    labels: Sequence[str], reference_labels: Sequence[str], source: str
) -> list[int] | None:
    """Where each of ``labels`` is in ``reference_labels`` (None when in the same order)."""
    if tuple(labels) == tuple(reference_labels):
        return None
    position = {label: index for index, label in enumerate(reference_labels)}
    only_game = [label for label in labels if label not in position]
    mine = set(labels)
    only_reference = [label for label in reference_labels if label not in mine]
    if not only_game and not only_reference:
        return [position[label] for label in labels]
    parts = []
    if only_game:
        parts.append(f"only in the game: {_listing(only_game)}")
    if only_reference:
        parts.append(f"only in the reference: {_listing(only_reference)}")
    raise ComparisonError(
        source,
        f"the reference's strategies differ from the game's "
        f"({plural(len(labels), 'strategy', 'strategies')} and "
        f"{len(reference_labels)}), matched by label; " + "; ".join(parts),
    )


def _listing(labels: Sequence[str]) -> str:
    shown = ", ".join(brief(label, 30) for label in labels[:MAX_LISTED_LABELS])
    rest = len(labels) - MAX_LISTED_LABELS
    return shown + (f" and {rest} more" if rest > 0 else "")


def _check_equilibrium(equilibrium: Equilibrium, labels: Sequence[str], whose: str) -> None:
    if sorted(equilibrium.labels) != sorted(labels):
        raise ValueError(f"the {whose} equilibrium's labels are not the {whose}'s")


def _reordered(equilibrium: Equilibrium, labels: tuple[str, ...]) -> Equilibrium:
    """``equilibrium`` with its strategies in the order of ``labels`` (the same set)."""
    if equilibrium.labels == labels:
        return equilibrium
    here = {label: index for index, label in enumerate(equilibrium.labels)}
    take = [here[label] for label in labels]
    return Equilibrium(
        labels=labels,
        row_strategy=tuple(equilibrium.row_strategy[k] for k in take),
        column_strategy=tuple(equilibrium.column_strategy[k] for k in take),
        value=equilibrium.value,
        exploitability=equilibrium.exploitability,
        solver=equilibrium.solver,
        translation=equilibrium.translation,
        gap=equilibrium.gap,
        tolerance=equilibrium.tolerance,
    )


def _difference(
    rows: Sequence[Sequence[float]], reference: Sequence[Sequence[float]]
) -> list[list[float]]:
    return [
        [a - b for a, b in zip(row, other, strict=True)]
        for row, other in zip(rows, reference, strict=True)
    ]


def _largest(rows: Sequence[Sequence[float]]) -> tuple[float, tuple[int, int]]:
    """``max |rows|`` and the first (row-major) place it is found."""
    best, where = -1.0, (0, 0)
    for i, row in enumerate(rows):
        magnitudes = list(map(abs, row))
        top = max(magnitudes)
        if top > best:
            best, where = top, (i, magnitudes.index(top))
    return best, where


def _spectral_errors(
    game: Sequence[Sequence[float]],
    reference: Sequence[Sequence[float]],
    difference: list[list[float]],
    reference_norm: float | None,
) -> tuple[float | None, float | None]:
    """``|X - R|_2`` and that over ``|R|_2`` when both games are skew-symmetric.

    Each game is tested against its own size (``spectrum.SKEW_TOLERANCE``); the
    difference of two such games is then skew-symmetric up to their tolerances, and its
    skew part is used (a difference of nearly equal games is mostly round-off, which
    need not be skew-symmetric relative to its own size).
    """
    if skew_symmetry_defect(game) is not None or skew_symmetry_defect(reference) is not None:
        return None, None
    skew = [
        [(a - b) / 2.0 for a, b in zip(row, column, strict=True)]
        for row, column in zip(difference, zip(*difference, strict=True), strict=True)
    ]
    error = _top_level(skew)
    norm = _top_level(reference) if reference_norm is None else reference_norm
    return error, (error / norm if norm > 0.0 else None)


def _top_level(rows: Sequence[Sequence[float]]) -> float:
    levels = spectrum_of(rows).levels
    return levels[0] if levels else 0.0
