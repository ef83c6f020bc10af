"""Alim Talk table: every seed code, classification and the MSG_TYPE policy."""

from __future__ import annotations

from collections import Counter

import pytest
from seedcheck import (
    ALIMTALK_EXPECTED_CODES,
    ALIMTALK_SEED_NAME,
    SEED_COPY_DIR,
    AlimTalkSeedRow,
    check_alimtalk,
    package_text,
    parse_alimtalk_seed,
    read_csv_rows,
)

from mm7client.codes import (
    AlimTalkCode,
    AlimTalkGroup,
    Fallback,
    MsgType,
    Outcome,
    alimtalk_codes,
    classify,
    fallback_for,
    final_outcome,
    lookup,
    lookup_alimtalk,
    lookup_alimtalk_all,
)

SEED_DIR = SEED_COPY_DIR


def _seed_text() -> str:
    path = SEED_DIR / ALIMTALK_SEED_NAME
    if not path.is_file():
        pytest.fail(
            f"seed file {ALIMTALK_SEED_NAME} not found in tests/data/seeds/ "
            f"(looked in {SEED_DIR}); "
            "the project keeps its own copy of the requirement tables there"
        )
    return path.read_text("utf-8")


@pytest.fixture(scope="module")
def seed_rows() -> list[AlimTalkSeedRow]:
    return parse_alimtalk_seed(_seed_text())


def _seed_rows_for_params() -> list[AlimTalkSeedRow]:
    path = SEED_DIR / ALIMTALK_SEED_NAME
    return parse_alimtalk_seed(path.read_text("utf-8")) if path.is_file() else []


# --- every seed code -------------------------------------------------------------------------


def test_seed_parses_every_code(seed_rows: list[AlimTalkSeedRow]) -> None:
    assert len(seed_rows) == ALIMTALK_EXPECTED_CODES == 128
    counts = Counter(row.category for row in seed_rows)
    assert counts == {
        "MSG_TYPE (Message type)": 5,
        "RESULT_CD1 (KKO result code)": 57,
        "RESULT_CD2 (SMS result code)": 36,
        "RESULT_CD2 (MMS result code)": 20,
        "agent err (agent common code)": 10,
    }
    # Rows split over two lines were joined; no cell leaked into another.
    assert all(
        "|" not in row.description and row.system in ("Mediator", "Agent") for row in seed_rows
    )
    assert len({(row.category, row.code) for row in seed_rows}) == len(seed_rows)


def test_seed_parser_handles_split_rows() -> None:
    text = (
        "Title\nX Category | Code | Description | Code usage system |\n---|---|---|---|\n"
        "RESULT_CD1 (KKO result code) |\n"
        "KKO_1001 | NoJsonBody - Request Body is not Json format. |\nMediator | |\n"
        "KKO_E15 | timeout | Mediator | |\n"
        "agent err (agent common code) |\nAGT_170 | Blacklisted | Agent |"
    )
    assert parse_alimtalk_seed(text) == [
        AlimTalkSeedRow(
            "RESULT_CD1 (KKO result code)",
            "KKO_1001",
            "NoJsonBody - Request Body is not Json format.",
            "Mediator",
        ),
        AlimTalkSeedRow("RESULT_CD1 (KKO result code)", "KKO_E15", "timeout", "Mediator"),
        AlimTalkSeedRow("agent err (agent common code)", "AGT_170", "Blacklisted", "Agent"),
    ]


def test_every_seed_code_is_in_package_data(seed_rows: list[AlimTalkSeedRow]) -> None:
    assert check_alimtalk(seed_rows, read_csv_rows(package_text("alimtalk.csv"))) == []
    assert len(alimtalk_codes()) == len(seed_rows)


@pytest.mark.parametrize(
    "seed_row", _seed_rows_for_params(), ids=lambda row: f"{row.category.split()[0]}:{row.code}"
)
def test_seed_code_identical_in_package(seed_row: AlimTalkSeedRow) -> None:
    matches = [
        row
        for row in alimtalk_codes()
        if (row.category, row.code) == (seed_row.category, seed_row.code)
    ]
    assert len(matches) == 1
    row = matches[0]
    assert (row.description, row.system) == (seed_row.description, seed_row.system)
    assert lookup_alimtalk(seed_row.code, row.group) == row
    assert row in lookup_alimtalk_all(seed_row.code.lower())
    if row.group is AlimTalkGroup.MSG_TYPE:
        assert row.outcome is None
        assert MsgType(row.code)
    elif seed_row.code == "OK":
        assert classify(seed_row.code) is Outcome.SUCCESS
    elif seed_row.code in ("SMS_99", "MMS_99"):
        assert classify(seed_row.code) is Outcome.PENDING
    else:
        assert classify(seed_row.code) is Outcome.FAILED


