"""SMIL presentation generation: one slide per image, each with the text that follows it."""

from __future__ import annotations

from collections.abc import Sequence

from mm7client.codec.soap import xml_escape

__all__ = ["generate_smil", "media_kind"]

_HEAD = (
    "<smil><head><layout>"
    '<root-layout width="100%" height="100%"/>'
    '<region id="Image" left="0" top="0" width="100%" height="70%" fit="meet"/>'
    '<region id="Text" left="0" top="70%" width="100%" height="30%" fit="scroll"/>'
    "</layout></head><body>"
)


def media_kind(content_type: str) -> str:
    """``image``, ``audio``, ``video``, ``text`` or ``file``: how a phone presents a part."""
    major = content_type.partition("/")[0]
    return major if major in ("image", "audio", "video", "text") else "file"


# The SMIL element of each kind of part.
_SMIL_TAGS = {"image": "img", "audio": "audio", "video": "video", "text": "text", "file": "ref"}


def _media_tag(content_type: str) -> str:
    return _SMIL_TAGS[media_kind(content_type)]


def generate_smil(parts: Sequence[tuple[str, str]], slide_ms: int = 5000) -> str:
    """A SMIL document for ``(content_id, content_type)`` pairs, in the order given.

    A slide holds at most one media part (image, audio, video or other) and one text part: a
    part joins the current slide when the slide has no part of its kind yet, else it opens a
    new slide. "text, image, text, image" gives two slides of image + text.
    """
    slides: list[list[str]] = []
    has_text: list[bool] = []
    has_media: list[bool] = []
    for content_id, content_type in parts:
        tag = _media_tag(content_type)
        src = xml_escape("cid:" + content_id)
        is_text = tag == "text"
        if is_text:
            element = f'<text src="{src}" region="Text"/>'
        else:
            region = ' region="Image"' if tag in ("img", "video", "ref") else ""
            element = f'<{tag} src="{src}"{region}/>'
        taken = has_text if is_text else has_media
        if slides and not taken[-1]:
            slides[-1].append(element)
        else:
            slides.append([element])
            has_text.append(False)
            has_media.append(False)
        taken[-1] = True
    body = "".join(f'<par dur="{slide_ms}ms">{"".join(slide)}</par>' for slide in slides)
    return _HEAD + body + "</body></smil>"
