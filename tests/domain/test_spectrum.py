"""The spectrum of skew-symmetric games: levels, moduli, ratios, rosters in O(n)."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import pytest

from monocycle_nash import Character, Game, PayoffMatrix
from monocycle_nash.spectrum import (
    NotSkewSymmetricError,
    Spectrum,
    roster_spectrum,
    skew_symmetry_defect,
    spectrum_of,
)

# LAPACK's singular values (numpy.linalg.svd, one of each equal pair: the levels with
# multiplicity) of ``random_skew(n, seed)`` below. Computed ONCE by this one-off script,
# run by hand where numpy happened to be installed; numpy is never used by the tests:
#
#     import numpy as np
#     for n, seed in LAPACK_LEVELS:
#         values = np.linalg.svd(np.array(random_skew(n, seed)), compute_uv=False)
#         print((n, seed), tuple(float(v) for v in values[0 : 2 * (n // 2) : 2]))
LAPACK_LEVELS: dict[tuple[int, int], tuple[float, ...]] = {
    (2, 1): (0.7312715117751976,),
    (3, 2): (1.5558449855540413,),
    (4, 3): (1.038428555210525, 0.36505942039108663),
    (7, 4): (2.384819680099008, 1.4069006337995131, 0.45117336043846856),
    (12, 5): (
        3.370353032905775, 2.72508941393548, 2.0429802148237517, 1.5768869368519771,
        1.0593520507092928, 0.08290951172781913,
    ),
    (25, 6): (
        4.9318216172990175, 4.370223728363188, 3.9152184173055833, 3.70955404057801,
        3.3028288347399393, 2.8548377904624256, 2.411143163636997, 1.8884391483151797,
        1.2133881365706447, 0.9392105500725352, 0.749284297208941, 0.38732087182501523,
    ),
    (40, 7): (
        6.655144499714189, 6.405276243825392, 5.5524489202963645, 5.331628871105204,
        5.0208233997231355, 4.594852533867777, 4.170581668417765, 3.850040365365233,
        3.6333223050724914, 3.352457029719733, 2.8539221290384806, 2.42849787875623,
        2.2884916419631054, 1.7175213406548686, 1.548200281476938, 1.1866244391687084,
        0.8655272159028277, 0.7718802644998761, 0.44821325002325646, 0.09783865101748646,
    ),
    (61, 8): (
        8.179666624451526, 7.915006104854839, 7.765228329287394, 7.126336328919748,
        6.497860861062578, 6.2583949889511254, 5.885094538120998, 5.729792882776024,
        5.4286300607171425, 5.018356172005592, 4.863167952723217, 4.258545931185243,
        4.122609521497083, 3.9273457953363082, 3.792257527999023, 3.6780873089333426,
        3.3715189732719497, 3.0153044490838226, 2.7229055912441718, 2.550308295129193,
        2.085968584583265, 2.0246120706970743, 1.8043416016565894, 1.6784549466891907,
        1.4661849117668029, 1.1991029584104145, 0.948234474507144, 0.5308612673942789,
        0.32017176179769524, 0.1087458077769304,
    ),
}  # fmt: skip

# RESEARCH.md section 1: the team matrix of R, P, S, D (exact) and its levels (section 2).
TEAM_MATRIX = [
    ["0", "1/3", "3/4", "-1/3", "0", "1"],
    ["-1/3", "0", "0", "1/3", "1/4", "1"],
    ["-3/4", "0", "0", "-1/2", "-1/2", "1"],
    ["1/3", "-1/3", "1/2", "0", "1/4", "-1/4"],
    ["0", "-1/4", "1/2", "-1/4", "0", "1/8"],
    ["-1", "-1", "-1", "1/4", "-1/8", "0"],
]
TEAM_LEVELS = (1.9809853516888472, 0.8208680909879961, 0.028826150025094897)


def random_skew(n: int, seed: int) -> list[list[float]]:
    """Upper entries uniform in [-1, 1), mirrored (the matrices of LAPACK_LEVELS)."""
    rng = random.Random(seed)
    rows = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            rows[i][j] = rng.uniform(-1.0, 1.0)
            rows[j][i] = -rows[i][j]
    return rows


def exact_team_matrix() -> list[list[Fraction]]:
    return [[Fraction(value) for value in row] for row in TEAM_MATRIX]


def rps(entry: float) -> list[list[float]]:
    return [[0.0, -entry, entry], [entry, 0.0, -entry], [-entry, entry, 0.0]]


def close(a: float, b: float, scale: float, tolerance: float = 1e-12) -> bool:
    return abs(a - b) <= tolerance * scale


# --- worked examples --------------------------------------------------------------------


def test_rock_paper_scissors_has_level_6():
    """Rock-paper-scissors with entries ±2 sqrt(3) has levels [6] and moduli [6, 6, 0]."""
    result = spectrum_of(rps(2.0 * math.sqrt(3.0)))
    assert len(result.levels) == 1
    assert close(result.levels[0], 6.0, 6.0)
    assert [close(m, e, 6.0) for m, e in zip(result.moduli, (6.0, 6.0, 0.0), strict=True)] == [
        True
    ] * 3
    assert result.moduli[2] == 0.0
    assert (result.rank, result.multiplicities) == (2, (1,))
    assert result.ratio2_to_1 is None and result.dominant_gap is None


def test_rock_paper_scissors_roster_has_level_6():
    """The same game as a roster (p = 0, vectors of length 2 at 120 degrees) has level 6."""
    root3 = math.sqrt(3.0)
    roster = [
        Character("Rock", 0.0, (2.0, 0.0)),
        Character("Paper", 0.0, (-1.0, root3)),
        Character("Scissors", 0.0, (-1.0, -root3)),
    ]
    result = spectrum_of(Game.of_roster(roster))
    assert result.method == "roster-rank4"
    assert len(result.levels) == 1 and close(result.levels[0], 6.0, 6.0)
    assert result.rank == 2


@pytest.mark.parametrize(
    "matrix",
    [
        pytest.param([[float(v) for v in row] for row in exact_team_matrix()], id="float"),
        pytest.param(exact_team_matrix(), id="exact"),
    ],
)
def test_team_matrix_levels(matrix):
    """The team matrix of RESEARCH.md section 1 has the three levels of section 2."""
    result = spectrum_of(matrix)
    assert len(result.levels) == 3
    for got, expected in zip(result.levels, TEAM_LEVELS, strict=True):
        assert close(got, expected, TEAM_LEVELS[0])
    assert result.rank == 6 and result.multiplicities == (1, 1, 1)
    assert result.ratio2_to_1 == pytest.approx(TEAM_LEVELS[1] / TEAM_LEVELS[0], rel=1e-12)
    assert result.ratio3_to_1 == pytest.approx(TEAM_LEVELS[2] / TEAM_LEVELS[0], rel=1e-12)
    assert result.dominant_gap == pytest.approx(TEAM_LEVELS[0] / TEAM_LEVELS[1], rel=1e-12)
    assert result.tolerance == pytest.approx(1e-9 * TEAM_LEVELS[0])


# --- against LAPACK ---------------------------------------------------------------------


@pytest.mark.parametrize(("n", "seed"), list(LAPACK_LEVELS), ids=str)
def test_random_skew_matrices_match_lapack(n, seed):
    """Moduli of random skew-symmetric matrices agree with LAPACK's to 1e-12 sigma_1."""
    result = spectrum_of(random_skew(n, seed))
    reference = LAPACK_LEVELS[(n, seed)]
    expected = [value for value in reference for _ in range(2)] + [0.0] * (n % 2)
    top = reference[0]
    assert len(result.moduli) == n
    for got, want in zip(result.moduli, expected, strict=True):
        assert close(got, want, top)
    assert result.levels == pytest.approx(reference, abs=1e-12 * top)
    assert result.rank == 2 * (n // 2)


def test_matrix_given_as_game_or_payoff_matrix():
    """A matrix Game, a PayoffMatrix and plain rows give the same spectrum."""
    rows = random_skew(12, 5)
    matrix = PayoffMatrix.from_rows(rows)
    results = [spectrum_of(rows), spectrum_of(matrix), spectrum_of(Game.of_matrix(matrix))]
    assert results[0] == results[1] == results[2]
    assert results[0].method == "householder-ql"


# --- levels, zero and tolerance ---------------------------------------------------------


def block_diagonal(*values: float) -> list[list[float]]:
    """Blocks [[0, s], [-s, 0]]: levels exactly the given values."""
    n = 2 * len(values)
    rows = [[0.0] * n for _ in range(n)]
    for k, value in enumerate(values):
        rows[2 * k][2 * k + 1] = value
        rows[2 * k + 1][2 * k] = -value
    return rows


def test_repeated_level_has_multiplicity():
    """A level appearing twice is one level of multiplicity 2, rank 4."""
    result = spectrum_of(block_diagonal(3.0, 3.0, 1.0))
    assert result.levels == pytest.approx((3.0, 1.0), rel=1e-14)
    assert result.multiplicities == (2, 1)
    assert result.rank == 6
    assert result.ratio2_to_1 == pytest.approx(1.0 / 3.0)


def test_levels_closer_than_the_tolerance_merge():
    """Levels closer than the relative tolerance are one level; a smaller one splits them."""
    rows = block_diagonal(2.0, 2.0 * (1.0 + 1e-11), 0.5)
    assert spectrum_of(rows).multiplicities == (2, 1)
    assert spectrum_of(rows, relative_tolerance=1e-13).multiplicities == (1, 1, 1)


def test_tiny_levels_are_zero_relative_to_sigma_1():
    """A level below the tolerance times sigma_1 is zero, whatever the scale of the game."""
    for scale in (1e-200, 1.0, 1e200):
        result = spectrum_of(block_diagonal(scale, scale * 1e-12))
        assert result.levels == pytest.approx((scale,), rel=1e-14)
        assert result.rank == 2
        assert result.moduli[2:] == (0.0, 0.0)


def test_zero_matrix_has_no_levels():
    """The zero matrix has no levels, rank 0, tolerance 0 and null ratios."""
    result = spectrum_of([[0.0] * 4 for _ in range(4)])
    assert (result.levels, result.rank, result.tolerance) == ((), 0, 0.0)
    assert result.moduli == (0.0,) * 4
    assert result.ratio2_to_1 is None and result.ratio3_to_1 is None
    assert result.summary_line() == "Spectrum: the zero matrix (no levels, rank 0)"


def test_one_strategy():
    """A 1 x 1 game has one modulus, 0."""
    result = spectrum_of([[0.0]])
    assert (result.moduli, result.levels, result.rank) == ((0.0,), (), 0)


def test_huge_and_tiny_entries_do_not_overflow():
    """Entries near the payoff limit or far below 1 keep their levels (scaled, no overflow)."""
    for scale in (1e300, 1e-300):
        rows = [[value * scale for value in row] for row in random_skew(7, 4)]
        result = spectrum_of(rows)
        expected = [value * scale for value in LAPACK_LEVELS[(7, 4)]]
        assert result.levels == pytest.approx(expected, rel=1e-12)


def test_json_has_no_nan_or_infinity():
    """to_json holds every key of RESEARCH.md section 2 and only finite numbers or null."""
    for rows in (block_diagonal(2.0), random_skew(7, 4), [[0.0]]):
        payload = spectrum_of(rows).to_json()
        text = json.dumps(payload, allow_nan=False)
        assert {
            "levels",
            "moduli",
            "ratio2_to_1",
            "ratio3_to_1",
            "dominant_gap",
            "rank",
            "tolerance",
        } <= set(json.loads(text))


def test_summary_line():
    """The console line shows the top three levels, the count, the rank and the ratio."""
    line = spectrum_of(block_diagonal(4.0, 2.0, 1.0, 0.5)).summary_line()
    assert line == "Spectrum: levels 4, 2, 1, ... (4 levels) (rank 8); sigma2/sigma1 0.5"
    assert spectrum_of(block_diagonal(4.0)).summary_line() == (
        "Spectrum: levels 4 (rank 2); single level"
    )


# --- not skew-symmetric ---------------------------------------------------------------------


def test_general_matrix_has_no_spectrum():
    """A matrix that is not skew-symmetric raises NotSkewSymmetricError naming the worst pair."""
    matrix = PayoffMatrix(("a", "b", "c"), ((0.0, 2.0, 1.0), (1.0, 0.0, -1.0), (-1.0, 1.0, 0.0)))
    with pytest.raises(NotSkewSymmetricError) as caught:
        spectrum_of(matrix)
    reason = caught.value.reason
    assert str(caught.value) == reason and "\n" not in reason
    assert reason == (
        "not skew-symmetric: A['a']['b'] = 2 but A['b']['a'] = 1; tolerance 2e-09 "
        "(1e-09 of max |A|)"
    )
    assert caught.value.summary_line() == f"Spectrum: none, {reason}"


def test_nonzero_diagonal_has_no_spectrum():
    """A nonzero diagonal entry is named."""
    reason = skew_symmetry_defect([[0.0, 1.0], [-1.0, 0.5]])
    assert reason is not None and reason.startswith("not skew-symmetric: A[1][1] = 0.5 is not 0")


def test_nearly_skew_symmetric_matrix_is_accepted():
    """Defects within 1e-9 of max |A| are round-off: the skew part's spectrum is returned."""
    rows = random_skew(7, 4)
    rows[0][1] += 1e-12
    result = spectrum_of(rows)
    assert result.levels == pytest.approx(LAPACK_LEVELS[(7, 4)], rel=1e-11)
    rows[0][1] += 1e-6
    with pytest.raises(NotSkewSymmetricError):
        spectrum_of(rows)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([], id="empty"),
        pytest.param([[0.0, 1.0]], id="not-square"),
        pytest.param([[0.0, math.inf], [-math.inf, 0.0]], id="infinite"),
    ],
)
def test_bad_rows_are_refused(rows):
    """Empty, non-square or non-finite rows raise ValueError."""
    with pytest.raises(ValueError, match="spectrum needs"):
        spectrum_of(rows)


