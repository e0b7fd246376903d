"""Team games ("builds"): each player picks a team of characters, then one of its members.

Before the match each player picks a team S; then each picks one member of their own
team simultaneously and the row player gets ``A[s][t]``. A team S meeting a team S'
is worth the value of the |S| x |S'| sub-game ``A[S, S']`` to the row player, and the
team game is the matrix ``M[a][b] = val(A[S_a, S_b])``, an ordinary game with team
labels (RESEARCH.md section 1).

- Teams (``TeamSpec``): every set of ``size`` distinct characters (default 2) in
  lexicographic order of indices, labelled ``"<a>+<b>"``; or listed teams
  ``(label, members)``. A game file gives them as a ``[teams]`` table (``size = k`` or
  ``members = [{ label, members }, ...]``) or in the upstream project's spelling
  ``team = "strict" | "2by2" | "monocycle"`` (all pairs) with an optional ``teams =
  [...]`` list (entries: a list of member labels, or a ``{ label, members }`` table).
  ``parse_team_spec`` reads and checks them; more than ``MAX_TEAMS`` teams is refused.
- Values: 1 x k and k x 1 sub-games by their min / max; 2 x 2 ones in closed form (the
  saddle value when ``max(min(a, b), min(c, d)) == min(max(a, c), max(b, d))``, else
  ``a - (a - b)(a - c) / (a + d - b - c)``, which is ``(ad - bc) / (a + d - b - c)``
  without its cancellation); larger ones by their saddle point if they have one, else
  the simplex (``monocycle_nash.solver``, certified). With ``exact=True`` every entry is
  a ``Fraction`` (the exact simplex for larger sub-games).
- A skew-symmetric game (a roster, or a matrix within ``SKEW_TOLERANCE`` of it, taken as
  its skew part; exactly skew-symmetric in exact mode) has a skew-symmetric team
  matrix: ``val(A[S', S]) = -val(A[S, S'])`` and a zero diagonal, so one triangle is
  computed and mirrored. Any other game gets every entry computed.

``team_usage`` gives, for each character, the probability that the row player's
equilibrium team contains it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Any, NamedTuple, TypeVar, cast

from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.errors import LabelError, TeamError, brief
from monocycle_nash.game import Game
from monocycle_nash.matrix import PayoffMatrix, check_labels
from monocycle_nash.solver import solve, solve_matrix, solve_matrix_game_exact
from monocycle_nash.spectrum import SKEW_TOLERANCE, skew_symmetry_defect

__all__ = [
    "MAX_TEAMS",
    "TEAM_MODES",
    "ListedTeam",
    "TeamGame",
    "TeamSpec",
    "build_team_game",
    "parse_team_spec",
    "solve_team_game",
    "team_usage",
]

MAX_TEAMS = 5_000
"""The most teams a team game may have: its matrix has MAX_TEAMS^2 entries."""

TEAM_MODES = ("strict", "2by2", "monocycle")
"""The upstream project's ``team`` values; each means "every pair of characters"."""

_TEAM_TABLE_KEYS = ("size", "members")
_LISTED_KEYS = ("label", "members")
_SUBGAME_TOLERANCE = 1e-12  # relative certificate tolerance of an LP-valued sub-game

_Number = TypeVar("_Number", float, Fraction)


class ListedTeam(NamedTuple):
    """One team given by name: its ``label`` and its members' character labels."""

    label: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TeamSpec:
    """Which teams a team game has: every team of ``size`` characters, or ``listed`` ones.

    ``origin`` is how the input said so, for messages (``"[teams] size = 3"``,
    ``"team = '2by2'"``, ``"[teams] members"``, ``"teams"``). Build one with
    ``TeamSpec.of_size`` or ``TeamSpec.of_teams`` in a notebook; ``parse_team_spec``
    reads a game file's. It is checked against a game's characters when the team game
    is built (``TeamError``).
    """

    size: int = 2
    listed: tuple[ListedTeam, ...] | None = None
    origin: str = "teams"

    @classmethod
    def of_size(cls, size: int = 2) -> TeamSpec:
        """Every team of ``size`` distinct characters."""
        return cls(size=size, origin=f"size = {size!r}")

    @classmethod
    def of_teams(cls, teams: Mapping[str, Sequence[str]] | Iterable[Sequence[str]]) -> TeamSpec:
        """The listed teams: a mapping ``label -> members``, or member lists (each
        labelled by its members joined with ``+``)."""
        if isinstance(teams, Mapping):
            listed = [ListedTeam(label, tuple(members)) for label, members in teams.items()]
        else:
            listed = [ListedTeam("+".join(members), tuple(members)) for members in teams]
        return cls(listed=tuple(listed), origin="teams")


