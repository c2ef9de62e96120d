"""Publishing from the moderators' group: /publish (admins), its preview and Confirm,
and /broadcasts."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.broadcaster import Broadcaster
from bot.callbacks import PublishAction
from bot.config import Settings
from bot.content import ContentError, Issue, Library, load_issue
from bot.handlers.moderation import FromModerator
from bot.i18n import SUPPORTED_LOCALES, L10n, Localizations
from bot.moderators import ModeratorDirectory
from bot.screens import digest_message
from bot.services.broadcasts import BroadcastService


def _load(settings: Settings, library: Library, name: str) -> Issue:
    """An issue file under CONTENT_DIR/digests, by its id ("2023-10")."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ContentError([f"{name!r}: not an issue id"])
    path = settings.content_dir / "digests" / f"{name.removesuffix('.yaml')}.yaml"
    if not path.exists():
        raise ContentError([f"{path.name}: no such file"])
    return load_issue(path, {topic.slug for topic in library.topics})


def _publish_button(l10n: L10n, action: str, issue: Issue) -> InlineKeyboardButton:
    data = PublishAction(action=action, issue=issue.issue).pack()
    return InlineKeyboardButton(text=l10n.text(f"publish-{action}"), callback_data=data)


async def publish_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    l10n: L10n,
    settings: Settings,
    library: Library,
    localizations: Localizations,
    moderators: ModeratorDirectory,
    broadcasts: BroadcastService,
) -> None:
    if message.from_user is None or not await moderators.is_admin(bot, message.from_user.id):
        await message.reply(l10n.text("publish-admins-only"))
        return
    name = (command.args or "").strip()
    available = sorted(path.stem for path in (settings.content_dir / "digests").glob("*.yaml"))
    if not name or name.removesuffix(".yaml") not in available:
        # Say which issues there are, rather than just "no".
        await message.reply(
            l10n.text("publish-which", name=name[:20] or "—", issues=", ".join(available) or "—")
        )
        return
    try:
        issue = _load(settings, library, name)
    except ContentError as error:
        await message.reply(l10n.text("publish-invalid", problems="\n".join(error.problems[:10])))
        return
    for locale in SUPPORTED_LOCALES:
        parts, _ = digest_message(localizations.get(locale), issue)
        await message.answer(l10n.text("publish-preview", language=locale))
        for part in parts:
            await message.answer(part)
    counts = await broadcasts.subscribers_by_locale()
    confirm = InlineKeyboardMarkup(
        inline_keyboard=[
            [_publish_button(l10n, "confirm", issue), _publish_button(l10n, "cancel", issue)]
        ]
    )
    await message.answer(
        l10n.text(
            "publish-ask",
            issue=issue.issue,
            total=sum(counts.values()),
            ru=counts.get("ru", 0),
            en=counts.get("en", 0),
        ),
        reply_markup=confirm,
    )


async def publish_button(
    callback: CallbackQuery,
    callback_data: PublishAction,
    bot: Bot,
    l10n: L10n,
    settings: Settings,
    library: Library,
    moderators: ModeratorDirectory,
    broadcasts: BroadcastService,
    broadcaster: Broadcaster,
) -> None:
    if not await moderators.is_admin(bot, callback.from_user.id):
        await callback.answer(l10n.text("publish-admins-only"), show_alert=True)
        return
    message = callback.message if isinstance(callback.message, Message) else None
    if callback_data.action != "confirm":
        if message is not None:
            await message.edit_text(l10n.text("publish-cancelled", issue=callback_data.issue))
        await callback.answer()
        return
    try:
        issue = _load(settings, library, callback_data.issue)
    except ContentError as error:
        await callback.answer(error.problems[0][:190], show_alert=True)
        return
    library.add_issue(issue)
    result = await broadcasts.publish(issue)
    if result.recipients is None:
        text = l10n.text("publish-again", issue=issue.issue)
    else:
        text = l10n.text("publish-started", issue=issue.issue, total=result.recipients)
        broadcaster.wake()
    if message is not None:
        await message.edit_text(text)
    await callback.answer()


async def broadcasts_command(message: Message, l10n: L10n, broadcasts: BroadcastService) -> None:
    lines = [l10n.text("broadcasts-title")]
    for record in await broadcasts.recent():
        counts = await broadcasts.counts(record.issue)
        lines.append(
            l10n.text(
                "broadcasts-item",
                issue=record.issue,
                total=record.total,
                sent=counts.get("sent", 0),
                failed=counts.get("failed", 0),
                blocked=counts.get("blocked", 0),
                left=counts.get("pending", 0),
                state=l10n.text("broadcasts-done" if record.finished_at else "broadcasts-running"),
            )
        )
    if len(lines) == 1:
        lines.append(l10n.text("broadcasts-none"))
    await message.reply("\n".join(lines))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(publish_command, Command("publish"))
    router.message.register(broadcasts_command, Command("broadcasts"), FromModerator())
    router.callback_query.register(publish_button, PublishAction.filter())
    return router