@pytest.mark.parametrize("tolerance", [0.0, 1.0, -1e-9, True, math.nan])
def test_bad_tolerance_is_refused(tolerance):
    """A relative tolerance outside (0, 1) raises ValueError."""
    with pytest.raises(ValueError, match="relative tolerance"):
        spectrum_of([[0.0]], relative_tolerance=tolerance)


# --- rosters ----------------------------------------------------------------------------------


def roster_kinds(rng: random.Random, n: int) -> dict[str, list[tuple[float, float, float]]]:
    """(p, x, y) rosters, generic and degenerate: the O(n) method's hard cases."""
    gauss = rng.gauss
    ts = [gauss(0, 1) for _ in range(n)]
    vectors = [(gauss(0, 1), gauss(0, 1)) for _ in range(n)]
    return {
        "gauss": [(gauss(0, 1), x, y) for x, y in vectors],
        "uniform": [(rng.random(), rng.random(), rng.random()) for _ in range(n)],
        "zero-powers": [(0.0, x, y) for x, y in vectors],
        "powers-in-span": [(0.3 * x - 0.2 * y + 5.0, x, y) for x, y in vectors],
        "collinear": [(gauss(0, 1), t, 2.0 * t) for t in ts],
        "collinear-zero-powers": [(0.0, t, 2.0 * t) for t in ts],
        "equal-vectors": [(gauss(0, 1), 1.0, 2.0) for _ in range(n)],
        "equal-powers": [(1e6, x, y) for x, y in vectors],
        "far-from-origin": [(1e3 * gauss(0, 1), 1e3 + x, 1e3 + y) for x, y in vectors],
        "all-equal": [(1.0, 1.0, 2.0)] * n,
    }


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 9, 30])
def test_roster_matches_its_matrix(n):
    """A roster's O(n) spectrum agrees with its matrix's to 1e-12 of the data's scale."""
    rng = random.Random(100 + n)
    for kind, rows in roster_kinds(rng, n).items():
        game = Game.of_roster([Character(f"c{i}", p, (x, y)) for i, (p, x, y) in enumerate(rows)])
        fast = spectrum_of(game)
        slow = spectrum_of(game.matrix)
        scale = max(slow.levels, default=0.0) + max(abs(v) for row in rows for v in row) ** 2
        assert fast.rank == slow.rank, kind
        assert fast.levels == pytest.approx(slow.levels, abs=1e-12 * scale), kind
        assert len(fast.moduli) == n


