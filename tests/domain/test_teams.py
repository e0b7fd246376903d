"""Team games: the teams a game file asks for, team payoffs, the team equilibrium, usage."""

from __future__ import annotations

import random
import tomllib
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import pytest

from monocycle_nash import (
    Character,
    Equilibrium,
    Game,
    PayoffMatrix,
    TeamError,
    TeamSpec,
    build_team_game,
    divergences,
    load_game,
    parse_game,
    pure_strategy_payoffs,
    solve_team_game,
    team_usage,
)
from monocycle_nash.solver import solve_matrix_game_exact
from monocycle_nash.teams import MAX_TEAMS, TeamGame, _closed_form

# RESEARCH.md section 1: the roster R, P, S, D, its matrix and its team game (exact).
ROSTER = """
characters = [
  { label = "R", p = 0, v = [1, 0] },
  { label = "P", p = 0, v = [-1, -1] },
  { label = "S", p = 0, v = [0, 1] },
  { label = "D", p = -0.5, v = [1, 1] },
]
"""
MATRIX = """
labels = ["R", "P", "S", "D"]
matrix = [[0, -1, 1, 1.5], [1, 0, -1, 0.5], [-1, 1, 0, -0.5], [-1.5, -0.5, 0.5, 0]]
"""
TEAM_LABELS = ("R+P", "R+S", "R+D", "P+S", "P+D", "S+D")
TEAM_MATRIX = [
    ["0", "1/3", "3/4", "-1/3", "0", "1"],
    ["-1/3", "0", "0", "1/3", "1/4", "1"],
    ["-3/4", "0", "0", "-1/2", "-1/2", "1"],
    ["1/3", "-1/3", "1/2", "0", "1/4", "-1/4"],
    ["0", "-1/4", "1/2", "-1/4", "0", "1/8"],
    ["-1", "-1", "-1", "1/4", "-1/8", "0"],
]
EQUILIBRIUM = ("1/3", "1/3", "0", "1/3", "0", "0")
DIVERGENCE = ("0", "0", "5/12", "0", "1/6", "7/12")


def exact(values):
    return [Fraction(value) for value in values]


def game_of(text: str, source: str = "game.toml") -> Game:
    return parse_game(tomllib.loads(text), source)


def random_roster(n: int, seed: int) -> Game:
    rng = random.Random(seed)
    return Game.of_roster(
        [
            Character(f"c{i}", rng.random(), (rng.uniform(-1, 1), rng.uniform(-1, 1)))
            for i in range(n)
        ]
    )


# --- the worked example ----------------------------------------------------------------


@pytest.mark.parametrize("text", [ROSTER, MATRIX], ids=["roster", "matrix"])
def test_worked_example_exact(text):
    """Exact mode gives the team matrix of RESEARCH.md section 1 in Fractions, its unique
    equilibrium RP = RS = PS = 1/3 with value 0, and the divergence vector."""
    team = build_team_game(game_of(text), exact=True)
    assert team.labels == TEAM_LABELS
    assert team.members[0] == ("R", "P") and team.member_indices[5] == (2, 3)
    assert team.mirrored
    assert team.exact_rows == tuple(tuple(exact(row)) for row in TEAM_MATRIX)
    assert team.game.matrix.rows == tuple(
        tuple(float(Fraction(v)) for v in row) for row in TEAM_MATRIX
    )
    equilibrium = solve_team_game(team, exact=True)
    assert equilibrium.solver == "simplex-exact"
    assert equilibrium.row_strategy == tuple(float(Fraction(w)) for w in EQUILIBRIUM)
    assert equilibrium.value == 0.0 and equilibrium.gap == 0.0
    strategy = exact(EQUILIBRIUM)
    payoffs = [sum(a * w for a, w in zip(row, strategy, strict=True)) for row in team.exact_rows]
    assert [max(payoffs) - payoff for payoff in payoffs] == exact(DIVERGENCE)


