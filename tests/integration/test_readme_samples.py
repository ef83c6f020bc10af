"""The README's code samples run, so what it shows stays true.

Every ```python and ```toml block of README.md is a sample; :data:`SAMPLES` says how each is
run, by the README section it sits in (its ``##`` heading) and its order there:

* ``pure`` - executed as written, nothing defined beforehand (an undefined name fails);
* ``carrier`` - talks to the carrier's URL: run with the URL swapped for the ``mmsc``
  fixture's and its placeholders (:data:`PLACEHOLDERS`) defined;
* ``pytest`` - a test module: run by pytest in a subprocess, as a user's project would;
* ``mock config`` (TOML) - loaded by the mock's config loader.

A block this file does not know fails, naming its section and line: add it to
:data:`SAMPLES`. A sample's ``check`` asserts what its comments claim.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mm7client import SubmitRequest, SyncMM7Client
from mm7client.codes import normalize_submit_status
from mm7client.throttle import RetryPolicy
from mockmmsc import SyncMockMMSC
from mockmmsc.settings import load_config

README = Path(__file__).resolve().parents[2] / "README.md"
CARRIER_URL = "https://mms.example.net/mm7"

#: Values for the names a carrier sample leaves to the reader.
PLACEHOLDERS: dict[str, object] = {
    "jpeg_bytes": bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9"),
}


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    language: str
    section: str
    ordinal: int  # 1 for the section's first block of this language
    line: int
    code: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.language, self.section, self.ordinal)

    def __str__(self) -> str:
        return (
            f"README.md line {self.line}: {self.language} block {self.ordinal} of {self.section!r}"
        )


def readme_blocks(text: str) -> list[Block]:
    """The README's python and toml blocks, in order."""
    blocks: list[Block] = []
    section = "(top)"
    counts: dict[tuple[str, str], int] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line[3:].strip()
        fence = re.fullmatch(r"```(\w+)\s*", line)
        if fence:
            end = lines.index("```", index + 1)
            language = fence.group(1)
            if language in ("python", "toml"):
                counts[language, section] = counts.get((language, section), 0) + 1
                code = "\n".join(lines[index + 1 : end]) + "\n"
                blocks.append(Block(language, section, counts[language, section], index + 1, code))
            index = end
        index += 1
    return blocks


# -- running a sample ---------------------------------------------------------------------


@dataclass
class Ran:
    """What a sample left: its namespace, the values of its expression statements (by the
    first line of each), what it printed."""

    namespace: dict[str, Any]
    values: dict[str, Any]
    stdout: str


def execute(block: Block, code: str, namespace: dict[str, Any] | None = None) -> Ran:
    """Run ``code`` (``block``'s, maybe edited), keeping the value of each top-level expression
    statement; a traceback names the block."""
    tree = ast.parse(code)
    values: dict[str, Any] = {}
    lines = code.splitlines()
    for number, node in enumerate(tree.body):
        if isinstance(node, ast.Expr):
            key = lines[node.lineno - 1].split("#")[0].strip()
            store = ast.parse(f"__values__[{key!r}] = None").body[0]
            assert isinstance(store, ast.Assign)
            store.value = node.value
            tree.body[number] = ast.copy_location(store, node)
    ast.fix_missing_locations(tree)
    scope: dict[str, Any] = {"__name__": "readme_sample", "__values__": values}
    scope.update(namespace or {})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tree, str(block), "exec"), scope)
    return Ran(scope, values, out.getvalue())


def run_pure(block: Block, mmsc: SyncMockMMSC, tmp_path: Path) -> Ran:
    return execute(block, block.code)


def run_carrier(block: Block, mmsc: SyncMockMMSC, tmp_path: Path) -> Ran:
    assert CARRIER_URL in block.code, f"{block}: no {CARRIER_URL} to swap for the mock's URL"
    return execute(block, block.code.replace(CARRIER_URL, mmsc.url), dict(PLACEHOLDERS))


