"""``python -m monocycle_nash.runmeta``: the ``runmeta`` command line."""

from __future__ import annotations

import sys

from monocycle_nash.runmeta.cli import main

if __name__ == "__main__":
    sys.exit(main())
