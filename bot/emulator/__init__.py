"""A Bot API emulator, strict like Telegram: the tests' fake and the sandbox's Telegram.

`server` is the HTTP emulator (`FakeTelegram`), `text` parses message text the way the
Bot API does (HTML, entities, limits), `updates` builds incoming updates and the files
users send.
"""

from bot.emulator.server import (
    BOT_BLOCKED,
    MESSAGE_TO_EDIT_NOT_FOUND,
    METHOD_NOT_FOUND,
    NOT_MODIFIED,
    ApiCall,
    Event,
    FakeTelegram,
    Rejection,
    UploadedFile,
    watch_rejections,
)
from bot.emulator.updates import (
    BUILT_FILES,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USERNAME,
    StoredFile,
    album,
    audio,
    callback,
    document,
    edited_private_message,
    group_message,
    photo,
    private_message,
    video,
    voice,
)

__all__ = [
    "BOT_BLOCKED",
    "BUILT_FILES",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USERNAME",
    "MESSAGE_TO_EDIT_NOT_FOUND",
    "METHOD_NOT_FOUND",
    "NOT_MODIFIED",
    "ApiCall",
    "Event",
    "FakeTelegram",
    "Rejection",
    "StoredFile",
    "UploadedFile",
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
    "watch_rejections",
]
