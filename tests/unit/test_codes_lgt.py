"""LGT MM7 table: every seed row, categories, unknown codes, transport failures, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from seedcheck import (
    LGT_EXPECTED_ROWS,
    LGT_SEED_COLUMNS,
    LGT_SEED_NAME,
    SEED_COPY_DIR,
    LgtSeed,
    LgtSeedRow,
    check,
    check_lgt,
    package_text,
    parse_lgt_seed,
    read_csv_rows,
)

from mm7client.codes import (
    COLUMNS,
    Category,
    CodeTable,
    MappingFileError,
    NormalizedResult,
    TransportFailure,
    normalize_report,
    normalize_submit_status,
    normalize_transport_failure,
)

SEED_DIR = SEED_COPY_DIR


def _seed_dir() -> Path:
    if not (SEED_DIR / LGT_SEED_NAME).is_file():
        pytest.fail(
            f"seed file {LGT_SEED_NAME} not found in tests/data/seeds/ "
            f"(looked in {SEED_DIR}); "
            "the project keeps its own copy of the requirement tables there"
        )
    return SEED_DIR


@pytest.fixture(scope="module")
def seed() -> LgtSeed:
    return parse_lgt_seed((_seed_dir() / LGT_SEED_NAME).read_text("utf-8"))


@pytest.fixture(scope="module")
def package_rows() -> list[dict[str, str]]:
    return read_csv_rows(package_text("lgt_mm7.csv"))


def _seed_rows() -> list[LgtSeedRow]:
    path = SEED_DIR / LGT_SEED_NAME
    if not path.is_file():  # reported by the tests using the fixture; keep collection working
        return []
    return parse_lgt_seed(path.read_text("utf-8")).merged()


# --- the seed itself -------------------------------------------------------------------------


def test_seed_parses_both_copies_completely(seed: LgtSeed) -> None:
    assert len(seed.annotated) == LGT_EXPECTED_ROWS
    assert len(seed.plain) == LGT_EXPECTED_ROWS
    assert {row.key for row in seed.annotated} == {row.key for row in seed.plain}
    assert all(row.explanation for row in seed.annotated)
    assert [row.type_label for row in seed.annotated if row.type_label] == ["SUBMIT ACK", "REPORT"]


def test_seed_copies_disagree_only_on_expired(seed: LgtSeed) -> None:
    conflicts = seed.conflicts()
    assert len(conflicts) == 1
    annotated, plain = conflicts[0]
    assert (annotated.originResult, annotated.convertResult) == ("Expired", "3050")
    assert (plain.originResult, plain.convertResult) == ("Expired", "3020")


def test_package_csv_header_keeps_seed_column_names() -> None:
    header = package_text("lgt_mm7.csv").splitlines()[0].split(",")
    assert tuple(header[:6]) == LGT_SEED_COLUMNS
    assert tuple(header) == COLUMNS


def test_every_seed_row_is_in_package_data(
    seed: LgtSeed, package_rows: list[dict[str, str]]
) -> None:
    assert check_lgt(seed, package_rows) == []


def test_seedcheck_reports_no_differences() -> None:
    assert check(_seed_dir()) == []


@pytest.mark.parametrize("row", _seed_rows(), ids=lambda row: "/".join(row.key[1:]).strip("/"))
def test_seed_row_identical_in_package(row: LgtSeedRow, package_rows: list[dict[str, str]]) -> None:
    matches = [
        have
        for have in package_rows
        if (have["provider"], have["resultType"], have["originResult"])
        == (row.provider, row.resultType, row.originResult)
        and (row.resultType != "2" or have["resultMessage"] == row.resultMessage)
    ]
    assert len(matches) == 1
    have = matches[0]
    assert tuple(have[column] for column in LGT_SEED_COLUMNS) == row.data()
    assert have["explanation"] == row.explanation
    assert have["category"] in {str(category) for category in Category}


def test_multimedia_content_refused_keeps_trailing_comma() -> None:
    result = normalize_submit_status(2004)
    assert result.result_message == "Multimedia content refused,"


# --- the conflict decision -------------------------------------------------------------------


def test_expired_defaults_to_plain_copy_3020() -> None:
    result = normalize_report("Expired", "NOK")
    assert result.convert_result == 3020
    assert result.known
    assert result.category is Category.FAILED
    assert result.explanation == "기간 만료"


def test_expired_can_be_overridden_to_annotated_3050(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text(
        "provider,msgType,resultType,originResult,convertResult,resultMessage\n"
        "LGT,2,2,Expired,3050,NOK\n",
        encoding="utf-8",
    )
    table = CodeTable.default().with_overrides(path)
    result = normalize_report("Expired", "NOK", table=table)
    assert result.convert_result == 3050
    assert result.category is Category.FAILED  # inherited from the row it replaces
    assert normalize_report("Expired", "NOK").convert_result == 3020  # default untouched


# --- categories of every LGT code ------------------------------------------------------------

SUBMIT_EXPECTED: dict[int, tuple[int, Category, float | None]] = {
    1000: (99, Category.SUCCESS, None),
    1100: (99, Category.SUCCESS, None),
    2000: (3020, Category.FAILED, None),
    2001: (3100, Category.FAILED, None),
    2002: (3020, Category.FAILED, None),
    2003: (3050, Category.FAILED, None),
    2004: (3020, Category.FAILED, None),
    2005: (3020, Category.FAILED, None),
    2006: (3020, Category.FAILED, None),
    2007: (3020, Category.FAILED, None),
    3000: (3100, Category.RETRY, None),
    3001: (3020, Category.FAILED, None),
    3002: (3090, Category.FAILED, None),
    3003: (3090, Category.FAILED, None),
    4000: (3020, Category.FAILED, None),
    4001: (3020, Category.FAILED, None),
    4002: (3020, Category.FAILED, None),
    4003: (3020, Category.FAILED, None),
    4004: (3020, Category.FAILED, None),
    4005: (3020, Category.FAILED, None),
    4006: (3020, Category.RETRY, None),
    4007: (3020, Category.RETRY, None),
    4030: (3020, Category.THROTTLED, 60.0),
    4032: (3120, Category.FAILED, None),
    6014: (2040, Category.FAILED, None),
    6024: (3020, Category.FAILED, None),
    6025: (3020, Category.FAILED, None),
    6072: (3060, Category.FAILED, None),
    6102: (3050, Category.FAILED, None),
    7103: (3110, Category.THROTTLED, None),
}

REPORT_EXPECTED: dict[tuple[str, str], tuple[int, Category]] = {
    ("Retrieved", "OK"): (-100, Category.SUCCESS),
    ("Retrieved", "NOK"): (-100, Category.FAILED),
    ("PPSRejected", "NOK"): (3020, Category.FAILED),
    ("Rejected", "NOK"): (3100, Category.FAILED),
    ("Stalking", "NOK"): (3020, Category.FAILED),
    ("Expired", "NOK"): (3020, Category.FAILED),
    ("Fail", "NOK"): (3020, Category.FAILED),
    ("NoRecipient", "NOK"): (3050, Category.FAILED),
}


def test_expectations_cover_every_seed_row() -> None:
    rows = _seed_rows()
    assert {int(r.originResult) for r in rows if r.resultType == "1"} == set(SUBMIT_EXPECTED)
    assert {(r.originResult, r.resultMessage) for r in rows if r.resultType == "2"} == set(
        REPORT_EXPECTED
    )


@pytest.mark.parametrize("code", sorted(SUBMIT_EXPECTED))
@pytest.mark.parametrize("as_text", [False, True])
def test_submit_category(code: int, as_text: bool) -> None:
    convert, category, pause = SUBMIT_EXPECTED[code]
    given_code: int | str = str(code) if as_text else code
    result = normalize_submit_status(given_code, "carrier text")
    assert (result.convert_result, result.category, result.pause_seconds) == (
        convert,
        category,
        pause,
    )
    assert result.known
    assert result.provider == "LGT"
    assert result.msg_type == 2
    assert result.result_type == 1
    assert result.origin_result == str(code)
    assert result.status_text == "carrier text"
    assert result.explanation


def test_4030_is_throttled_for_60_seconds() -> None:
    result = normalize_submit_status(4030, "System error")
    assert result.category is Category.THROTTLED
    assert result.pause_seconds == 60
    assert not result.is_final


@pytest.mark.parametrize(("status", "text"), sorted(REPORT_EXPECTED))
def test_report_category(status: str, text: str) -> None:
    convert, category = REPORT_EXPECTED[(status, text)]
    result = normalize_report(status, text)
    assert (result.convert_result, result.category) == (convert, category)
    assert result.known
    assert result.result_type == 2
    assert result.result_message == text
    assert result.origin_result == status


def test_spam_blocked_is_distinguishable_from_delivered() -> None:
    delivered = normalize_report("Retrieved", "OK")
    spam = normalize_report("Retrieved", "NOK")
    assert delivered.convert_result == spam.convert_result == -100
    assert delivered.result_message == "OK" and not delivered.spam_blocked
    assert spam.result_message == "NOK" and spam.spam_blocked
    assert spam.explanation != delivered.explanation
    assert delivered.as_row() != spam.as_row()


@pytest.mark.parametrize(
    ("status", "text", "message", "spam"),
    [
        ("retrieved", "nok", "NOK", True),
        ("RETRIEVED", " ok ", "OK", False),
        ("Retrieved", None, "OK", False),
        ("Retrieved", "", "OK", False),
        ("Retrieved", "Message retrieved", "OK", False),
        (" Stalking ", None, "NOK", False),
        ("rejected", "OK", "OK", False),
    ],
)
def test_report_matching_is_lenient(
    status: str, text: str | None, message: str, spam: bool
) -> None:
    result = normalize_report(status, text)
    assert result.known
    assert result.result_message == message
    assert result.spam_blocked is spam
    assert result.status_text == text


@pytest.mark.parametrize(
    ("status", "convert", "category", "message"),
    [
        ("Forwarded", -100, Category.SUCCESS, "OK"),
        ("Deferred", 3020, Category.UNKNOWN, "NOK"),
        ("Indeterminate", 3020, Category.UNKNOWN, "NOK"),
        ("Unrecognised", 3020, Category.FAILED, "NOK"),
        ("DeliveryConditionNotMet", 3020, Category.FAILED, "NOK"),
    ],
)
def test_standard_mmstatus_outside_lgt_table(
    status: str, convert: int, category: Category, message: str
) -> None:
    result = normalize_report(status)
    assert (result.convert_result, result.category, result.result_message) == (
        convert,
        category,
        message,
    )
    assert result.known
    assert result.provider == "MM7"


@pytest.mark.parametrize("status", ["Bogus", "", "  ", None, "*", "Retrieved!"])
def test_unknown_mmstatus(status: str | None) -> None:
    result = normalize_report(status, "whatever")
    assert not result.known
    assert result.category is Category.UNKNOWN
    assert result.convert_result == 3020
    assert result.origin_result == ("" if status is None else status)
    assert result.status_text == "whatever"
    assert not result.spam_blocked


# --- unknown submit codes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "class_code"),
    [(1001, 1000), (1999, 1000), (2999, 2000), (2008, 2000), (3004, 3000), (4008, 4000),
     ("4999", 4000), ("  2010 ", 2000)],
)  # fmt: skip
def test_unknown_code_in_mm7_class_uses_class_row(code: int | str, class_code: int) -> None:
    result = normalize_submit_status(code, "odd text")
    reference = normalize_submit_status(class_code)
    assert not result.known
    assert result.convert_result == reference.convert_result
    assert result.category is reference.category
    assert result.result_message == reference.result_message
    assert result.origin_result == str(code)
    assert result.status_text == "odd text"
    assert result.matched_origin == str(class_code)


@pytest.mark.parametrize(
    "code", ["abc", "", "   ", None, 99999, -1, 0, 5000, 6011, 9001, 999, "12a", "1e3", "4030.0"]
)
def test_codes_outside_classes_and_garbage_read_as_3000(code: int | str | None) -> None:
    result = normalize_submit_status(code, "text")
    assert not result.known
    assert result.convert_result == 3100  # the 3000 row's convertResult
    assert result.result_message == "Server Error"
    assert result.category is Category.UNKNOWN
    assert result.origin_result == ("" if code is None else str(code))
    assert result.status_text == "text"


def test_bool_is_not_a_status_code() -> None:
    assert not normalize_submit_status(True).known


# --- transport failures ----------------------------------------------------------------------

TRANSPORT_EXPECTED: dict[TransportFailure, tuple[int, Category]] = {
    TransportFailure.TIMEOUT: (3901, Category.RETRY),
    TransportFailure.CONNECTION_REFUSED: (3902, Category.RETRY),
    TransportFailure.CONNECTION_ERROR: (3903, Category.RETRY),
    TransportFailure.HTTP_ERROR: (3904, Category.RETRY),
    TransportFailure.UNPARSEABLE: (3905, Category.FAILED),
    TransportFailure.AMBIGUOUS: (3906, Category.UNKNOWN),
}


@pytest.mark.parametrize("kind", list(TransportFailure))
def test_transport_failures(kind: TransportFailure) -> None:
    result = normalize_transport_failure(kind, "HTTP 503 <html>")
    assert (result.convert_result, result.category) == TRANSPORT_EXPECTED[kind]
    assert result.provider == "TRANSPORT"
    assert result.result_type == 0
    assert result.origin_result == kind.value
    assert result.status_text == "HTTP 503 <html>"
    assert result.known
    assert normalize_transport_failure(kind.value.upper()) == normalize_transport_failure(kind, "")


def test_transport_convert_results_are_distinct_and_unused_by_carriers() -> None:
    carrier = {row.convert_result for row in CodeTable.default().rows if row.result_type != 0}
    transport = [value for value, _ in TRANSPORT_EXPECTED.values()]
    assert len(set(transport)) == len(transport)
    assert not carrier & set(transport)


def test_unknown_transport_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        normalize_transport_failure("gremlins")


def test_transport_rows_fall_back_without_table_rows() -> None:
    table = CodeTable(tuple(row for row in CodeTable.default().rows if row.result_type != 0))
    result = normalize_transport_failure("ambiguous", table=table)
    assert result.category is Category.UNKNOWN
    assert not result.known


# --- the normalized row ----------------------------------------------------------------------


def test_as_row_uses_seed_column_names() -> None:
    row = normalize_submit_status(4030, "System error").as_row()
    assert list(row)[:6] == list(LGT_SEED_COLUMNS)
    assert row == {
        "provider": "LGT",
        "msgType": 2,
        "resultType": 1,
        "originResult": "4030",
        "convertResult": 3020,
        "resultMessage": "System error",
        "explanation": row["explanation"],
        "category": "throttled",
        "pauseSeconds": 60.0,
        "known": True,
        "statusText": "System error",
    }
    assert json.loads(json.dumps(row, ensure_ascii=False)) == row
    assert normalize_submit_status(4030).to_dict() == normalize_submit_status(4030).as_row()


def test_normalized_result_is_frozen() -> None:
    result = normalize_submit_status(1000)
    with pytest.raises(AttributeError):
        result.category = Category.FAILED  # type: ignore[misc]


# --- user mapping files ----------------------------------------------------------------------


def test_override_and_extend_for_another_carrier(tmp_path: Path) -> None:
    path = tmp_path / "skt.csv"
    path.write_text(
        "provider,msgType,resultType,originResult,convertResult,resultMessage,explanation,"
        "category,pauseSeconds\n"
        "SKT,2,1,8001,3333,Carrier busy,바쁨,throttled,30\n"
        "SKT,2,2,Delivered,-100,OK,수신 성공,success,\n"
        "LGT,2,1,4006,3021,Service unavailable,,retry,5\n",
        encoding="utf-8",
    )
    table = CodeTable.default().with_overrides(path)

    skt = normalize_submit_status("8001", table=table, provider="SKT")
    assert (skt.provider, skt.convert_result, skt.category, skt.pause_seconds) == (
        "SKT",
        3333,
        Category.THROTTLED,
        30.0,
    )
    assert skt.known
    delivered = normalize_report("delivered", None, table=table, provider="SKT")
    assert (delivered.convert_result, delivered.category, delivered.known) == (
        -100,
        Category.SUCCESS,
        True,
    )
    # Codes the SKT rows lack fall back to the default provider's rows.
    assert normalize_submit_status(1000, table=table, provider="SKT").convert_result == 99
    # LGT 4006 overridden.
    lgt = normalize_submit_status(4006, table=table)
    assert (lgt.convert_result, lgt.pause_seconds) == (3021, 5.0)
    # Without overrides the default stays.
    assert normalize_submit_status(4006).convert_result == 3020
    assert len(table.lookup("4006")) == 1


def test_standalone_user_table(tmp_path: Path) -> None:
    path = tmp_path / "mini.csv"
    path.write_text(
        "\ufeffprovider,msgType,resultType,originResult,convertResult,resultMessage\n"
        "KT,2,1,1000,0,Success\n",
        encoding="utf-8",
    )
    table = CodeTable.load(path, default_provider="KT")
    result = normalize_submit_status(1000, table=table)
    assert (result.provider, result.convert_result, result.category) == ("KT", 0, Category.UNKNOWN)
    # No 3000 row at all: still one row, never an exception.
    garbage = normalize_submit_status("x", table=table)
    assert (garbage.convert_result, garbage.category, garbage.known) == (
        3020,
        Category.UNKNOWN,
        False,
    )
    assert normalize_report("Retrieved", table=table).category is Category.UNKNOWN


@pytest.mark.parametrize(
    "content",
    [
        "provider,msgType,resultType,originResult\nLGT,2,1,1000\n",
        "provider,msgType,resultType,originResult,convertResult,resultMessage\nLGT,2,1,1000,x,S\n",
        "provider,msgType,resultType,originResult,convertResult,resultMessage,category\n"
        "LGT,2,1,1000,99,S,maybe\n",
    ],
)
def test_bad_mapping_files_are_rejected(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MappingFileError):
        CodeTable.default().with_overrides(path)


def test_default_table_is_cached() -> None:
    assert CodeTable.default() is CodeTable.default()


# --- never raise -----------------------------------------------------------------------------


@given(st.one_of(st.none(), st.integers(), st.text()), st.one_of(st.none(), st.text()))
def test_submit_never_raises(code: int | str | None, text: str | None) -> None:
    result = normalize_submit_status(code, text)
    assert isinstance(result, NormalizedResult)
    assert result.status_text == text
    assert isinstance(result.convert_result, int)


@given(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()))
def test_report_never_raises(status: str | None, text: str | None) -> None:
    result = normalize_report(status, text)
    assert isinstance(result, NormalizedResult)
    assert result.result_message in ("OK", "NOK")
    assert isinstance(result.convert_result, int)
