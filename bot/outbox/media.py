"""Sending a user's attachments on: single files, albums, and neutral file names.

A document, video, audio or animation re-sent by file_id keeps its original file name
("Petrov_Petr_passport_4512.pdf"), so those are downloaded (getFile: up to 20 MB) and
uploaded again under a neutral name. Photos and voice messages carry no name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    InputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    ReplyParameters,
)

from bot.records import AttachmentRecord

NAMED_KINDS = frozenset({"document", "video", "audio", "animation"})
# Which kinds Telegram lets share one album (sendMediaGroup): photos with videos;
# documents only with documents; audio only with audio. Voice and animations go alone.
_ALBUM_FAMILY = {"photo": "visual", "video": "visual", "document": "document", "audio": "audio"}
ALBUM_MAX = 10

InputMedia = InputMediaPhoto | InputMediaVideo | InputMediaDocument | InputMediaAudio


def neutral_name(ticket_id: int, attachment: AttachmentRecord) -> str:
    base = f"{attachment.kind}-{ticket_id}-{attachment.position + 1}"
    return f"{base}.{attachment.extension}" if attachment.extension else base


async def as_sendable(bot: Bot, ticket_id: int, attachment: AttachmentRecord) -> str | InputFile:
    """What to hand Telegram for this attachment: its file_id, or the file itself under
    a neutral name."""
    assert attachment.file_id is not None
    if attachment.kind not in NAMED_KINDS:
        return attachment.file_id
    found = await bot.get_file(attachment.file_id)
    assert found.file_path is not None
    data = await bot.download_file(found.file_path)
    assert data is not None
    return BufferedInputFile(data.read(), filename=neutral_name(ticket_id, attachment))


def albums(attachments: Sequence[AttachmentRecord]) -> list[list[AttachmentRecord]]:
    """The attachments as the fewest sends Telegram accepts, in their order of family."""
    families: dict[str, list[AttachmentRecord]] = {}
    singles: list[list[AttachmentRecord]] = []
    for attachment in attachments:
        family = _ALBUM_FAMILY.get(attachment.kind)
        if family is None:
            singles.append([attachment])
        else:
            families.setdefault(family, []).append(attachment)
    groups: list[list[AttachmentRecord]] = []
    for items in families.values():
        groups += [items[i : i + ALBUM_MAX] for i in range(0, len(items), ALBUM_MAX)]
    return groups + singles


def _input_media(kind: str, media: str | InputFile, caption: str | None) -> InputMedia:
    common: dict[str, Any] = {"media": media, "caption": caption, "parse_mode": None}
    match kind:
        case "photo":
            return InputMediaPhoto(**common)
        case "video":
            return InputMediaVideo(**common)
        case "audio":
            return InputMediaAudio(**common)
    return InputMediaDocument(**common)


async def send_attachments(
    bot: Bot,
    chat_id: int,
    ticket_id: int,
    group: Sequence[AttachmentRecord],
    *,
    caption: str | None = None,
    message_thread_id: int | None = None,
    reply_parameters: ReplyParameters | None = None,
) -> list[Message]:
    """One album (or one file) of a ticket; the messages it made. Captions are plain
    text: whatever the user wrote arrives as written."""
    files = [await as_sendable(bot, ticket_id, item) for item in group]
    if len(group) > 1:
        media = [
            _input_media(item.kind, file, caption if index == 0 else None)
            for index, (item, file) in enumerate(zip(group, files, strict=True))
        ]
        return await bot.send_media_group(
            chat_id, media=media, message_thread_id=message_thread_id,  # type: ignore[arg-type]
            reply_parameters=reply_parameters,
        )  # fmt: skip
    sent = await send_media(
        bot, chat_id, group[0].kind, files[0], caption=caption,
        message_thread_id=message_thread_id, reply_parameters=reply_parameters,
    )  # fmt: skip
    return [sent]


async def send_media(
    bot: Bot,
    chat_id: int,
    kind: str,
    file: str | InputFile,
    *,
    caption: str | None = None,
    message_thread_id: int | None = None,
    reply_parameters: ReplyParameters | None = None,
) -> Message:
    common: dict[str, Any] = {
        "chat_id": chat_id,
        "caption": caption,
        "parse_mode": None,
        "message_thread_id": message_thread_id,
        "reply_parameters": reply_parameters,
    }
    match kind:
        case "photo":
            return await bot.send_photo(photo=file, **common)
        case "voice":
            return await bot.send_voice(voice=file, **common)
        case "video":
            return await bot.send_video(video=file, **common)
        case "audio":
            return await bot.send_audio(audio=file, **common)
        case "animation":
            return await bot.send_animation(animation=file, **common)
    return await bot.send_document(document=file, **common)