@pytest.mark.parametrize("text", [ROSTER, MATRIX], ids=["roster", "matrix"])
def test_worked_example_float(text):
    """Float mode gives the same team matrix, equilibrium, value and divergences to round-off."""
    team = build_team_game(game_of(text))
    assert team.exact_rows is None
    for row, expected in zip(team.game.matrix.rows, TEAM_MATRIX, strict=True):
        assert row == pytest.approx([float(Fraction(v)) for v in expected], abs=1e-15)
    equilibrium = solve_team_game(team)
    assert equilibrium.row_strategy == pytest.approx(
        [float(Fraction(w)) for w in EQUILIBRIUM], abs=1e-12
    )
    assert equilibrium.value == pytest.approx(0.0, abs=1e-12)
    payoffs = pure_strategy_payoffs(team.game, equilibrium.column_strategy)
    assert divergences(payoffs) == pytest.approx(
        [float(Fraction(d)) for d in DIVERGENCE], abs=1e-12
    )


def test_worked_example_usage():
    """R, P and S are each in the equilibrium team with probability 2/3; D never."""
    team = build_team_game(game_of(ROSTER), exact=True)
    usage = team_usage(team, solve_team_game(team, exact=True))
    assert list(usage) == ["R", "P", "S", "D"]
    assert usage == pytest.approx({"R": 2 / 3, "P": 2 / 3, "S": 2 / 3, "D": 0.0}, abs=1e-15)


def test_team_matrix_json():
    """to_json holds labels, members and matrix; exact mode adds the matrix as fractions."""
    team = build_team_game(game_of(ROSTER), exact=True)
    payload = team.to_json()
    assert payload["labels"] == list(TEAM_LABELS)
    assert payload["members"][2] == ["R", "D"]
    assert payload["exact_matrix"] == TEAM_MATRIX
    assert payload["matrix"][0][1] == float(Fraction(1, 3))
    assert "exact_matrix" not in build_team_game(game_of(ROSTER)).to_json()


def test_mirrored_zero_is_not_negative():
    """Mirrored zeros are written 0.0, never -0.0."""
    rows = build_team_game(game_of(ROSTER)).game.matrix.rows
    assert all(str(value) != "-0.0" for row in rows for value in row)


# --- the teams a game file asks for ------------------------------------------------------


@pytest.mark.parametrize(
    "teams",
    [
        pytest.param("[teams]\n", id="empty-table"),
        pytest.param("[teams]\nsize = 2\n", id="size"),
        pytest.param('team = "strict"\n', id="upstream-strict"),
        pytest.param('team = "2by2"\n', id="upstream-2by2"),
        pytest.param('team = "monocycle"\n', id="upstream-monocycle"),
    ],
)
def test_every_pair_spellings(teams):
    """An empty [teams], size = 2 and the upstream team = ... all mean every pair."""
    game = game_of(ROSTER + teams)
    assert game.teams is not None
    assert build_team_game(game).labels == TEAM_LABELS


def test_game_without_teams():
    """A game file without teams has teams None; the team game then takes every pair."""
    game = game_of(ROSTER)
    assert game.teams is None
    assert build_team_game(game).labels == TEAM_LABELS


def test_listed_teams_in_a_table():
    """[teams] members lists teams by label and members, in the order given."""
    game = game_of(
        ROSTER
        + """
[teams]
members = [
  { label = "RP", members = ["R", "P"] },
  { label = "PS", members = ["P", "S"] },
  { label = "Solo D", members = ["D"] },
  { members = ["S", "R"] },
]
"""
    )
    team = build_team_game(game, exact=True)
    assert team.labels == ("RP", "PS", "Solo D", "S+R")
    assert team.members == (("R", "P"), ("P", "S"), ("D",), ("S", "R"))
    # Rows RP, columns Solo D: max(3/2, 1/2); rows Solo D against S+R: min(1/2, -3/2).
    assert team.exact_rows[0][2] == Fraction(3, 2)
    assert team.exact_rows[2][3] == Fraction(-3, 2)


def test_upstream_team_list():
    """The upstream teams = [...] list (member lists or tables) goes with team = ..."""
    upstream = """
team = "2by2"
teams = [["R", "P"], ["R", "S"], { label = "PS", members = ["P", "S"] }]
"""
    game = game_of(ROSTER + upstream)
    team = build_team_game(game, exact=True)
    assert team.labels == ("R+P", "R+S", "PS")
    assert team.exact_rows == (
        tuple(exact(["0", "1/3", "-1/3"])),
        tuple(exact(["-1/3", "0", "1/3"])),
        tuple(exact(["1/3", "-1/3", "0"])),
    )


