"""The main job: ``python src/main.py [INPUT] [--note TEXT] [--project-id PID] [--root DIR]``."""

import sys

from monocycle_nash.app import main

if __name__ == "__main__":
    sys.exit(main())
