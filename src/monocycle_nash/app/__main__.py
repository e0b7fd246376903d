"""``python -m monocycle_nash.app``: the main job."""

from __future__ import annotations

import sys

from monocycle_nash.app import main

if __name__ == "__main__":
    sys.exit(main())