def test_teams_of_three_use_the_lp():
    """Teams of 3 (3 x 3 sub-games) are valued by the LP, exactly in exact mode."""
    game = game_of(ROSTER + "[teams]\nsize = 3\n")
    team = build_team_game(game, exact=True)
    floats = build_team_game(game)
    assert team.labels == ("R+P+S", "R+P+D", "R+S+D", "P+S+D")
    payoffs = [[Fraction(v) for v in row] for row in game.matrix.rows]
    for a, b in combinations(range(4), 2):
        rows, columns = team.member_indices[a], team.member_indices[b]
        sub = [[payoffs[i][j] for j in columns] for i in rows]
        value = solve_matrix_game_exact(sub).value
        assert team.exact_rows[a][b] == value == -team.exact_rows[b][a]
        assert floats.game.matrix.rows[a][b] == pytest.approx(float(value), abs=1e-12)


def test_load_game_carries_teams(tmp_path: Path):
    """load_game reads [teams]; with_teams keeps the game's matrix."""
    path = tmp_path / "teams.toml"
    path.write_text(MATRIX + "[teams]\nsize = 1\n", encoding="utf-8")
    game = load_game(path)
    assert game.teams == TeamSpec(size=1, origin="[teams] size = 1")
    team = build_team_game(game)
    assert team.labels == ("R", "P", "S", "D")
    assert team.game.matrix.rows == game.matrix.rows
    assert game.with_teams(None).matrix is game.matrix


def test_notebook_specs():
    """TeamSpec.of_size and TeamSpec.of_teams build specs in a notebook."""
    game = game_of(ROSTER)
    assert build_team_game(game, TeamSpec.of_size(1)).labels == ("R", "P", "S", "D")
    listed = build_team_game(game, TeamSpec.of_teams({"x": ["R"], "y": ["P", "S"]}))
    assert listed.labels == ("x", "y")
    assert build_team_game(game, TeamSpec.of_teams([["R", "D"]])).labels == ("R+D",)


# --- bad team input ---------------------------------------------------------------------


BAD_TEAMS = [
    pytest.param(
        '[teams]\nmembers = [{ label = "X", members = ["R", "Lizard"] }]\n',
        "[teams] members[0] member 'Lizard' is not a character of this game",
        id="unknown-member",
    ),
    pytest.param(
        '[teams]\nmembers = [{ label = "X", members = ["R"] }, { label = "X", members = ["P"] }]\n',
        "[teams] members[1].label repeats the label 'X' of [teams] members[0].label",
        id="duplicate-label",
    ),
    pytest.param(
        '[teams]\nmembers = [{ label = "X", members = [] }]\n',
        "[teams] members[0] has no members; a team needs at least one character",
        id="empty-team",
    ),
    pytest.param(
        "[teams]\nmembers = []\n",
        "[teams] members lists no team",
        id="no-team",
    ),
    pytest.param(
        "[teams]\nsize = 5\n",
        "[teams] size = 5: a team size must be from 1 to 4 (the number of characters), got 5",
        id="size-above-roster",
    ),
    pytest.param(
        "[teams]\nsize = 0\n",
        "[teams] size = 0: a team size must be from 1 to 4",
        id="size-zero",
    ),
    pytest.param(
        "[teams]\nsize = 1.5\n",
        "[teams] size must be a whole number, got 1.5",
        id="size-not-integer",
    ),
    pytest.param(
        "[teams]\nsize = true\n",
        "[teams] size must be a whole number, got True",
        id="size-boolean",
    ),
    pytest.param(
        'team = "2by2"\n[teams]\nsize = 2\n',
        "has both a [teams] table and team = '2by2'; give the teams one way",
        id="both-spellings",
    ),
    pytest.param(
        '[teams]\nsize = 2\nmembers = [["R", "P"]]\n',
        "[teams] has both size and members",
        id="size-and-members",
    ),
    pytest.param(
        "[teams]\nsizes = 2\n",
        "[teams] has unknown key 'sizes' (expected size or members)",
        id="unknown-key",
    ),
    pytest.param(
        'team = "pairs"\n',
        "team must be one of 'strict', '2by2', 'monocycle' (every pair of characters), got 'pairs'",
        id="unknown-mode",
    ),
    pytest.param(
        'teams = "R+P"\n',
        "teams must be a [teams] table or a list of teams, got 'R+P'",
        id="teams-a-string",
    ),
    pytest.param(
        "[teams]\nmembers = [3]\n",
        "[teams] members[0] must be a table { label, members } or a list of character "
        "labels, got 3",
        id="entry-not-a-team",
    ),
    pytest.param(
        '[teams]\nmembers = [{ label = "X", members = "R" }]\n',
        "[teams] members[0].members must be a list of character labels, got 'R'",
        id="members-a-string",
    ),
    pytest.param(
        '[teams]\nmembers = [{ label = "X" }]\n',
        "[teams] members[0] is missing 'members'",
        id="members-missing",
    ),
    pytest.param(
        '[teams]\nmembers = [{ label = "X", members = ["R"], size = 1 }]\n',
        "[teams] members[0] has unknown key 'size' (expected label, members)",
        id="entry-unknown-key",
    ),
    pytest.param(
        '[teams]\nmembers = [["R", 1]]\n',
        "[teams] members[0][1] must be a character label, got 1",
        id="member-not-a-string",
    ),
    pytest.param(
        '[teams]\nmembers = [{ label = 7, members = ["R"] }]\n',
        "[teams] members[0].label must be a string, got 7",
        id="label-not-a-string",
    ),
    pytest.param(
        '[teams]\nmembers = [["R", "P", "R"]]\n',
        "[teams] members[0] names 'R' twice (member 2)",
        id="member-twice",
    ),
    pytest.param(
        '[teams]\nmembers = [["R", "P"], { label = "PR", members = ["P", "R"] }]\n',
        "[teams] members[1] ('PR') has the same members as [teams] members[0]",
        id="same-members",
    ),
    pytest.param(
        'team = "strict"\nteams = [["R", "Lizard"]]\n',
        "teams[0] member 'Lizard' is not a character of this game",
        id="upstream-unknown-member",
    ),
]


