"""``python -m mm7client.cli``: the ``mm7`` command."""

from __future__ import annotations

import sys

from mm7client.cli import main

sys.exit(main())
