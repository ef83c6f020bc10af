"""Parse the requirement seed files and check the shipped code tables against them.

The code tables shipped in ``mm7client/codes/`` (``lgt_mm7.csv``, ``alimtalk.csv``) are derived
from two requirement documents. The project keeps its own copy of them as test data in
``tests/data/seeds/`` (the tests read that copy, so a clone passes its tests alone):

* ``lgt-mm7-result-codes.txt`` holds the LGT MM7 table twice: an annotated copy (tab separated,
  a leading ``TYPE`` column, a trailing Korean ``Mark`` explanation, a stray ``•`` line) and a
  plain data copy with only the six data columns. The copies disagree on one row (``Expired``).
* ``alimtalk-messaging-codes.txt`` is a table pasted from a web page: ``|`` separated cells,
  section lines such as ``RESULT_CD1 (KKO result code) |`` and rows split across lines
  (``KKO_1001 | NoJsonBody ... |`` followed by ``Mediator | |``).

Run ``python tests/seedcheck.py tests/data/seeds`` (or any folder holding newer seed files) to
compare the package data with the seeds; it prints every difference and exits 1 if there is any.
This is a developer tool: it lives with the tests, not in the runtime package.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

#: The project's own copy of the requirement tables (test data).
SEED_COPY_DIR = Path(__file__).resolve().parent / "data" / "seeds"

logger = logging.getLogger(__name__)

LGT_SEED_NAME = "lgt-mm7-result-codes.txt"
ALIMTALK_SEED_NAME = "alimtalk-messaging-codes.txt"

#: The seed's data columns, in the seed's order and spelling.
LGT_SEED_COLUMNS: tuple[str, ...] = (
    "provider",
    "msgType",
    "resultType",
    "originResult",
    "convertResult",
    "resultMessage",
)

#: Rows each LGT copy must hold; a parser regression that loses rows fails loudly.
LGT_EXPECTED_ROWS = 38
#: Codes the Alim Talk seed must yield: 5 MSG_TYPE, 57 RESULT_CD1 (OK + 56 KKO_*),
#: 36 RESULT_CD2 SMS (OK + 35 SMS_*), 20 RESULT_CD2 MMS, 10 AGT_*.
ALIMTALK_EXPECTED_CODES = 128

_SYSTEMS = frozenset({"Mediator", "Agent"})
_SECTION_RE = re.compile(r"^(?P<label>[A-Za-z0-9_ ]+?)\s*\((?P<note>[^()]*)\)$")


@dataclass(frozen=True, slots=True)
class LgtSeedRow:
    """One row of the LGT seed; ``explanation`` is empty for rows of the plain copy."""

    provider: str
    msgType: str  # the seed's column names, kept verbatim
    resultType: str
    originResult: str
    convertResult: str
    resultMessage: str
    explanation: str = ""
    type_label: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The identity of a row: provider, resultType, originResult and (reports) StatusText."""
        message = self.resultMessage if self.resultType == "2" else ""
        return (self.provider, self.resultType, self.originResult, message)

    def data(self) -> tuple[str, str, str, str, str, str]:
        """The six data columns as strings, in the seed's order."""
        return (
            self.provider,
            self.msgType,
            self.resultType,
            self.originResult,
            self.convertResult,
            self.resultMessage,
        )


@dataclass(frozen=True, slots=True)
class LgtSeed:
    """Both copies of the LGT table as found in the seed file."""

    annotated: tuple[LgtSeedRow, ...]
    plain: tuple[LgtSeedRow, ...]

    def conflicts(self) -> list[tuple[LgtSeedRow, LgtSeedRow]]:
        """Pairs (annotated, plain) of rows with the same key whose data columns differ."""
        plain_by_key = {row.key: row for row in self.plain}
        out: list[tuple[LgtSeedRow, LgtSeedRow]] = []
        for row in self.annotated:
            other = plain_by_key.get(row.key)
            if other is not None and other.data() != row.data():
                out.append((row, other))
        return out

    def merged(self) -> list[LgtSeedRow]:
        """The plain copy's data (the default in conflicts) with the annotated explanations."""
        notes = {row.key: row for row in self.annotated}
        out: list[LgtSeedRow] = []
        for row in self.plain:
            note = notes.get(row.key)
            out.append(
                LgtSeedRow(
                    *row.data(),
                    explanation=note.explanation if note else "",
                    type_label=note.type_label if note else "",
                )
            )
        return out


@dataclass(frozen=True, slots=True)
class AlimTalkSeedRow:
    """One code of the Alim Talk seed, with the section it was listed under."""

    category: str
    code: str
    description: str
    system: str


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("\t")]


def parse_lgt_seed(text: str) -> LgtSeed:
    """Parse the LGT seed text into its annotated and plain copies.

    The annotated copy starts at the header beginning with ``TYPE`` and the plain copy at the
    header beginning with ``provider``. A row's ``TYPE`` label (``SUBMIT ACK``, ``REPORT``)
    appears only on one row of its group in the seed and is kept as found.
    """
    annotated: list[LgtSeedRow] = []
    plain: list[LgtSeedRow] = []
    mode: str | None = None
    for raw in text.splitlines():
        cells = _cells(raw)
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            continue
        if cells[0] == "TYPE" and cells[1:7] == list(LGT_SEED_COLUMNS):
            mode = "annotated"
            continue
        if cells == list(LGT_SEED_COLUMNS):
            mode = "plain"
            continue
        if mode == "annotated":
            # TYPE, six data columns, Mark.
            if len(cells) < 7 or not cells[1]:
                logger.debug("LGT seed: skipping stray line %r", raw)
                continue
            explanation = cells[7] if len(cells) > 7 else ""
            annotated.append(
                LgtSeedRow(*_raw_data(raw, 1), explanation=explanation, type_label=cells[0])
            )
        elif mode == "plain":
            if len(cells) < 6:
                logger.debug("LGT seed: skipping stray line %r", raw)
                continue
            plain.append(LgtSeedRow(*_raw_data(raw, 0)))
    return LgtSeed(tuple(annotated), tuple(plain))


