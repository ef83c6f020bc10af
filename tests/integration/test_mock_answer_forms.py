"""The mock answers in the form a request arrived in (or a forced one), over loopback.

Each answer is read the way two kinds of peers read (:mod:`peer_readers`): a namespace-strict
reader and a namespace-blind one. A request in a form a peer cannot read is answered in that
same form: the peer that wrote it reads it.
"""

from __future__ import annotations

import aiohttp
import pytest
import pytest_asyncio
from peer_readers import BLIND_READS, STRICT_READS, STYLES, blind_read, envelope_of, strict_read

from mm7client import server
from mm7client.codec import decode, encode
from mm7client.model import CancelRequest, MessageForm
from mm7client.profiles import LGT, THREEGPP, CarrierProfile
from mockmmsc import MockMMSC, MockSettings
from mockmmsc.settings import ANSWER_FORMS, SettingsError, load_config
from mockmmsc.testing import lgt_submit, post_mm7

PROFILES = {"lgt": LGT, "3gpp": THREEGPP}


@pytest_asyncio.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


def request_in(style: str, profile: CarrierProfile, *to: str, tid: str = "REQ-1"):
    """A SubmitReq in ``style``, the profile's namespace and a peer's own MM7Version."""
    form = MessageForm(profile.namespace, "5.6.0", style)  # type: ignore[arg-type]
    return encode(lgt_submit(*to, delivery_report=False, transaction_id=tid), profile, form=form)


def read_both(answer, namespace: str, style: str, expected: tuple[str, str, str | None]):
    envelope = envelope_of(answer.body, answer.content_type)
    strict, blind = strict_read(envelope, namespace), blind_read(envelope)
    if STRICT_READS[style]:
        assert strict == expected, (style, strict)
    else:  # a strict reader cannot read LG U+'s form: it did not send it either
        assert strict[1:] == (None, None), (style, strict)
    if BLIND_READS[style]:
        assert blind[1:] == expected[1:], (style, blind)
    else:
        assert blind[1] is None, (style, blind)
    return strict, blind


@pytest.mark.asyncio
@pytest.mark.parametrize("profile_name", PROFILES)
@pytest.mark.parametrize("style", STYLES)
async def test_a_request_is_answered_in_its_own_form(mmsc_settings, session, profile_name, style):
    profile = PROFILES[profile_name]
    async with MockMMSC(mmsc_settings, profile=profile_name) as mmsc:
        answer = await post_mm7(session, mmsc.url, request_in(style, profile))
        assert answer.http_status == 200 and answer.status_code == 1000
        message_id = mmsc.messages[-1].message_id
        read_both(answer, profile.namespace, style, ("REQ-1", "1000", message_id))
        # our own reader reads it, and sees the request's form: namespace, version, style
        assert answer.message is not None
        assert answer.message.form == MessageForm(profile.namespace, "5.6.0", style)  # type: ignore[arg-type]
        # a refusal decided for it (a magic number's 4xxx) and a CancelRsp are in it too
        refused = await post_mm7(
            session, mmsc.url, request_in(style, profile, "01099994007", tid="REQ-2")
        )
        assert refused.status_code == 4007
        read_both(refused, profile.namespace, style, ("REQ-2", "4007", None))
        cancel = CancelRequest(
            transaction_id="REQ-3", message_id=message_id, vasp_id="V", vas_id="VAS001"
        )
        form = MessageForm(profile.namespace, "5.6.0", style)  # type: ignore[arg-type]
        cancelled = await post_mm7(session, mmsc.url, encode(cancel, profile, form=form))
        assert cancelled.status_code == 1000
        read_both(cancelled, profile.namespace, style, ("REQ-3", "1000", None))


@pytest.mark.asyncio
@pytest.mark.parametrize("style", STYLES)
async def test_a_fault_is_answered_in_the_form_of_the_request(mmsc_settings, session, style):
    async with MockMMSC(mmsc_settings) as mmsc:
        mmsc.add_rule(recipient="01011112222", status=3000, http_status=500)
        answer = await post_mm7(
            session, mmsc.url, request_in(style, LGT, "01011112222", tid="REQ-F")
        )
    assert answer.http_status == 500 and answer.is_fault
    read_both(answer, LGT.namespace, style, ("REQ-F", "3000", None))


@pytest.mark.asyncio
@pytest.mark.parametrize("forced", STYLES)
async def test_answer_form_forces_one_form_for_every_request(mmsc_settings, session, forced):
    async with MockMMSC(mmsc_settings, answer_form=forced) as mmsc:
        for style in STYLES:
            answer = await post_mm7(session, mmsc.url, request_in(style, LGT, tid=f"T-{style}"))
            assert answer.status_code == 1000
            message_id = mmsc.messages[-1].message_id
            # the forced style, in the request's namespace and MM7Version
            read_both(answer, LGT.namespace, forced, (f"T-{style}", "1000", message_id))
            assert answer.message is not None
            assert answer.message.form == MessageForm(LGT.namespace, "5.6.0", forced)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_the_default_namespace_form_is_read_by_both_peers(mmsc_settings, session):
    async with MockMMSC(mmsc_settings, answer_form="default-ns") as mmsc:
        answer = await post_mm7(session, mmsc.url, request_in("lgt", LGT))
        message_id = mmsc.messages[-1].message_id
    envelope = envelope_of(answer.body, answer.content_type)
    assert strict_read(envelope, LGT.namespace) == ("REQ-1", "1000", message_id)
    assert blind_read(envelope) == ("REQ-1", "1000", message_id)


def test_answer_form_setting_from_env_config_and_values(tmp_path) -> None:
    assert MockSettings().answer_form == "mirror"
    env = MockSettings.from_env({"MOCKMMSC_ANSWER_FORM": "prefixed"})
    assert env.answer_form == "prefixed"
    config = tmp_path / "mock.toml"
    config.write_text('answer_form = "default-ns"\n')
    assert load_config(config).answer_form == "default-ns"
    with pytest.raises(SettingsError, match="answer_form='qualified'"):
        MockSettings(answer_form="qualified")
    with pytest.raises(SettingsError, match="answer_form"):
        MockSettings.from_env({"MOCKMMSC_ANSWER_FORM": "3gpp"})
    assert ANSWER_FORMS == server.ANSWER_FORMS  # the settings' copy of the shared values


def test_answer_form_option_of_the_command_line() -> None:
    from mockmmsc.cli import build_parser, settings_from_args

    args = build_parser().parse_args(["serve", "--answer-form", "lgt"])
    assert settings_from_args(args).answer_form == "lgt"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--answer-form", "qualified"])


@pytest.mark.asyncio
async def test_info_shows_the_answer_form(mmsc_settings, session):
    async with MockMMSC(mmsc_settings, answer_form="prefixed") as mmsc:
        response = await session.get(mmsc.base_url + "/api/info")
        info = await response.json()
    assert info["answer_form"] == "prefixed"


def test_a_decoded_answer_form_round_trips() -> None:
    encoded = request_in("prefixed", THREEGPP)
    assert decode(encoded.body, encoded.content_type).form.style == "prefixed"