@dataclass(frozen=True, slots=True)
class TeamGame:
    """A team game: ``game`` (team labels, float payoff matrix) and each team's members.

    ``members[a]`` are team a's character labels and ``member_indices[a]`` their
    indices in the character game, whose labels are ``characters``. ``exact_rows`` holds
    the exact (``Fraction``) matrix when built with ``exact=True`` (``game``'s matrix is
    then its correctly rounded copy). ``mirrored`` says the character game was
    skew-symmetric, so one triangle was computed and mirrored.
    """

    game: Game
    members: tuple[tuple[str, ...], ...]
    member_indices: tuple[tuple[int, ...], ...]
    characters: tuple[str, ...]
    exact_rows: tuple[tuple[Fraction, ...], ...] | None = None
    mirrored: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """The team labels."""
        return self.game.labels

    def to_json(self) -> dict[str, object]:
        """The contents of ``team_matrix.json``: ``labels``, ``members``, ``matrix`` (and
        ``exact_matrix``, entries as ``"p/q"`` strings, in exact mode)."""
        payload: dict[str, object] = {
            "labels": list(self.labels),
            "members": [list(members) for members in self.members],
            "matrix": [list(row) for row in self.game.matrix.rows],
        }
        if self.exact_rows is not None:
            payload["exact_matrix"] = [[str(value) for value in row] for row in self.exact_rows]
        return payload


# --- reading and checking team specifications ------------------------------------------


def parse_team_spec(data: Mapping[str, Any], labels: Sequence[str], source: str) -> TeamSpec | None:
    """The teams of a parsed game file (``[teams]``, or upstream ``team`` / ``teams``),
    checked against the game's character ``labels``; None when the file has none.

    Raise ``TeamError`` naming ``source`` and the entry for anything wrong.
    """
    has_mode = "team" in data
    raw = data.get("teams")
    if raw is None and not has_mode:
        return None
    if isinstance(raw, Mapping):
        if has_mode:
            raise TeamError(
                source,
                f"has both a [teams] table and team = {brief(data['team'])}; "
                "give the teams one way",
            )
        spec = _parse_team_table(raw, source)
    elif raw is not None and (isinstance(raw, str) or not isinstance(raw, Sequence)):
        raise TeamError(
            source, f"teams must be a [teams] table or a list of teams, got {brief(raw)}"
        )
    else:
        mode = data.get("team")
        if has_mode and mode not in TEAM_MODES:
            raise TeamError(
                source,
                f"team must be one of {', '.join(map(repr, TEAM_MODES))} (every pair of "
                f"characters), got {brief(mode)}",
            )
        if raw is None:
            spec = TeamSpec(size=2, origin=f"team = {mode!r}")
        else:
            spec = TeamSpec(listed=_parse_listed(raw, "teams", source), origin="teams")
    resolve_teams(spec, labels, source)
    return spec


def _parse_team_table(table: Mapping[str, Any], source: str) -> TeamSpec:
    unknown = sorted(str(key) for key in table if key not in _TEAM_TABLE_KEYS)
    if unknown:
        raise TeamError(
            source, f"[teams] has unknown key {brief(unknown[0])} (expected size or members)"
        )
    if "size" in table and "members" in table:
        raise TeamError(
            source, "[teams] has both size and members; give the size of every team or the list"
        )
    if "members" in table:
        raw = table["members"]
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            raise TeamError(source, f"[teams] members must be a list of teams, got {brief(raw)}")
        listed = _parse_listed(raw, "[teams] members", source)
        return TeamSpec(listed=listed, origin="[teams] members")
    size = table.get("size", 2)
    if isinstance(size, bool) or not isinstance(size, int):
        raise TeamError(source, f"[teams] size must be a whole number, got {brief(size)}")
    origin = f"[teams] size = {size}" if "size" in table else "[teams] (size 2)"
    return TeamSpec(size=size, origin=origin)