@pytest.mark.parametrize(("teams", "message"), BAD_TEAMS)
def test_bad_teams_are_refused_in_one_line(teams, message):
    """Bad team input raises TeamError: one line naming the file and the entry."""
    with pytest.raises(TeamError) as caught:
        game_of(ROSTER + teams)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"game.toml: {message}")


def test_too_many_teams_by_size():
    """A size whose teams outnumber MAX_TEAMS is refused before any is built."""
    characters = "\n".join(f'  {{ label = "c{i}", p = 0, v = [0, 0] }},' for i in range(101))
    text = f"characters = [\n{characters}\n]\n[teams]\nsize = 2\n"
    with pytest.raises(TeamError, match=r"size = 2 makes 5,050 teams of 2 out of 101 characters"):
        game_of(text)
    assert MAX_TEAMS == 5_000


def test_too_many_listed_teams():
    """A list of more than MAX_TEAMS teams is refused."""
    listed = ", ".join(['["R"]'] * (MAX_TEAMS + 1))
    with pytest.raises(TeamError, match=r"\[teams\] members lists 5,001 teams; at most 5,000"):
        game_of(f"{ROSTER}\n[teams]\nmembers = [{listed}]\n")


def test_spec_from_a_notebook_is_checked_when_built():
    """A notebook spec naming an unknown character fails when the team game is built."""
    with pytest.raises(TeamError, match="teams\\[0\\] member 'Q' is not a character"):
        build_team_game(game_of(ROSTER), TeamSpec.of_teams([["Q"]]))
    with pytest.raises(TeamError, match="size = 9: a team size must be from 1 to 4"):
        build_team_game(game_of(ROSTER), TeamSpec.of_size(9))


def test_usage_needs_the_team_games_equilibrium():
    """team_usage refuses an equilibrium of another game."""
    team = build_team_game(game_of(ROSTER))
    other = Equilibrium(("a",), (1.0,), (1.0,), 0.0, 0.0, "hand")
    with pytest.raises(ValueError, match="not one of this team game"):
        team_usage(team, other)


# --- payoffs: closed form, general games, larger rosters ---------------------------------


