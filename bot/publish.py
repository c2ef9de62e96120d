"""`python -m bot publish <file> [--dry-run]`: add an issue and broadcast it from the
command line, with a progress bar."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import TextIO

from bot.broadcaster import GroupProgressReporter, Progress, format_eta
from bot.config import Settings
from bot.content import Issue, load_issue, load_topics
from bot.factory import open_app
from bot.i18n import SUPPORTED_LOCALES, Localizations
from bot.screens import digest_message

BAR_WIDTH = 30


def progress_line(progress: Progress) -> str:
    done = progress.total - progress.left
    filled = int(BAR_WIDTH * done / progress.total) if progress.total else BAR_WIDTH
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return (
        f"[{bar}] {done}/{progress.total} · sent {progress.sent} · failed {progress.failed} "
        f"· blocked {progress.blocked} · left {progress.left} · {progress.rate:.1f}/s "
        f"· ETA {format_eta(progress.eta_seconds)}"
    )


def publish(settings: Settings, path: Path, *, dry_run: bool, out: TextIO = sys.stdout) -> int:
    """Validate the file (ContentError names the file and the field), put it among the
    digests so a restarted bot loads it too, then publish and broadcast."""
    topics = {topic.slug for topic in load_topics(settings.content_dir / "topics.yaml")}
    issue = load_issue(path, topics)
    if not dry_run:
        target = settings.content_dir / "digests" / f"{issue.issue}.yaml"
        if path.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return asyncio.run(_publish(settings, issue, dry_run=dry_run, out=out))


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


async def _publish(settings: Settings, issue: Issue, *, dry_run: bool, out: TextIO) -> int:
    async with open_app(settings) as app:
        counts = await app.broadcasts.subscribers_by_locale()
        if dry_run:
            _print_preview(issue, app.localizations, counts, out)
            return 0
        app.library.add_issue(issue)
        result = await app.broadcasts.publish(issue)
        if result.recipients is None:
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
