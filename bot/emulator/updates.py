"""Incoming updates as Telegram would send them, and the files users send.

The module-level builders (`private_message`, `callback`, `group_message`,
`edited_private_message`, and the media builders `photo`, `document`, `voice`, `video`,
`audio`, `album`) make Update dicts for tests that feed them straight into a Dispatcher.
Their message ids come from a counter far above any chat's own sequence, so they never
collide with the messages an emulator numbered. Media built here is registered with its
bytes in `BUILT_FILES`, which every emulator consults, so `getFile` and the file download
work for it. Messages that an emulator should know as part of a chat (with an id from
that chat's sequence) are made by the emulator's own `user_message`, `group_post`,
`press_button` methods instead.
"""

from __future__ import annotations

import hashlib
import itertools
import mimetypes
import time
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.text import utf16_len

__all__ = [
    "BOT_FIRST_NAME",
    "BUILT_FILES",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USERNAME",
    "FileRegistry",
    "StoredFile",
    "album",
    "audio",
    "callback",
    "document",
    "edited_private_message",
    "group_message",
    "photo",
    "private_message",
    "video",
    "voice",
]

DEFAULT_BOT_ID = 42
DEFAULT_BOT_USERNAME = "consult_test_bot"
BOT_FIRST_NAME = "Consult"

# Telegram's kinds of file, with the folder getFile puts them in.
_FOLDERS = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "video": "videos",
    "audio": "music",
    "animation": "animations",
    "sticker": "stickers",
    "video_note": "video_notes",
}
_DEFAULT_MIME = {
    "photo": "image/jpeg",
    "voice": "audio/ogg",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "animation": "video/mp4",
    "sticker": "image/webp",
    "video_note": "video/mp4",
}