def test_closed_form_agrees_with_the_lp():
    """The 2 x 2 closed form equals the exact LP value on random and tied sub-games."""
    rng = random.Random(7)
    for _ in range(400):
        sub = [[Fraction(rng.randint(-3, 3)) for _ in range(2)] for _ in range(2)]
        assert _closed_form(sub) == solve_matrix_game_exact(sub).value
        floats = [[float(v) + rng.uniform(-1, 1) for v in row] for row in sub]
        expected = solve_matrix_game_exact([[Fraction(v) for v in row] for row in floats]).value
        assert _closed_form(floats) == pytest.approx(float(expected), abs=1e-14)


def test_closed_form_does_not_cancel():
    """Large payoffs with a small spread keep their value: 1e8 + 1/2, not (ad - bc) noise."""
    big = 1e8
    assert _closed_form([[big + 1, big], [big, big + 1]]) == big + 0.5


def test_general_game_computes_every_entry():
    """A game that is not skew-symmetric gets every team payoff computed (no mirroring)."""
    rng = random.Random(11)
    rows = [[rng.uniform(-1, 1) for _ in range(4)] for _ in range(4)]
    game = Game.of_matrix(PayoffMatrix.from_rows(rows, ["a", "b", "c", "d"]))
    for exact_mode in (False, True):
        team = build_team_game(game, exact=exact_mode)
        assert not team.mirrored
        payoffs = [[Fraction(v) for v in row] for row in rows]
        for a, rows_of in enumerate(team.member_indices):
            for b, columns_of in enumerate(team.member_indices):
                sub = [[payoffs[i][j] for j in columns_of] for i in rows_of]
                value = solve_matrix_game_exact(sub).value
                got = team.exact_rows[a][b] if team.exact_rows else team.game.matrix.rows[a][b]
                assert got == (value if exact_mode else pytest.approx(float(value), abs=1e-14))


def test_general_game_usage_is_the_row_players():
    """In a general team game the usage comes from the row player's strategy."""
    rows = [[0.0, 2.0, -1.0], [1.0, 0.0, 3.0], [-2.0, 1.0, 0.5]]
    game = Game.of_matrix(PayoffMatrix.from_rows(rows, ["a", "b", "c"]))
    team = build_team_game(game, TeamSpec.of_size(1))
    equilibrium = solve_team_game(team)
    assert tuple(team_usage(team, equilibrium).values()) == pytest.approx(equilibrium.row_strategy)


def test_sixteen_character_team_game():
    """A 16-character roster has 120 teams, an exactly skew-symmetric team matrix whose
    entries match the exact LP, and a team equilibrium whose usage sums to 2."""
    game = random_roster(16, 3)
    team = build_team_game(game)
    assert isinstance(team, TeamGame) and len(team.labels) == 120
    rows = team.game.matrix.rows
    assert all(rows[a][b] == -rows[b][a] for a in range(120) for b in range(120))
    payoffs = [[Fraction(v) for v in row] for row in game.matrix.rows]
    rng = random.Random(5)
    for a, b in ((rng.randrange(120), rng.randrange(120)) for _ in range(40)):
        sub = [[payoffs[i][j] for j in team.member_indices[b]] for i in team.member_indices[a]]
        assert rows[a][b] == pytest.approx(float(solve_matrix_game_exact(sub).value), abs=1e-12)
    equilibrium = solve_team_game(team)
    assert sum(team_usage(team, equilibrium).values()) == pytest.approx(2.0)
    exact_team = build_team_game(game, exact=True)
    exact_equilibrium = solve_team_game(exact_team, exact=True)
    assert exact_equilibrium.support == equilibrium.support
    assert exact_equilibrium.gap == 0.0


def test_exact_team_game_keeps_fractions_the_floats_would_lose():
    """Exact team payoffs are computed from the exact roster, not from rounded payoffs."""
    game = Game.of_roster(
        [
            Character("a", 0.1, (0.3, 0.7)),
            Character("b", 0.2, (-0.6, 0.1)),
            Character("c", 0.0, (0.2, -0.9)),
        ]
    )
    team = build_team_game(game, TeamSpec.of_size(1), exact=True)
    p, v = Fraction(0.1), (Fraction(0.3), Fraction(0.7))
    q, w = Fraction(0.2), (Fraction(-0.6), Fraction(0.1))
    assert team.exact_rows[0][1] == p - q + v[0] * w[1] - v[1] * w[0]