def _parse_listed(raw: Sequence[Any], entry: str, source: str) -> tuple[ListedTeam, ...]:
    """Listed teams: tables ``{ label, members }`` (label optional) or member lists."""
    if len(raw) > MAX_TEAMS:
        raise TeamError(
            source, f"{entry} lists {len(raw):,} teams; at most {MAX_TEAMS:,} are practical"
        )
    teams: list[ListedTeam] = []
    for index, item in enumerate(raw):
        name = f"{entry}[{index}]"
        if isinstance(item, Mapping):
            unknown = sorted(str(key) for key in item if key not in _LISTED_KEYS)
            if unknown:
                raise TeamError(
                    source, f"{name} has unknown key {brief(unknown[0])} (expected label, members)"
                )
            if "members" not in item:
                raise TeamError(source, f"{name} is missing 'members'")
            members = _member_list(item["members"], f"{name}.members", source)
            label = item.get("label", "+".join(members))
        elif isinstance(item, str) or not isinstance(item, Sequence):
            raise TeamError(
                source,
                f"{name} must be a table {{ label, members }} or a list of character "
                f"labels, got {brief(item)}",
            )
        else:
            members = _member_list(item, name, source)
            label = "+".join(members)
        teams.append(ListedTeam(label, members))
    return tuple(teams)


def _member_list(raw: object, name: str, source: str) -> tuple[str, ...]:
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise TeamError(source, f"{name} must be a list of character labels, got {brief(raw)}")
    for index, member in enumerate(raw):
        if not isinstance(member, str):
            raise TeamError(
                source, f"{name}[{index}] must be a character label, got {brief(member)}"
            )
    return tuple(raw)


