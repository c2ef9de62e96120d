"""Message text the way the Bot API takes it: HTML parsing, entities, trimming, limits.

Telegram's Bot API server hands `parse_mode=HTML` to TDLib (`parseTextEntities`), which
runs `parse_html` from td/telegram/MessageEntity.cpp and then `fix_formatted_text`.
This module is a port of those two functions, close enough that the same input gives
the same error text and byte offset, and the same plain text and entities:

- tdlib/td td/telegram/MessageEntity.cpp: `decode_html_entity`, `parse_html`,
  `fix_formatted_text` (rtrim, ltrim before the first entity, `\\r` dropped, control
  characters turned into spaces, "Text must be non-empty");
- tdlib/telegram-bot-api telegram-bot-api/Client.cpp: `get_formatted_text` (a raw text
  over 32 KiB is "Text is too long", parse errors become "Can't parse entities: ..."),
  `get_input_message_text` ("Message text is empty" before parsing), and
  `fail_query_with_error`, which lower-cases the first letter of TDLib's message unless
  it is an UPPER_CASE server code, and prefixes "Bad Request: ";
- tdlib/td td/telegram/MessageContent.cpp `create_input_message_content`: a bot's text
  may have at most `message_text_length_max` (4096) characters counted with
  `utf8_length`, i.e. Unicode code points, not UTF-16 units; entity offsets, on the
  other hand, are UTF-16 code units (Bot API docs, MessageEntity).

Not ported: TDLib's automatic detection of URLs, mentions and hashtags in the text
(`find_entities`), which only adds entities and never rejects a message.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CALLBACK_ANSWER_LIMIT",
    "CAPTION_LIMIT",
    "RAW_TEXT_LIMIT",
    "TEXT_LIMIT",
    "EntityError",
    "FormattedText",
    "bot_api_error",
    "format_text",
    "parse_html",
    "utf16_len",
]

TEXT_LIMIT = 4096  # message_text_length_max
CAPTION_LIMIT = 1024  # message_caption_length_max
CALLBACK_ANSWER_LIMIT = 200  # Bot API docs: answerCallbackQuery text, 0-200 characters
RAW_TEXT_LIMIT = 1 << 15  # Client.cpp get_formatted_text: "Text is too long"

_SPACE = frozenset(b" \t\r\n\0\v")  # td/utils/misc.h is_space: NUL counts as a space
_LT, _GT, _AMP, _SLASH, _EQ = (ord(c) for c in "<>&/=")
_QUOTES = frozenset(b"\"'")
_SPECIAL = re.compile(rb"[<&]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_TG_USER = re.compile(r"^tg://user\?id=([0-9]{1,19})$")
# What clean_input_string changes: control characters (spaces), '\r' and the dropped ones.
_UNCLEAN = re.compile("[\x00-\x09\x0b-\x1f\u2028-\u202e\u0333\u033f\u030a]")
# clean_input_string drops these (line/paragraph separators, bidi controls, and three
# combining marks that draw vertical lines).
_DROPPED = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u0333\u033f\u030a")
_HOST = re.compile(r"^[^\s/?#]+\.[^\s/?#]+")


class EntityError(Exception):
    """TDLib's own message, before the Bot API adds its prefix."""


@dataclass(frozen=True)
class FormattedText:
    """Text and entities as Telegram stores them (entity offsets in UTF-16 units)."""

    text: str
    entities: tuple[dict[str, Any], ...] = ()

    def entity_list(self) -> list[dict[str, Any]] | None:
        return [dict(entity) for entity in self.entities] or None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def bot_api_error(message: str) -> str:
    """How the Bot API shows a TDLib error: 'Bad Request: ' and a lower-case first letter
    unless the message is a server code like BUTTON_DATA_INVALID (Client.cpp)."""
    if len(message) >= 2 and (message[1] == "_" or "A" <= message[1] <= "Z"):
        return f"Bad Request: {message}"
    return f"Bad Request: {message[:1].lower()}{message[1:]}"