@dataclass
class StoredFile:
    """A file Telegram holds: what getFile describes and the download serves."""

    file_id: str
    file_unique_id: str
    kind: str
    size: int
    content: bytes | None = None  # None: `size` bytes made up on download
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    file_path: str = ""

    def data(self) -> bytes:
        if self.content is not None:
            return self.content
        seed = hashlib.sha256(self.file_id.encode()).digest()
        return (seed * (self.size // len(seed) + 1))[: self.size]

    def media(self) -> dict[str, Any]:
        """The media object of a Message carrying this file (for photos: one PhotoSize)."""
        media: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.kind in {"photo", "video", "animation", "sticker"}:
            media |= {"width": self.width or 800, "height": self.height or 600}
        if self.kind in {"video", "animation", "voice", "audio", "video_note"}:
            media["duration"] = self.duration or 1
        if self.kind == "video_note":
            media["length"] = self.width or 240
            media.pop("width", None)
            media.pop("height", None)
        if self.kind in {"document", "video", "audio", "animation"} and self.file_name:
            media["file_name"] = self.file_name
        if self.kind not in {"photo", "sticker", "video_note"} and self.mime_type:
            media["mime_type"] = self.mime_type
        if self.kind == "sticker":
            media |= {"type": "regular", "is_animated": False, "is_video": False}
        return media


@dataclass
class FileRegistry:
    """file_id -> StoredFile, with ids that look like Telegram's (kind-specific prefix)."""

    prefix: str
    files: dict[str, StoredFile] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(
        self,
        kind: str,
        content: bytes | None = None,
        *,
        size: int | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
    ) -> StoredFile:
        n = next(self._counter)
        file_id = f"{self.prefix}{kind}-{n}"
        if mime_type is None:
            guessed = mimetypes.guess_type(file_name)[0] if file_name else None
            mime_type = guessed or _DEFAULT_MIME.get(kind, "application/octet-stream")
        extension = mimetypes.guess_extension(mime_type) or ".bin"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"u{self.prefix}{kind}{n}",
            kind=kind,
            size=len(content) if content is not None else (size if size is not None else 1024),
            content=content,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            duration=duration,
            file_path=f"{_FOLDERS.get(kind, 'documents')}/file_{self.prefix}{n}{extension}",
        )
        self.files[file_id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self.files.get(file_id)

    def skip_to(self, n: int) -> None:
        """Number new files from `n` on (after files were restored)."""
        self._counter = itertools.count(max(n, next(self._counter)))


# Files of the module-level builders; every emulator looks here after its own files.
BUILT_FILES = FileRegistry(prefix="B")

# Builder message ids start high so they never collide with a chat's own sequence.
_user_message_ids = itertools.count(100_000)
_callback_ids = itertools.count(1)
_media_groups = itertools.count(1)


def next_builder_message_id() -> int:
    return next(_user_message_ids)


def user_dict(
    user_id: int,
    first_name: str,
    username: str | None,
    language_code: str | None,
    last_name: str | None = None,
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def command_entities(text: str | None) -> list[dict[str, Any]] | None:
    """Telegram marks a leading /command as a bot_command entity."""
    if text is None or not text.startswith("/"):
        return None
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


def _add_text(message: dict[str, Any], text: str | None) -> None:
    if text is None:
        return
    message["text"] = text
    entities = command_entities(text)
    if entities:
        message["entities"] = entities


def bot_author(
    bot_id: int = DEFAULT_BOT_ID,
    username: str = DEFAULT_BOT_USERNAME,
    first_name: str = BOT_FIRST_NAME,
) -> dict[str, Any]:
    return {"id": bot_id, "is_bot": True, "first_name": first_name, "username": username}


def chat_dict(chat_id: int, title: str | None = None) -> dict[str, Any]:
    return {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"} | (
        {"title": title} if title is not None and chat_id < 0 else {}
    )


def _update(kind: str, message: dict[str, Any], update_id: Any) -> dict[str, Any]:
    update: dict[str, Any] = {kind: message}
    if update_id is not None:
        update["update_id"] = update_id
    return update


# --------------------------------------------------------------------------- media


def photo(
    content: bytes | None = None,
    *,
    width: int = 1280,
    height: int = 960,
    size: int | None = None,
) -> list[dict[str, Any]]:
    """A photo as Telegram delivers it: two PhotoSizes, the largest last."""
    small = BUILT_FILES.add(
        "photo", content, size=size, width=max(1, width // 14), height=max(1, height // 14)
    )
    large = BUILT_FILES.add("photo", content, size=size, width=width, height=height)
    return [small.media(), large.media()]


def document(
    file_name: str = "document.pdf",
    content: bytes | None = None,
    *,
    size: int | None = None,
    mime_type: str | None = None,
) -> dict[str, Any]:
    """A document with file_name and file_size (`size` without `content`: made-up bytes)."""
    return BUILT_FILES.add(
        "document", content, size=size, file_name=file_name, mime_type=mime_type
    ).media()


def voice(
    content: bytes | None = None, *, duration: int = 3, size: int | None = None
) -> dict[str, Any]:
    return BUILT_FILES.add("voice", content, size=size, duration=duration).media()


def video(
    content: bytes | None = None,
    *,
    duration: int = 5,
    width: int = 640,
    height: int = 360,
    file_name: str | None = "video.mp4",
    size: int | None = None,
) -> dict[str, Any]:
    return BUILT_FILES.add(
        "video", content, size=size, duration=duration, width=width, height=height,
        file_name=file_name,
    ).media()  # fmt: skip


def audio(
    content: bytes | None = None,
    *,
    duration: int = 60,
    file_name: str | None = "audio.mp3",
    size: int | None = None,
) -> dict[str, Any]:
    return BUILT_FILES.add(
        "audio", content, size=size, duration=duration, file_name=file_name
    ).media()


def album(
    user_id: int,
    items: list[tuple[str, Any]],
    *,
    caption: str | None = None,
    **extra: Any,
) -> list[dict[str, Any]]:
    """An album: one message Update per item, sharing a media_group_id; the caption (if
    any) on the first, as Telegram clients send it. Items are (kind, media) pairs, e.g.
    ("photo", photo()) or ("document", document("a.pdf"))."""
    group = f"album{next(_media_groups)}"
    updates = []
    for index, (kind, media) in enumerate(items):
        fields: dict[str, Any] = {kind: media, "media_group_id": group}
        if index == 0 and caption is not None:
            fields["caption"] = caption
        updates.append(private_message(user_id, None, **fields, **extra))
    return updates


# --------------------------------------------------------------------------- updates


def private_message(
    user_id: int,
    text: str | None = None,
    *,
    language_code: str | None = "ru",
    first_name: str = "Ivan",
    username: str | None = "ivan_private",
    message_id: int | None = None,
    reply_to: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A private-chat message Update; `extra` goes into the message (update_id= goes on top)."""
    update_id = extra.pop("update_id", None)
    chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
    if username is not None:
        chat["username"] = username
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else next_builder_message_id(),
        "date": int(time.time()),
        "chat": chat,
        "from": user_dict(user_id, first_name, username, language_code),
    }
    _add_text(message, text)
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    message.update(extra)
    return _update("message", message, update_id)


def callback(
    user_id: int,
    data: str,
    *,
    message_id: int = 1,
    chat_id: int | None = None,
    language_code: str | None = "ru",
    callback_id: str | None = None,
    message_text: str = "menu",
    update_id: int | None = None,
    reply_markup: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A callback_query Update pressed on a bot message (default: in the user's private
    chat); `reply_markup` is the keyboard that message shows, as Telegram includes it."""
    chat = chat_dict(chat_id if chat_id is not None else user_id)
    query: dict[str, Any] = {
        "id": callback_id if callback_id is not None else f"cb{next(_callback_ids)}",
        "from": user_dict(user_id, "Ivan", "ivan_private", language_code),
        "chat_instance": f"ci{chat['id']}",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),  # date 0 would make it an InaccessibleMessage
            "chat": chat,
            "from": bot_author(),
            "text": message_text,
        },
    }
    if reply_markup is not None:
        query["message"]["reply_markup"] = reply_markup
    return _update("callback_query", query, update_id)


def next_callback_id() -> str:
    return f"cb{next(_callback_ids)}"


def group_message(
    chat_id: int,
    user_id: int,
    text: str | None = None,
    *,
    reply_to_message_id: int | None = None,
    message_thread_id: int | None = None,
    is_topic_message: bool = False,
    first_name: str = "Moderator",
    username: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A supergroup message Update; a reply points at a bot message with that id."""
    update_id = extra.pop("update_id", None)
    chat: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": "Test group"}
    if message_thread_id is not None or is_topic_message:
        chat["is_forum"] = True
    message: dict[str, Any] = {
        "message_id": next_builder_message_id(),
        "date": int(time.time()),
        "chat": chat,
        "from": user_dict(user_id, first_name, username, None),
    }
    _add_text(message, text)
    if message_thread_id is not None:
        message["message_thread_id"] = message_thread_id
    if is_topic_message:
        message["is_topic_message"] = True
    if reply_to_message_id is not None:
        replied: dict[str, Any] = {
            "message_id": reply_to_message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": bot_author(),
        }
        if message_thread_id is not None:
            replied["message_thread_id"] = message_thread_id
        message["reply_to_message"] = replied
    message.update(extra)
    return _update("message", message, update_id)


def edited_private_message(
    user_id: int, text: str, message_id: int, *, update_id: int | None = None
) -> dict[str, Any]:
    """An edited_message Update for a message the user sent earlier."""
    update = private_message(user_id, text, message_id=message_id)
    message = update.pop("message")
    message["edit_date"] = int(time.time())
    return _update("edited_message", message, update_id)