def test_systems() -> None:
    assert {row.system for row in alimtalk_codes() if row.group is AlimTalkGroup.AGENT} == {"Agent"}
    assert {row.system for row in alimtalk_codes() if row.group is not AlimTalkGroup.AGENT} == {
        "Mediator"
    }


def test_descriptions_kept_verbatim() -> None:
    row = lookup_alimtalk("KKO_3010")
    assert row is not None and row.description == "JsonParseException Json - Parsing error"
    row = lookup_alimtalk("SMS_60")
    assert row is not None
    assert (
        row.description == "Spam Message with started number ‘060’, ‘030’ - Result code not applied"
    )
    row = lookup_alimtalk("KKO_E15")
    assert row is not None and row.description == "timeout"


# --- lookup and classification ---------------------------------------------------------------


def test_lookup_ok_lists_both_categories() -> None:
    rows = lookup_alimtalk_all("ok")
    assert [row.category for row in rows] == [
        "RESULT_CD1 (KKO result code)",
        "RESULT_CD2 (SMS result code)",
    ]
    sms_ok = lookup_alimtalk("OK", "RESULT_CD2")
    assert sms_ok is not None and sms_ok.description == "Successfully send SMS"
    assert lookup_alimtalk("OK", AlimTalkGroup.AGENT) is None


def test_lookup_is_case_insensitive_and_returns_none_for_unknown() -> None:
    assert lookup_alimtalk(" kko_3018 ") == lookup_alimtalk("KKO_3018")
    assert lookup_alimtalk("KKO_0000") is None


def test_classify_pending_and_unknown() -> None:
    assert classify("SMS_99") is Outcome.PENDING
    assert classify("mms_99") is Outcome.PENDING
    assert classify("KKO_0000") is Outcome.UNKNOWN
    assert classify("") is Outcome.UNKNOWN


@pytest.mark.parametrize("code", ["KS", "km", "XM"])
def test_classify_rejects_msg_type(code: str) -> None:
    with pytest.raises(ValueError):
        classify(code)


def test_row_as_dict() -> None:
    row = lookup_alimtalk("AGT_160")
    assert isinstance(row, AlimTalkCode)
    assert row.as_row() == {
        "category": "agent err (agent common code)",
        "code": "AGT_160",
        "description": "Disallowed message type ex) In case MSG_TYPE is KM or XM without LMS "
        "delivery contract",
        "system": "Agent",
        "outcome": "failed",
    }


def test_combined_lookup() -> None:
    assert [type(row).__name__ for row in lookup("KKO_3018")] == ["AlimTalkCode"]
    assert [type(row).__name__ for row in lookup("4030")] == ["CodeRow"]
    assert lookup("4030", tables="alimtalk") == []
    assert lookup("KKO_3018", tables="lgt") == []
    with pytest.raises(ValueError):
        lookup("4030", tables="sms")


# --- fallback policy -------------------------------------------------------------------------

FAILURES = ["KKO_3018", "KKO_1003", "KKO_E15", "AGT_120", "KKO_0000"]


@pytest.mark.parametrize("cd1", FAILURES)
def test_ks_km_fall_back_on_any_alimtalk_failure(cd1: str) -> None:
    assert fallback_for(MsgType.KS, cd1) is Fallback.SMS
    assert fallback_for("km", cd1) is Fallback.LMS_MMS
    assert fallback_for(MsgType.KX, cd1) is Fallback.NONE


@pytest.mark.parametrize("msg_type", list(MsgType))
def test_no_fallback_after_success(msg_type: MsgType) -> None:
    expected = {MsgType.XS: Fallback.SMS, MsgType.XM: Fallback.LMS_MMS}
    assert fallback_for(msg_type, "OK") is expected.get(msg_type, Fallback.NONE)


@pytest.mark.parametrize("cd1", [None, "OK", "KKO_3018"])
def test_direct_send_types(cd1: str | None) -> None:
    assert fallback_for("XS", cd1) is Fallback.SMS
    assert fallback_for("XM", cd1) is Fallback.LMS_MMS
    assert fallback_for("KX", cd1) is Fallback.NONE


def test_no_fallback_without_alimtalk_result_yet() -> None:
    assert fallback_for("KS", None) is Fallback.NONE


def test_no_lms_without_contract() -> None:
    assert fallback_for("KM", "KKO_3018", lms_contract=False) is Fallback.NONE
    assert fallback_for("XM", None, lms_contract=False) is Fallback.NONE
    assert fallback_for("KS", "KKO_3018", lms_contract=False) is Fallback.SMS
    assert fallback_for("KM", "AGT_160") is Fallback.NONE


