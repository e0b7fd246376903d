"""Standalone SVG pictures of solved games, made with the standard library only.

``equilibrium_svg`` draws the equilibrium strategy, ``characters_svg`` a roster's
matchup vectors with the support and translation point, ``payoff_graph_svg`` who beats
whom, ``comparison_svg`` where two games differ. Each returns the SVG document as a
string: the same input gives the same bytes, and the document holds no script and no
external reference.
"""

from __future__ import annotations

from monocycle_nash.plot.characters_chart import (
    MAX_CHARACTER_POINTS,
    PLOT_BOX,
    PlotScale,
    characters_scale,
    characters_svg,
)
from monocycle_nash.plot.comparison_chart import MAX_HEATMAP_STRATEGIES, comparison_svg
from monocycle_nash.plot.equilibrium_chart import DEFAULT_MAX_BARS, equilibrium_svg
from monocycle_nash.plot.payoff_graph import (
    DEFAULT_ARROWS_PER_STRATEGY,
    DEFAULT_THRESHOLD_FRACTION,
    MAX_GRAPH_STRATEGIES,
    default_threshold,
    payoff_graph_svg,
)

__all__ = [
    "DEFAULT_ARROWS_PER_STRATEGY",
    "DEFAULT_MAX_BARS",
    "DEFAULT_THRESHOLD_FRACTION",
    "MAX_CHARACTER_POINTS",
    "MAX_GRAPH_STRATEGIES",
    "MAX_HEATMAP_STRATEGIES",
    "PLOT_BOX",
    "PlotScale",
    "characters_scale",
    "characters_svg",
    "comparison_svg",
    "default_threshold",
    "equilibrium_svg",
    "payoff_graph_svg",
]
