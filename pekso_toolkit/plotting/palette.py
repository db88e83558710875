"""Colours of the plots, from one ``palette`` argument.

Every ``plot_*`` function takes ``palette=None``; :func:`colors_for` turns it into one colour per
key (stage, exit kind, group). A palette is one of

* ``None``: the plot's own default colours (``tab10`` for stages and groups);
* the name of a matplotlib colour map (``"tab10"``, ``"Set2"``, ``"viridis"`` ...);
* a list of colours, used in turn;
* a mapping key -> colour (keys it does not name keep the default colour).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import matplotlib.pyplot as plt
from matplotlib.colors import Colormap, ListedColormap

__all__ = ["DEFAULT_PALETTE", "Palette", "colors_for"]

#: Colour map of stages and groups when no palette is given.
DEFAULT_PALETTE = "tab10"

Palette: TypeAlias = str | Colormap | Sequence[Any] | Mapping[str, Any] | None


def _from_colormap(keys: Sequence[str], cmap: Colormap) -> dict[str, Any]:
    if isinstance(cmap, ListedColormap) and cmap.N <= 20:  # qualitative: one colour each, in turn
        return {k: cmap(i % cmap.N) for i, k in enumerate(keys)}
    n = max(len(keys) - 1, 1)  # continuous: spread over the map
    return {k: cmap(i / n) for i, k in enumerate(keys)}


def colors_for(
    keys: Sequence[str], palette: Palette = None, *, default: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One colour per key, from ``palette`` (see the module docstring).

    Parameters
    ----------
    keys : sequence of str
        The things to colour, in the order colours are handed out.
    palette : str, Colormap, list of colours, mapping or None
        The user's choice.
    default : mapping, optional
        The plot's own colours for some keys (used when ``palette`` is None, and for keys a
        mapping palette leaves out).

    Returns
    -------
    dict of key -> colour
    """
    keys = [str(k) for k in keys]
    base = _from_colormap(keys, plt.get_cmap(DEFAULT_PALETTE))
    if default:
        base.update({k: v for k, v in default.items() if k in base})
    if palette is None:
        return base
    if isinstance(palette, Mapping):
        return {k: palette.get(k, base[k]) for k in keys}
    if isinstance(palette, str | Colormap):
        return _from_colormap(keys, plt.get_cmap(palette))
    colors = list(palette)
    if not colors:
        return base
    return {k: colors[i % len(colors)] for i, k in enumerate(keys)}