def test_invalid_msg_type() -> None:
    with pytest.raises(ValueError):
        fallback_for("ZZ", "OK")
    with pytest.raises(ValueError):
        final_outcome("ZZ", "OK")


# --- final outcome ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg_type", "cd1", "cd2", "outcome", "deciding", "fallback"),
    [
        ("KS", "OK", None, Outcome.SUCCESS, "OK", Fallback.NONE),
        ("KS", "OK", "SMS_93", Outcome.SUCCESS, "OK", Fallback.NONE),
        ("KS", None, None, Outcome.PENDING, None, Fallback.NONE),
        ("KS", "KKO_3018", None, Outcome.PENDING, None, Fallback.SMS),
        ("KS", "KKO_3018", "OK", Outcome.SUCCESS, "OK", Fallback.SMS),
        ("KS", "KKO_3018", "SMS_93", Outcome.FAILED, "SMS_93", Fallback.SMS),
        ("KS", "KKO_3018", "SMS_99", Outcome.PENDING, "SMS_99", Fallback.SMS),
        ("KM", "KKO_1021", "MMS_99", Outcome.PENDING, "MMS_99", Fallback.LMS_MMS),
        ("KM", "KKO_1021", "MMS_61", Outcome.FAILED, "MMS_61", Fallback.LMS_MMS),
        ("KM", "KKO_1021", "OK", Outcome.SUCCESS, "OK", Fallback.LMS_MMS),
        ("KX", "OK", None, Outcome.SUCCESS, "OK", Fallback.NONE),
        ("KX", "KKO_3018", None, Outcome.FAILED, "KKO_3018", Fallback.NONE),
        ("KX", "KKO_3018", "OK", Outcome.FAILED, "KKO_3018", Fallback.NONE),
        ("KX", None, "SMS_21", Outcome.FAILED, "SMS_21", Fallback.NONE),
        ("KX", None, None, Outcome.PENDING, None, Fallback.NONE),
        ("XS", None, "OK", Outcome.SUCCESS, "OK", Fallback.SMS),
        ("XS", None, "SMS_81", Outcome.FAILED, "SMS_81", Fallback.SMS),
        ("XS", None, None, Outcome.PENDING, None, Fallback.SMS),
        ("XM", None, "MMS_99", Outcome.PENDING, "MMS_99", Fallback.LMS_MMS),
        ("XM", None, "AGT_140", Outcome.FAILED, "AGT_140", Fallback.LMS_MMS),
        ("KS", "KKO_3018", "SMS_777", Outcome.UNKNOWN, "SMS_777", Fallback.SMS),
        ("ks", "kko_3018", "sms_93", Outcome.FAILED, "SMS_93", Fallback.SMS),
    ],
)
def test_final_outcome(
    msg_type: str,
    cd1: str | None,
    cd2: str | None,
    outcome: Outcome,
    deciding: str | None,
    fallback: Fallback,
) -> None:
    result = final_outcome(msg_type, cd1, cd2)
    assert (result.outcome, result.deciding_code, result.fallback) == (outcome, deciding, fallback)
    assert result.msg_type is MsgType(msg_type.upper())
    assert result.is_final is (outcome in (Outcome.SUCCESS, Outcome.FAILED))


@pytest.mark.parametrize("msg_type", [MsgType.KM, MsgType.XM])
@pytest.mark.parametrize(("cd1", "cd2"), [(None, None), ("OK", None), ("KKO_3018", "MMS_99")])
def test_agt_160_without_lms_contract(msg_type: MsgType, cd1: str | None, cd2: str | None) -> None:
    result = final_outcome(msg_type, cd1, cd2, lms_contract=False)
    assert result.outcome is Outcome.FAILED
    assert result.deciding_code == "AGT_160"
    assert result.fallback is Fallback.NONE
    assert "LMS delivery contract" in result.description
    assert result.as_row()["decidingCode"] == "AGT_160"


@pytest.mark.parametrize("msg_type", [MsgType.KS, MsgType.KX, MsgType.XS])
def test_lms_contract_irrelevant_for_other_types(msg_type: MsgType) -> None:
    assert final_outcome(msg_type, "OK", "OK", lms_contract=False).deciding_code != "AGT_160"


def test_agt_160_reported_by_agent() -> None:
    result = final_outcome("XM", None, "AGT_160")
    assert (result.outcome, result.deciding_code) == (Outcome.FAILED, "AGT_160")


def test_msg_type_given_as_result_is_rejected() -> None:
    with pytest.raises(ValueError):
        final_outcome("KX", "KS")
