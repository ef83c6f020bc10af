"""The project's copy of the requirement tables is intact and, where the originals are beside
the repository, identical to them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from seedcheck import ALIMTALK_SEED_NAME, LGT_SEED_NAME, SEED_COPY_DIR

#: Where the requirement documents are kept beside the repository, when they are.
ORIGINALS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def _pinned() -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in (SEED_COPY_DIR / "SHA256SUMS").read_text("ascii").splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.lstrip("*")] = digest
    return sums


@pytest.mark.parametrize("name", [LGT_SEED_NAME, ALIMTALK_SEED_NAME])
def test_seed_copy_is_pinned(name: str) -> None:
    digest = hashlib.sha256((SEED_COPY_DIR / name).read_bytes()).hexdigest()
    assert _pinned()[name] == digest


@pytest.mark.parametrize("name", [LGT_SEED_NAME, ALIMTALK_SEED_NAME])
def test_seed_copy_matches_the_originals_where_they_are(name: str) -> None:
    original = ORIGINALS_DIR / name
    copy = (SEED_COPY_DIR / name).read_bytes()
    # A clone alone has no originals beside it: the pinned digest above is then the check, and
    # this test still proves the copy is a non-empty text table.
    expected = original.read_bytes() if original.is_file() else copy
    assert copy == expected
    assert copy.decode("utf-8").count("\n") > 20