def run_pytest(block: Block, mmsc: SyncMockMMSC, tmp_path: Path) -> Ran:
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\n")
    (tmp_path / "test_readme_sample.py").write_text(block.code, "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{block} fails under pytest:\n{output}"
    return Ran({}, {}, output)


def run_mock_config(block: Block, mmsc: SyncMockMMSC, tmp_path: Path) -> Ran:
    path = tmp_path / "sample.toml"
    path.write_text(block.code, "utf-8")
    return Ran({"settings": load_config(path)}, {}, "")


# -- what each sample claims --------------------------------------------------------------


def sending_checks(ran: Ran, mmsc: SyncMockMMSC) -> None:
    message_id, convert_result, category = ran.stdout.split()
    accepted = normalize_submit_status(1000)  # LG U+'s 1000, in the seed's convertResult
    assert (convert_result, category) == (str(accepted.convert_result), "success")
    (received,) = mmsc.assert_received(1, recipient="01012345678", vas_id="MYSERVICE")
    assert received.message_id == message_id
    # decoding the content changes the stored request: on the mock's loop
    content_types = mmsc.call(lambda: received.content_types)
    assert {"text/plain", "image/jpeg"} <= {t.split(";")[0] for t in content_types}


def protocol_core_checks(ran: Ran, mmsc: SyncMockMMSC) -> None:
    body, headers = ran.values["encoded.body, encoded.headers"]
    assert headers["SOAPAction"] == '""' and int(headers["Content-Length"]) == len(body)
    assert ran.namespace["encoded"].content_type.startswith("multipart/related")
    assert ran.namespace["message"].to[0].value == "01012345678"


def result_codes_checks(ran: Ran, mmsc: SyncMockMMSC) -> None:
    throttled = ran.values["normalize_submit_status(4030).category"]
    assert throttled == "throttled"
    assert ran.namespace["normalize_submit_status"](4030).pause_seconds == 60
    assert ran.values['normalize_report("Retrieved", "NOK").spam_blocked'] is True
    outcome = ran.values['final_outcome("KM", "KKO_3018", "MMS_99")']
    assert (outcome.outcome, outcome.fallback) == ("pending", "lms_mms")


def pytest_sample_checks(ran: Ran, mmsc: SyncMockMMSC) -> None:
    assert "1 passed" in ran.stdout


def rules_checks(ran: Ran, mmsc: SyncMockMMSC) -> None:
    (rule,) = ran.namespace["settings"].rules
    mmsc.add_rule(rule)
    once = RetryPolicy(max_attempts=1)
    with SyncMM7Client(mmsc.url, vas_id="SVC", kisa_orig_code="123456789", retry=once) as client:
        results = [client.submit(SubmitRequest(to=["01012345678"])) for _ in range(3)]
    assert [r.normalized.origin_result for r in results] == ["4006", "4006", "1000"]


def operations_checks(ran: Ran, mmsc: SyncMockMMSC) -> None:
    sent = ran.values['registry.get_sample_value("mm7_client_sent_total", {"vas_id": "SVC"})']
    assert sent == 1.0
    registry = ran.namespace["registry"]
    labels = {"vas_id": "SVC", "category": "success"}
    assert registry.get_sample_value("mm7_client_results_total", labels) == 1.0
    mmsc.assert_received(1, recipient="01012345678", vas_id="SVC")


Runner = Callable[[Block, SyncMockMMSC, Path], Ran]
Check = Callable[[Ran, SyncMockMMSC], None]

#: How each README sample runs and what it claims, by (language, section, ordinal).
SAMPLES: dict[tuple[str, str, int], tuple[Runner, Check]] = {
    ("python", "Sending", 1): (run_carrier, sending_checks),
    ("python", "The protocol core (sans-IO)", 1): (run_pure, protocol_core_checks),
    ("python", "Result codes", 1): (run_pure, result_codes_checks),
    ("python", "Testing with the mock", 1): (run_pytest, pytest_sample_checks),
    ("python", "Testing with the mock", 2): (run_pytest, pytest_sample_checks),
    ("toml", "The mock MMSC", 1): (run_mock_config, rules_checks),
    ("python", "Operations", 1): (run_carrier, operations_checks),
}

BLOCKS = readme_blocks(README.read_text("utf-8"))


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"{b.language}:{b.section}:{b.ordinal}")
def test_readme_sample_runs(block: Block, mmsc: SyncMockMMSC, tmp_path: Path) -> None:
    if block.key not in SAMPLES:
        pytest.fail(f"{block}: this test does not know how to run it; add it to SAMPLES")
    run, check = SAMPLES[block.key]
    check(run(block, mmsc, tmp_path), mmsc)


def test_every_known_sample_is_still_in_the_readme() -> None:
    assert len(BLOCKS) >= 4
    assert set(SAMPLES) - {block.key for block in BLOCKS} == set()


def test_a_block_nobody_knows_fails_naming_it(tmp_path: Path) -> None:
    (block,) = readme_blocks("## Somewhere\n\ntext\n\n```python\nprint(1)\n```\n")
    with pytest.raises(pytest.fail.Exception) as failed:
        test_readme_sample_runs(block, SyncMockMMSC(), tmp_path)
    assert str(failed.value) == (
        "README.md line 5: python block 1 of 'Somewhere': this test does not know how to run "
        "it; add it to SAMPLES"
    )
