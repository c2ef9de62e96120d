"""`python -m bot publish <file or issue id> [--dry-run]`: publish an issue from the
command line and broadcast it, with a progress bar; or only preview it.

Publishing records the issue in the database (`published_issues`): from then on the bot
serves it, and a file in digests/ is no longer needed for that. A dry run needs no
token: it reads the content, the texts and the subscriber counts, and changes nothing.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import TextIO

from bot.broadcaster import GroupProgressReporter, Progress, format_eta
from bot.config import ContentSettings, Settings
from bot.content import Issue, load_issue, load_topics
from bot.db import Database
from bot.factory import open_app
from bot.i18n import SUPPORTED_LOCALES, Localizations
from bot.screens import digest_message
from bot.services import subscription_service

BAR_WIDTH = 30
ISSUE_ID = re.compile(r"\d{4}-\d{2}")


def progress_line(progress: Progress) -> str:
    done = progress.total - progress.left
    filled = int(BAR_WIDTH * done / progress.total) if progress.total else BAR_WIDTH
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return (
        f"[{bar}] {done}/{progress.total} · sent {progress.sent} · failed {progress.failed} "
        f"· blocked {progress.blocked} · left {progress.left} · {progress.rate:.1f}/s "
        f"· ETA {format_eta(progress.eta_seconds)}"
    )


def issue_path(paths: ContentSettings, argument: Path) -> Path:
    """A file as given, or an issue id ("2023-10") naming CONTENT_DIR/digests/2023-10.yaml."""
    if not argument.exists() and ISSUE_ID.fullmatch(str(argument)):
        return paths.content_dir / "digests" / f"{argument}.yaml"
    return argument


def _load(paths: ContentSettings, argument: Path) -> Issue:
    """Validate the file; ContentError names the file and the field."""
    topics = {topic.slug for topic in load_topics(paths.content_dir / "topics.yaml")}
    return load_issue(issue_path(paths, argument), topics)


def preview(paths: ContentSettings, argument: Path, *, out: TextIO = sys.stdout) -> int:
    """What subscribers would get in each language, and how many of them; nothing is
    recorded or sent (a database that does not exist yet is not created)."""
    issue = _load(paths, argument)
    counts: dict[str, int] = {}
    if paths.database_path.exists():
        counts = asyncio.run(_subscriber_counts(paths.database_path))
    _print_preview(issue, Localizations(paths.locales_dir, paths.default_locale), counts, out)
    return 0


async def _subscriber_counts(database_path: Path) -> dict[str, int]:
    db = Database(database_path)
    await db.connect()
    try:
        await db.migrate()  # as the bot would at start; nothing if it is up to date
        return await subscription_service(db).count_by_locale()
    finally:
        await db.close()


def publish(settings: Settings, argument: Path, *, out: TextIO = sys.stdout) -> int:
    """Validate the file, record the issue as published (the running bot serves it within
    seconds, and so does every restarted one) and broadcast it."""
    issue = _load(settings, argument)
    return asyncio.run(_publish(settings, issue, out=out))


def _print_preview(
    issue: Issue, localizations: Localizations, counts: dict[str, int], out: TextIO
) -> None:
    for locale in SUPPORTED_LOCALES:
        parts, markup = digest_message(localizations.get(locale), issue)
        subscribers = counts.get(locale, 0)
        print(f"=== {locale}: {subscribers} subscribers, {len(parts)} message(s)", file=out)
        for part in parts:
            print(part, file=out)
            print("---", file=out)
        buttons = [button.text for row in markup.inline_keyboard for button in row]
        print("buttons: " + " | ".join(buttons), file=out)
    per_locale = ", ".join(f"{loc}: {counts.get(loc, 0)}" for loc in SUPPORTED_LOCALES)
    total = sum(counts.values())
    print(f"dry run: {issue.issue} would go to {total} subscribers ({per_locale})", file=out)


async def _publish(settings: Settings, issue: Issue, *, out: TextIO) -> int:
    async with open_app(settings) as app:
        app.library.add_issue(issue)
        result = await app.broadcasts.publish(issue)
        if result.recipients is None:
            record = await app.broadcasts.get(issue.issue)
            if record is not None and record.finished_at is not None:
                print(
                    f"issue {issue.issue} was broadcast before: its published text is "
                    "updated, nobody gets it again",
                    file=out,
                )
                return 0
            print(f"issue {issue.issue} was published before; resuming if unfinished", file=out)
        else:
            print(f"issue {issue.issue} published: {result.recipients} recipients", file=out)

        # The moderators see the same progress as for /publish in the group.
        reporter = GroupProgressReporter(
            app.bot, app.broadcasts, settings.moderator_chat_id,
            app.localizations.get(settings.group_locale),
        )  # fmt: skip

        async def show(progress: Progress) -> None:
            print("\r" + progress_line(progress), end="", file=sys.stderr, flush=True)
            await reporter(progress)

        claimed = await app.broadcasts.claim()
        if claimed is None:
            print("the running bot is sending it (see /broadcasts in the group)", file=out)
            return 0
        progress = await app.broadcaster.run(claimed, show)
        print(file=sys.stderr)
        print(
            f"broadcast {progress.issue}: sent {progress.sent}, failed {progress.failed}, "
            f"blocked {progress.blocked}, left {progress.left}",
            file=out,
        )
        return 0
