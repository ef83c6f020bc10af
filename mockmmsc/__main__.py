"""``python -m mockmmsc``: same as the ``mockmmsc`` command."""

from __future__ import annotations

import sys

from mockmmsc.cli import main

if __name__ == "__main__":
    sys.exit(main())