def resolve_teams(
    spec: TeamSpec, labels: Sequence[str], source: str
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Each team's label and member indices into ``labels``, in order.

    Raise ``TeamError`` naming ``source`` and the entry: a size below 1 or above the
    number of characters, more than ``MAX_TEAMS`` teams, an empty team, a member that is
    not a character or is named twice, a repeated team label, two teams with the same
    members.
    """
    count = len(labels)
    if spec.listed is None:
        size = spec.size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= count:
            raise TeamError(
                source,
                f"{spec.origin}: a team size must be from 1 to {count} (the number of "
                f"characters), got {brief(size)}",
            )
        teams_count = math.comb(count, size)
        if teams_count > MAX_TEAMS:
            raise TeamError(
                source,
                f"{spec.origin} makes {teams_count:,} teams of {size} out of {count} "
                f"characters; at most {MAX_TEAMS:,} are practical (list the teams instead)",
            )
        resolved = tuple(
            ("+".join(labels[i] for i in team), team) for team in combinations(range(count), size)
        )
        _check_team_labels(resolved, source, f"{spec.origin}: team labels", "")
        return resolved
    listed = spec.listed
    if len(listed) > MAX_TEAMS:
        raise TeamError(
            source,
            f"{spec.origin} lists {len(listed):,} teams; at most {MAX_TEAMS:,} are practical",
        )
    if not listed:
        raise TeamError(source, f"{spec.origin} lists no team")
    index_of = {label: index for index, label in enumerate(labels)}
    result: list[tuple[str, tuple[int, ...]]] = []
    seen: dict[frozenset[int], int] = {}
    for number, (label, members) in enumerate(listed):
        name = f"{spec.origin}[{number}]"
        if not members:
            raise TeamError(source, f"{name} has no members; a team needs at least one character")
        indices: list[int] = []
        for position, member in enumerate(members):
            index = index_of.get(member)
            if index is None:
                raise TeamError(
                    source,
                    f"{name} member {brief(member)} is not a character of this game",
                )
            if index in indices:
                raise TeamError(source, f"{name} names {brief(member)} twice (member {position})")
            indices.append(index)
        key = frozenset(indices)
        if key in seen:
            raise TeamError(
                source,
                f"{name} ({brief(label)}) has the same members as {spec.origin}[{seen[key]}]",
            )
        seen[key] = number
        result.append((label, tuple(indices)))
    _check_team_labels(result, source, spec.origin, ".label")
    return tuple(result)


def _check_team_labels(
    teams: Sequence[tuple[object, tuple[int, ...]]], source: str, entry: str, field: str
) -> None:
    """Team labels as ``check_labels`` wants labels (strings, not blank, unique), refused
    with a ``TeamError``."""
    try:
        check_labels((label for label, _ in teams), source, entry, field)
    except LabelError as err:
        raise TeamError(source, err.detail) from None


# --- building the team game --------------------------------------------------------------


def build_team_game(game: Game, spec: TeamSpec | None = None, *, exact: bool = False) -> TeamGame:
    """The team game of ``game`` (a matrix or a roster) for ``spec`` (default: the game
    file's teams, else every pair of characters).

    With ``exact=True`` every team payoff is a ``Fraction`` (``TeamGame.exact_rows``).
    Raise ``TeamError`` (naming ``game.source``) when the teams do not fit the game.
    """
    if spec is None:
        spec = game.teams if game.teams is not None else TeamSpec(origin="teams (every pair)")
    teams = resolve_teams(spec, game.labels, game.source)
    used = sorted({index for _, indices in teams for index in indices})
    position = {index: place for place, index in enumerate(used)}
    local = [tuple(position[index] for index in indices) for _, indices in teams]
    mirrored: bool
    exact_rows: tuple[tuple[Fraction, ...], ...] | None = None
    if exact:
        exact_payoffs, mirrored = _exact_payoffs(game, used)
        exact_matrix = _team_matrix(exact_payoffs, local, mirrored, _exact_value)
        exact_rows = tuple(tuple(row) for row in exact_matrix)
        rows = tuple(tuple(float(value) for value in row) for row in exact_matrix)
    else:
        payoffs, mirrored = _float_payoffs(game, used)
        rows = tuple(tuple(row) for row in _team_matrix(payoffs, local, mirrored, _float_value))
    team_labels = tuple(label for label, _ in teams)
    team_game = Game.of_matrix(PayoffMatrix(team_labels, rows), game.source)
    return TeamGame(
        game=team_game,
        members=tuple(tuple(game.labels[i] for i in indices) for _, indices in teams),
        member_indices=tuple(indices for _, indices in teams),
        characters=game.labels,
        exact_rows=exact_rows,
        mirrored=mirrored,
    )


def _float_payoffs(game: Game, used: Sequence[int]) -> tuple[list[list[float]], bool]:
    """The character payoffs among ``used`` and whether the game is skew-symmetric (a
    roster's matrix is, and is built so; a matrix within tolerance is taken as its
    skew part)."""
    if game.characters is not None:
        powers, xs, ys = game.arrays
        chosen = [(powers[i], xs[i], ys[i]) for i in used]
        payoffs = [[0.0] * len(chosen) for _ in chosen]
        for i, (p, x, y) in enumerate(chosen):
            row = payoffs[i]
            for j in range(i + 1, len(chosen)):
                q, v, w = chosen[j]
                row[j] = (p - q) + (x * w - y * v)
                payoffs[j][i] = -row[j]
        return payoffs, True
    rows = game.matrix.rows
    sub = [[rows[i][j] for j in used] for i in used]
    if skew_symmetry_defect(sub, relative_tolerance=SKEW_TOLERANCE) is None:
        return [
            [(a - b) / 2.0 for a, b in zip(row, column, strict=True)]
            for row, column in zip(sub, zip(*sub, strict=True), strict=True)
        ], True
    return sub, False


def _exact_payoffs(game: Game, used: Sequence[int]) -> tuple[list[list[Fraction]], bool]:
    """The exact character payoffs among ``used`` (floats convert exactly) and whether
    they are exactly skew-symmetric."""
    if game.characters is not None:
        powers, xs, ys = game.arrays
        chosen = [(Fraction(powers[i]), Fraction(xs[i]), Fraction(ys[i])) for i in used]
        zero = Fraction(0)
        payoffs = [[zero] * len(chosen) for _ in chosen]
        for i, (p, x, y) in enumerate(chosen):
            for j in range(i + 1, len(chosen)):
                q, v, w = chosen[j]
                payoffs[i][j] = p - q + x * w - y * v
                payoffs[j][i] = -payoffs[i][j]
        return payoffs, True
    rows = game.matrix.rows
    sub = [[Fraction(rows[i][j]) for j in used] for i in used]
    skew = all(sub[i][j] == -sub[j][i] for i in range(len(sub)) for j in range(i, len(sub)))
    return sub, skew


def _team_matrix(
    payoffs: Sequence[Sequence[_Number]],
    teams: Sequence[tuple[int, ...]],
    mirrored: bool,
    value_of: Callable[[list[list[_Number]]], _Number],
) -> list[list[_Number]]:
    """``M[a][b] = val(payoffs[S_a, S_b])``; one triangle (and a zero diagonal) when
    ``mirrored``."""
    count = len(teams)
    zero = payoffs[0][0] * 0
    matrix = [[zero] * count for _ in range(count)]
    for a, rows_of in enumerate(teams):
        sub_rows = [payoffs[i] for i in rows_of]
        row = matrix[a]
        for b in range(a + 1 if mirrored else 0, count):
            sub = [[sub_row[j] for j in teams[b]] for sub_row in sub_rows]
            value = value_of(sub)
            row[b] = value
            if mirrored:
                matrix[b][a] = zero - value  # not -value: no -0.0
    return matrix


def _closed_form(sub: Sequence[Sequence[_Number]]) -> _Number | None:
    """The value of ``sub`` when it is 1 x k, k x 1 or 2 x 2, or has a saddle point;
    None otherwise (then it needs the LP)."""
    if len(sub) == 1:
        return min(sub[0])
    if len(sub[0]) == 1:
        return max(row[0] for row in sub)
    if len(sub) == 2 and len(sub[0]) == 2:
        (a, b), (c, d) = sub
        low = max(min(a, b), min(c, d))
        high = min(max(a, c), max(b, d))
        if low == high:
            return low
        # No saddle: a - b and d - c have the same sign, so the denominator does not cancel.
        return a - (a - b) * (a - c) / (a + d - b - c)
    low = max(min(row) for row in sub)
    high = min(max(column) for column in zip(*sub, strict=True))
    return low if low == high else None


def _float_value(sub: Sequence[Sequence[float]]) -> float:
    value = _closed_form(sub)
    if value is not None:
        return value
    answer = solve_matrix(sub, method="simplex", tolerance=_SUBGAME_TOLERANCE, allow_highs=False)
    return answer.certificate.value


def _exact_value(sub: Sequence[Sequence[Fraction]]) -> Fraction:
    value = _closed_form(sub)
    if value is not None:
        return value
    return solve_matrix_game_exact(sub).value


# --- solving and reading the team game ---------------------------------------------------


def solve_team_game(
    team_game: TeamGame,
    *,
    exact: bool = False,
    method: str = "auto",
    tolerance: float | None = None,
) -> Equilibrium:
    """Solve the team game as ``solve`` would (same ``method`` and ``tolerance``).

    With ``exact=True`` and the exact matrix at hand (``build_team_game(...,
    exact=True)``), the exact method runs on that matrix, not on its rounded copy.
    """
    rows = team_game.exact_rows
    if not exact or rows is None:
        return solve(team_game.game, exact=exact, method=method, tolerance=tolerance)
    source = team_game.game.source
    if method not in ("auto", "exact"):  # solve refuses it with a SolverSettingError
        return solve(team_game.game, exact=True, method=method, tolerance=tolerance)
    # The exact path reads every entry through Fraction() and its float screening
    # accepts Fractions, so the exact matrix goes in as it is.
    answer = solve_matrix(
        cast("Sequence[Sequence[float]]", rows),
        method="exact",
        tolerance=tolerance,
        source=source,
    )
    return answer.equilibrium(team_game.labels)


def team_usage(team_game: TeamGame, equilibrium: Equilibrium) -> dict[str, float]:
    """For each character (in the character game's order), the probability that the row
    player's equilibrium team contains it: the sum of the weights of its teams.

    Characters in no team get 0. The weights sum to the mean team size, not to 1.
    """
    if equilibrium.labels != team_game.labels:
        raise ValueError("the equilibrium is not one of this team game (its labels differ)")
    weights: list[list[float]] = [[] for _ in team_game.characters]
    for weight, indices in zip(equilibrium.row_strategy, team_game.member_indices, strict=True):
        if weight:
            for index in indices:
                weights[index].append(weight)
    return {
        label: math.fsum(parts) for label, parts in zip(team_game.characters, weights, strict=True)
    }