# --------------------------------------------------------------------------- parse_html


def _is_alpha(c: int) -> bool:
    c |= 0x20
    return ord("a") <= c <= ord("z")


def _is_digit(c: int) -> bool:
    return ord("0") <= c <= ord("9")


def _is_hex(c: int) -> bool:
    return _is_digit(c) or ord("a") <= (c | 0x20) <= ord("f")


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """(code point, position after it); code 0 means "not an entity, take '&' as is".

    TDLib knows only &lt; &gt; &amp; &quot; and numeric references; the ';' is optional,
    and anything else (a lone '&', "&nbsp;", "AT&T") is left in the text literally."""
    end = pos + 1
    code = 0
    if data[pos + 1] == ord("#"):
        end += 1
        if data[pos + 2] == ord("x"):
            end += 1
            while _is_hex(data[end]):
                code = code * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while _is_digit(data[end]):
                code = code * 10 + data[end] - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while _is_alpha(data[end]):
            end += 1
        name = data[pos + 1 : end]
        named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}.get(name)
        if named is None:
            return 0, pos
        code = ord(named)
    if data[end] == ord(";"):
        end += 1
    return code, end


def _checked_link(url: str) -> str | None:
    """LinkManager::get_checked_link, roughly: a URL with a scheme is kept, a bare host
    gets http://, and what is not a link at all drops the entity (no error)."""
    url = url.strip()
    if _SCHEME.match(url):
        return url
    if _HOST.match(url):
        return f"http://{url}"
    return None


def parse_html(source: str) -> FormattedText:
    """TDLib's parse_html: plain text and entities, or EntityError with TDLib's text."""
    data = source.encode("utf-8", "surrogatepass") + b"\0"
    size = len(data) - 1
    out = bytearray()
    entities: list[dict[str, Any]] = []
    # (tag, argument, UTF-16 offset where it starts, byte position in `out`)
    nested: list[tuple[str, str, int, int]] = []
    utf16 = 0
    surrogate = False
    i = 0
    while i < size:
        c = data[i]
        if c == _AMP:
            code, after = _decode_entity(data, i)
            if code:
                utf16 += 1 + (code > 0xFFFF)
                surrogate = surrogate or 0xD800 <= code <= 0xDFFF
                out += chr(code).encode("utf-8", "surrogatepass")
                i = after
                continue
        if c != _LT:
            # Plain text up to the next '<' or '&' (TDLib copies it byte by byte; counted
            # here in one go: a 4-byte UTF-8 character is two UTF-16 units).
            special = _SPECIAL.search(data, i + 1, size)
            stop = special.start() if special is not None else size
            chunk = data[i:stop]
            out += chunk
            utf16 += (
                len(chunk.decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass"))
                // 2
            )
            i = stop
            continue

        begin = i
        i += 1
        if data[i] != _SLASH:
            while data[i] not in _SPACE and data[i] != _GT:
                i += 1
            if data[i] == 0:
                raise EntityError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _TAGS:
                raise EntityError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument, i = _parse_attributes(data, i, tag, begin)
            if tag == "span" and argument != "spoiler":
                raise EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            nested.append((tag, argument, utf16, len(out)))
            i += 1  # past '>'
            continue

        # An end tag.
        if not nested:
            raise EntityError(f"Unexpected end tag at byte offset {begin}")
        while data[i] not in _SPACE and data[i] != _GT:
            i += 1
        end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
        while data[i] in _SPACE and data[i] != 0:
            i += 1
        if data[i] != _GT:
            raise EntityError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, offset, out_begin = nested[-1]
        if end_tag and end_tag != tag:
            raise EntityError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        if utf16 > offset:
            _close_entity(entities, tag, argument, offset, utf16 - offset, bytes(out[out_begin:]))
        nested.pop()
        i += 1
    if nested:
        raise EntityError(f"Can't find end tag corresponding to start tag {nested[-1][0]}")
    if surrogate:
        raise EntityError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    for entity in entities:
        entity.pop("_code_language", None)
    return FormattedText(out.decode("utf-8"), tuple(_sorted(entities)))


def _parse_attributes(data: bytes, i: int, tag: str, begin: int) -> tuple[str, int]:
    """The attributes of a start tag; returns the tag's argument and the index of '>'."""
    argument = ""
    while data[i] != _GT:
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] == _GT:
            break
        name_begin = i
        while data[i] not in _SPACE and data[i] not in b"=>/\"'":
            i += 1
        name = data[name_begin:i].decode("utf-8", "replace")
        if not name:
            raise EntityError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] != _EQ:
            if data[i] == 0:
                raise EntityError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] == 0:
            raise EntityError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if data[i] not in _QUOTES:
            # A name token: letters, digits, periods and hyphens, case-insensitive.
            token_begin = i
            while _is_alpha(data[i]) or _is_digit(data[i]) or data[i] in b".-":
                i += 1
            value = data[token_begin:i].decode("ascii").lower()
            if data[i] not in _SPACE and data[i] != _GT:
                raise EntityError(f"Unexpected end of name token at byte offset {token_begin}")
        else:
            quote = data[i]
            i += 1
            raw = bytearray()
            while data[i] != quote and data[i] != 0:
                if data[i] == _AMP:
                    code, after = _decode_entity(data, i)
                    if code:
                        raw += chr(code).encode("utf-8", "surrogatepass")
                        i = after
                        continue
                raw.append(data[i])
                i += 1
            if data[i] == quote:
                i += 1
            value = raw.decode("utf-8", "replace")
        if data[i] == 0:
            raise EntityError(f"Unclosed start tag at byte offset {begin}")
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[9:]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[3:]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = value
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    return argument, i