def test_roster_extreme_scales():
    """Rosters at the number limits, or far below 1, keep their levels (exact scaling)."""
    base = [(1.0, 0.0, 0.0), (-1.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.3, -0.1, 0.1)]
    reference = spectrum_of(PayoffMatrix.from_characters(
        [Character(f"c{i}", p, (x, y)) for i, (p, x, y) in enumerate(base)]
    ))  # fmt: skip
    for k in (-480, 490):
        p = [math.ldexp(a, 2 * k) for a, _, _ in base]
        x = [math.ldexp(b, k) for _, b, _ in base]
        y = [math.ldexp(c, k) for _, _, c in base]
        result = roster_spectrum(p, x, y)
        assert [math.ldexp(level, -2 * k) for level in result.levels] == pytest.approx(
            reference.levels, rel=1e-13
        )


def test_million_character_roster():
    """A 10^6-character roster's spectrum (known in closed form) is found in O(n)."""
    n = 1_000_000
    step = 2.0 * math.pi / n
    xs = [math.cos(k * step) for k in range(n)]
    ys = [math.sin(k * step) for k in range(n)]
    powers = [math.cos(2.0 * k * step) for k in range(n)]
    # 1, p, x, y are orthogonal, |x|^2 = |y|^2 = |p|^2 = n / 2: the matrix
    # p 1^T - 1 p^T + x y^T - y x^T has levels sqrt(n) |p| = n / sqrt(2) and |x| |y| = n / 2.
    result = roster_spectrum(powers, xs, ys)
    assert result.levels == pytest.approx((n / math.sqrt(2.0), n / 2.0), rel=1e-12)
    assert result.rank == 4 and len(result.moduli) == n
    zero_powers = roster_spectrum([0.0] * n, xs, ys)
    assert zero_powers.levels == pytest.approx((n / 2.0,), rel=1e-12)
    assert zero_powers.rank == 2


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        pytest.param(([], [], []), "non-empty", id="empty"),
        pytest.param(([0.0], [0.0, 1.0], [0.0]), "one length", id="ragged"),
        pytest.param(([math.nan], [0.0], [0.0]), "finite", id="nan"),
        pytest.param(([0.0], [1e200], [0.0]), "finite", id="too-large"),
    ],
)
def test_bad_roster_columns_are_refused(columns, message):
    """Columns of different lengths, empty, or with non-finite or too large numbers."""
    with pytest.raises(ValueError, match=message):
        roster_spectrum(*columns)


def test_spectrum_is_a_frozen_value():
    """A Spectrum is immutable."""
    result = spectrum_of([[0.0]])
    assert isinstance(result, Spectrum)
    with pytest.raises(AttributeError):
        result.rank = 3  # type: ignore[misc]
