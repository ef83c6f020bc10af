"""Build an LG U+ SubmitReq with Korean text and a JPEG, print it, and read it back.

Runs the sans-IO codec only: no network.
"""

from __future__ import annotations

from mm7client import LGT, Part, SubmitRequest, decode, encode

# The smallest valid JPEG header + end marker is enough for the codec; it does not decode pixels.
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


def main() -> None:
    request = SubmitRequest(
        to=["01012345678"],
        vasp_id="MYCOMPANY",
        vas_id="MYSERVICE",
        kisa_orig_code="123456789",
        callback="15881234",
        subject="안녕하세요",
        delivery_report=True,
        content=[Part.from_text("MM7 예제 메시지입니다."), Part.jpeg(JPEG, filename="logo.jpg")],
    )
    encoded = encode(request, LGT)
    print("POST headers:")
    for name, value in encoded.headers.items():
        print(f"  {name}: {value}")
    print(encoded.body.decode("euc-kr", "replace"))
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, SubmitRequest)
    print("decoded back:", decoded.subject, [p.content_type for p in decoded.content])


if __name__ == "__main__":
    main()