def _raw_data(raw: str, start: int) -> tuple[str, str, str, str, str, str]:
    # Data cells are taken verbatim except for surrounding whitespace of the cell; a trailing
    # comma (``Multimedia content refused,``) is part of the value.
    cells = [cell.strip() for cell in raw.split("\t")][start : start + 6]
    return (cells[0], cells[1], cells[2], cells[3], cells[4], cells[5])


def parse_alimtalk_seed(text: str) -> list[AlimTalkSeedRow]:
    """Parse the pasted Alim Talk table into one row per code.

    Lines are joined until a record names its system (``Mediator`` or ``Agent``); a lone cell
    like ``RESULT_CD1 (KKO result code)`` starts a section. The section label is kept verbatim
    as the row's category.
    """
    rows: list[AlimTalkSeedRow] = []
    category = ""
    buffer = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or set(line) <= set("-| "):
            continue
        if "Category | Code | Description" in line:
            continue  # the header, pasted after the title
        if not buffer and "|" not in line:
            continue  # the title line
        buffer = f"{buffer} {line}" if buffer else line
        cells = [cell.strip() for cell in buffer.split("|")]
        filled = [cell for cell in cells if cell]
        if len(filled) == 1 and buffer.endswith("|"):
            match = _SECTION_RE.match(filled[0])
            if match:
                category = filled[0]
                buffer = ""
                continue
        if len(filled) >= 3 and filled[-1] in _SYSTEMS:
            rows.append(
                AlimTalkSeedRow(
                    category=category,
                    code=filled[0],
                    description=" | ".join(filled[1:-1]),
                    system=filled[-1],
                )
            )
            buffer = ""
    if buffer:
        logger.warning("Alim Talk seed: unterminated record %r", buffer)
    return rows


def package_text(name: str) -> str:
    """The text of a data file shipped in the ``mm7client.codes`` package."""
    return resources.files("mm7client.codes").joinpath(name).read_text("utf-8")


def read_csv_rows(text: str) -> list[dict[str, str]]:
    """Parse CSV text with a header into dicts (UTF-8 BOM tolerated)."""
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def check_lgt(seed: LgtSeed, package_rows: Iterable[dict[str, str]]) -> list[str]:
    """Differences between the LGT seed (plain copy as default) and package CSV rows."""
    problems: list[str] = []
    if len(seed.annotated) != LGT_EXPECTED_ROWS or len(seed.plain) != LGT_EXPECTED_ROWS:
        problems.append(
            f"LGT seed: expected {LGT_EXPECTED_ROWS} rows per copy, found "
            f"{len(seed.annotated)} annotated and {len(seed.plain)} plain"
        )
    shipped = {
        (row["provider"], row["resultType"], row["originResult"], _report_message(row)): row
        for row in package_rows
    }
    for row in seed.merged():
        have = shipped.get(row.key)
        if have is None:
            problems.append(f"LGT row missing from package data: {row.data()}")
            continue
        got = tuple(have[column] for column in LGT_SEED_COLUMNS)
        if got != row.data():
            problems.append(f"LGT row differs: seed {row.data()} package {got}")
        if have.get("explanation", "") != row.explanation:
            problems.append(f"LGT explanation differs for {row.key}")
    return problems


def _report_message(row: dict[str, str]) -> str:
    return row["resultMessage"] if row["resultType"] == "2" else ""


def check_alimtalk(
    seed_rows: Sequence[AlimTalkSeedRow], package_rows: Iterable[dict[str, str]]
) -> list[str]:
    """Differences between the Alim Talk seed rows and package CSV rows."""
    problems: list[str] = []
    if len(seed_rows) != ALIMTALK_EXPECTED_CODES:
        problems.append(
            f"Alim Talk seed: expected {ALIMTALK_EXPECTED_CODES} codes, found {len(seed_rows)}"
        )
    shipped = {(row["category"], row["code"]): row for row in package_rows}
    for seed_row in seed_rows:
        have = shipped.get((seed_row.category, seed_row.code))
        if have is None:
            problems.append(f"Alim Talk code missing: {seed_row.category} {seed_row.code}")
            continue
        for field in ("description", "system"):
            if have[field] != getattr(seed_row, field):
                problems.append(f"Alim Talk {seed_row.code} {field} differs")
    return problems


def check(seed_dir: Path) -> list[str]:
    """All differences between the seeds in ``seed_dir`` and the package data."""
    lgt = parse_lgt_seed((seed_dir / LGT_SEED_NAME).read_text("utf-8"))
    alim = parse_alimtalk_seed((seed_dir / ALIMTALK_SEED_NAME).read_text("utf-8"))
    return check_lgt(lgt, read_csv_rows(package_text("lgt_mm7.csv"))) + check_alimtalk(
        alim, read_csv_rows(package_text("alimtalk.csv"))
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: compare the package data with the seed directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("seed_dir", type=Path, help="directory holding the seed .txt files")
    args = parser.parse_args(argv)
    problems = check(args.seed_dir)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    if not problems:
        sys.stdout.write("package data matches the seeds\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