def _close_entity(
    entities: list[dict[str, Any]],
    tag: str,
    argument: str,
    offset: int,
    length: int,
    inner: bytes,
) -> None:
    """Turn a closed tag into a Bot API MessageEntity (the end of TDLib's parse_html)."""
    if tag in _SIMPLE or tag == "span":
        entities.append({"type": _SIMPLE.get(tag, "spoiler"), "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0 or int(argument) >= 2**63:
            raise EntityError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": argument,
            }
        )
    elif tag == "a":
        url = argument or inner.decode("utf-8")
        user = _TG_USER.match(url)
        if user is not None:
            entities.append(
                {
                    "type": "text_mention",
                    "offset": offset,
                    "length": length,
                    "user": {"id": int(user.group(1)), "is_bot": False, "first_name": "User"},
                }
            )
        elif (checked := _checked_link(url)) is not None:
            entities.append(
                {"type": "text_link", "offset": offset, "length": length, "url": checked}
            )
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and (last["offset"], last["length"]) == (offset, length)
            and last.get("_code_language")
        ):
            last["type"] = "pre"
            last["language"] = last.pop("_code_language")
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and (last["offset"], last["length"]) == (offset, length)
            and argument
        ):
            last["language"] = argument
        else:
            # A language on a bare <code> only counts inside <pre>; TDLib then drops it.
            entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if argument:
                entity["_code_language"] = argument
            entities.append(entity)
    else:  # blockquote
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """TDLib's sort_entities: by offset, longer first, then by type priority."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


# --------------------------------------------------------------------------- fix_formatted_text


class _Units:
    """UTF-16 offsets <-> code point indices of one text: they differ by the number of
    astral characters (two UTF-16 units each) before the position."""

    def __init__(self, text: str) -> None:
        astral = [m.start() for m in _ASTRAL.finditer(text)]
        self.starts = astral  # code point index of each astral character
        self.ends = [p + j + 2 for j, p in enumerate(astral)]  # UTF-16 offset after each

    def index(self, units: int) -> int:
        return units - bisect.bisect_right(self.ends, units) if self.ends else units

    def units(self, index: int) -> int:
        return index + bisect.bisect_left(self.starts, index) if self.starts else index


def _fix(parsed: FormattedText, *, allow_empty: bool) -> FormattedText:
    """TDLib's fix_formatted_text for what a bot sends: control characters become
    spaces, '\\r' is dropped, trailing blanks and leading blanks before the first entity
    are trimmed, entities that became empty are removed."""
    text = parsed.text
    before = _Units(text)
    # Entity boundaries fall on code points: work with code point indices.
    spans = [
        (before.index(e["offset"]), before.index(e["offset"] + e["length"]), e)
        for e in parsed.entities
    ]
    if _UNCLEAN.search(text):
        kept: list[str] = []
        index_map: list[int] = []  # old index -> new index
        for char in text:
            index_map.append(len(kept))
            if char == "\r" or char in _DROPPED:
                continue
            kept.append(" " if char <= " " and char != "\n" else char)
        index_map.append(len(kept))
        text = "".join(kept)
        spans = [(index_map[a], index_map[b], e) for a, b, e in spans]
    last = len(text.rstrip(" \n"))
    if last == 0:
        if allow_empty:
            return FormattedText("")
        raise EntityError("Text must be non-empty")
    spans = [(a, min(b, last), e) for a, b, e in spans if a < last and b > a]
    first_entity = min((a for a, _, _ in spans), default=last)
    first = first_entity - len(text[:first_entity].lstrip(" \n"))
    text = text[first:last]
    after = _Units(text)
    result = [
        entity
        | {
            "offset": after.units(a - first),
            "length": after.units(b - first) - after.units(a - first),
        }
        for a, b, entity in spans
        if b > a
    ]
    return FormattedText(text, tuple(_sorted(result)))


def _given_entities(text: str, raw: Any) -> FormattedText:
    """`entities` sent as JSON beside a text without parse_mode (Client.cpp
    get_text_entity; bounds checked like clean_input_string_with_entities)."""
    if not isinstance(raw, list):
        return FormattedText(text)
    total = utf16_len(text)
    entities: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict) or "type" not in item:
            raise EntityError("Can't parse MessageEntity: expected an Object")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise EntityError('Can\'t parse MessageEntity: Field "offset" must be a number')
        if offset < 0 or offset > 1_000_000:
            raise EntityError(f"Receive an entity with incorrect offset {offset}")
        if length < 0 or length > 1_000_000:
            raise EntityError(f"Receive an entity with incorrect length {length}")
        if offset + length > total:
            raise EntityError(
                f"Entity beginning at UTF-16 offset {offset} ends after the end of the text "
                f"at UTF-16 offset {offset + length}"
            )
        if length > 0:
            entities.append(dict(item))
    return FormattedText(text, tuple(_sorted(entities)))


def format_text(
    raw: str,
    parse_mode: Any,
    entities: Any = None,
    *,
    allow_empty: bool,
) -> FormattedText:
    """A text or caption as the Bot API would store it; raises EntityError with the
    message the Bot API reports (without "Bad Request: ")."""
    if len(raw.encode("utf-8", "surrogatepass")) > RAW_TEXT_LIMIT:
        raise EntityError("Text is too long")
    mode = str(parse_mode).lower() if isinstance(parse_mode, str) else ""
    if raw and mode == "html":
        try:
            parsed = parse_html(raw)
        except EntityError as error:
            raise EntityError(f"Can't parse entities: {error}") from None
    elif raw and mode in {"markdown", "markdownv2"}:
        raise EntityError("Can't parse entities: the emulator speaks HTML only")
    elif raw and mode not in {"", "none"}:
        raise EntityError("Unsupported parse_mode")
    else:
        parsed = _given_entities(raw, entities)
    return _fix(parsed, allow_empty=allow_empty)
