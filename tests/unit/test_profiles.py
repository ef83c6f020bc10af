"""Carrier profiles: the shipped LGT and 3GPP profiles, user-defined ones, and lookup."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mm7client.profiles import (
    LGT,
    MM7_NAMESPACE_PREFIX,
    THREEGPP,
    CarrierProfile,
    get_profile,
    register_profile,
)


def test_lgt_profile() -> None:
    assert LGT.namespace == MM7_NAMESPACE_PREFIX + "REL-5-MM7-1-2"
    assert LGT.mm7_version == "5.3.0"
    assert (LGT.charset, LGT.codec) == ("euc-kr", "euc_kr")
    assert LGT.qualified is False and LGT.boolean_style == "title"
    assert LGT.lgt_extensions and LGT.require_kisa_orig_code and LGT.require_vas_id
    assert LGT.subject_max_bytes == 40 and LGT.text_max_bytes == 2000
    assert LGT.allowed_image_types == frozenset({"image/jpeg"})
    assert LGT.max_recipients == 1


def test_3gpp_profile() -> None:
    assert THREEGPP.namespace == MM7_NAMESPACE_PREFIX + "REL-6-MM7-1-4"
    assert THREEGPP.mm7_version == "6.8.0"
    assert THREEGPP.charset == "utf-8" and THREEGPP.qualified
    assert THREEGPP.rel6_elements and not THREEGPP.lgt_extensions
    assert not THREEGPP.require_kisa_orig_code


def test_get_profile_by_name_and_instance() -> None:
    assert get_profile("lgt") is LGT
    assert get_profile("LGT") is LGT
    assert get_profile("3gpp") is THREEGPP
    assert get_profile(LGT) is LGT
    with pytest.raises(ValueError, match=r"profile='kt'.*known: 3gpp, lgt"):
        get_profile("kt")


def test_user_defined_profile() -> None:
    custom = LGT.replace(name="lgt-small", max_image_bytes=100_000)
    assert custom.max_image_bytes == 100_000 and custom.namespace == LGT.namespace
    assert LGT.max_image_bytes != 100_000  # the original is untouched
    register_profile(custom)
    assert get_profile("lgt-small") is custom


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"boolean_style": "upper"}, "boolean_style='upper'"),
        ({"codec": "no-such-codec"}, "codec='no-such-codec'"),
    ],
)
def test_invalid_profiles_are_refused(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CarrierProfile(name="x", namespace="urn:x", mm7_version="1", **changes)  # type: ignore[arg-type]


def test_lgt_image_cap_from_the_environment() -> None:
    env = {**os.environ, "MM7_LGT_MAX_IMAGE_BYTES": "123456"}
    result = subprocess.run(
        [sys.executable, "-c", "from mm7client.profiles import LGT; print(LGT.max_image_bytes)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "123456"
