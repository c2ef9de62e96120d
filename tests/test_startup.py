"""Start-up: settings, content validation, `check`, and the database's shape."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from bot.cli import main
from bot.db import SCHEMA_VERSION, Database
from bot.i18n import check_locales
from tests.conftest import ROOT, TOKEN


def run_bot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.isupper() or k in {"PATH", "HOME", "LANG", "PYTHONPATH"}
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_token_exits_2_naming_it(tmp_path: Path) -> None:
    result = run_bot(cwd=tmp_path, env={"MODERATOR_CHAT_ID": "-100"})
    assert result.returncode == 2
    assert result.stderr.strip() == "consult-bot: setting BOT_TOKEN is required but not set"


def test_invalid_setting_from_dotenv_is_named_and_the_token_never_printed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nMODERATOR_CHAT_ID=not-a-number\n")
    result = run_bot(cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("consult-bot: setting MODERATOR_CHAT_ID is invalid")
    assert TOKEN.split(":")[1] not in result.stderr + result.stdout


def test_malformed_token_and_locale_are_named(tmp_path: Path) -> None:
    result = run_bot(cwd=tmp_path, env={"BOT_TOKEN": "oops-secret", "MODERATOR_CHAT_ID": "-1"})
    assert result.returncode == 2
    assert result.stderr.startswith("consult-bot: setting BOT_TOKEN is invalid")
    assert "oops-secret" not in result.stderr
    result = run_bot(
        cwd=tmp_path, env={"BOT_TOKEN": TOKEN, "MODERATOR_CHAT_ID": "-1", "DEFAULT_LOCALE": "fr"}
    )
    assert result.returncode == 2
    assert result.stderr.startswith("consult-bot: setting DEFAULT_LOCALE is invalid")


def broken_content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "data" / "digests", content / "digests")
    shutil.copy(ROOT / "data" / "topics.yaml", content / "topics.yaml")
    issue = content / "digests" / "2023-09.yaml"
    text = issue.read_text(encoding="utf-8")
    text = text.replace("topics: [passport, registration]", "topics: [passport, astrology]", 1)
    issue.write_text(text.replace("date: 2023-09-30", "date: 2023-13-45"), encoding="utf-8")
    return content


def test_broken_topics_stop_start_up_naming_file_and_field(tmp_path: Path) -> None:
    """Topics are not drafts: without them no menu can be drawn. (A broken digest file is
    a draft and does not stop the bot: tests/test_drafts.py, tests/test_process.py.)"""
    content = broken_content(tmp_path)
    topics = content / "topics.yaml"
    topics.write_text(
        topics.read_text(encoding="utf-8").replace("slug: courts", "slug: Courts!"),
        encoding="utf-8",
    )
    env = {
        "BOT_TOKEN": TOKEN,
        "MODERATOR_CHAT_ID": "-1",
        "CONTENT_DIR": str(content),
        "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
        "TELEGRAM_API_URL": "http://127.0.0.1:9",
    }
    result = run_bot(cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "the content does not load" in result.stderr
    assert f"{topics}: topics.5.slug: " in result.stderr


def test_check_passes_on_the_shipped_data(capsys: object) -> None:
    assert (
        main(["check", "--content-dir", str(ROOT / "data"), "--locales-dir", str(ROOT / "locales")])
        == 0
    )


def test_check_takes_its_paths_from_the_settings_and_needs_no_token(tmp_path: Path) -> None:
    """As in the image: CONTENT_DIR and LOCALES_DIR from the environment, no BOT_TOKEN."""
    content = broken_content(tmp_path)
    env = {"CONTENT_DIR": str(content), "LOCALES_DIR": str(ROOT / "locales")}
    result = run_bot("check", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert f"{content / 'digests' / '2023-09.yaml'}: date: " in result.stderr
    assert "BOT_TOKEN" not in result.stderr
    (tmp_path / ".env").write_text(f"CONTENT_DIR={ROOT / 'data'}\n")  # or from `.env`
    result = run_bot("check", cwd=tmp_path, env={"LOCALES_DIR": str(ROOT / "locales")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("check: OK")
    assert "shipped as published: 2023-09" in result.stdout


def test_check_requires_a_short_button_title_for_every_article(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "data", content, ignore=shutil.ignore_patterns("*.sqlite3*"))
    draft = content / "digests" / "2023-10.yaml"
    body = yaml.safe_load((content / "digests" / "2023-09.yaml").read_text(encoding="utf-8"))
    body.update(issue="2023-10", date="2023-10-31")
    del body["articles"][0]["button"]
    body["articles"][1]["button"]["en"] = "A button title far too long for a phone"
    del body["articles"][2]["button"]["ru"]
    draft.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    result = run_bot("check", "--content-dir", str(content), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{draft}: articles.0.button: Field required" in result.stderr
    assert f"{draft}: articles.1.button.en: String should have at most 32 characters" in (
        result.stderr
    )
    assert f"{draft}: articles.2.button.ru: Field required" in result.stderr
    assert "check: 3 problem(s)" in result.stdout


def test_check_lists_every_problem_and_fails(tmp_path: Path) -> None:
    content = broken_content(tmp_path)
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales)
    en = locales / "en" / "bot.ftl"
    en.write_text(
        en.read_text(encoding="utf-8")
        .replace("nav-home = 🏠 Home\n", "")
        .replace("menu-topics = 📚 Topics", "menu-topics = { $oops")
        .replace("nav-back = ‹ Back", "nav-back = <back> Back"),
        encoding="utf-8",
    )
    result = run_bot(
        "check", "--content-dir", str(content), "--locales-dir", str(locales), cwd=tmp_path
    )
    assert result.returncode == 1
    issue = content / "digests" / "2023-09.yaml"
    assert f"{issue}: date: " in result.stderr
    assert f"{locales / 'en'}: nav-home: missing (present in another locale)" in result.stderr
    assert f"{en}:" in result.stderr and "syntax error" in result.stderr
    assert f"{en}: nav-back: <back> is not HTML Telegram accepts" in result.stderr
    assert result.stdout.strip().endswith("problem(s)")


def test_check_finds_variables_the_code_does_not_supply(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "handler.py").write_text(
        "def render(l10n):\n"
        '    l10n.text("topic-card", name="x", emoji="", description="")\n'
        '    l10n.text("no-such-key")\n'
        '    l10n.text("topic-card-page", **{"page": 1, "pages": 2})\n'
    )
    problems = check_locales(ROOT / "locales", source)
    assert (
        f"{source / 'handler.py'}:2: topic-card: variable $articles used in ru is not supplied"
        in problems
    )
    assert f"{source / 'handler.py'}:3: text 'no-such-key' does not exist in locales" in problems
    assert len(problems) == 3  # ru and en for $articles, and the missing key


async def test_database_is_private_wal_and_migrated(tmp_path: Path) -> None:
    db = Database(tmp_path / "sub" / "bot.sqlite3")
    await db.connect()
    try:
        assert await db.migrate() == SCHEMA_VERSION
        assert await db.schema_version() == SCHEMA_VERSION
        assert (await db.fetch_one("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
        assert (await db.fetch_one("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
        mode = stat.S_IMODE(os.stat(db.path).st_mode)
        assert mode == 0o600
    finally:
        await db.close()
    again = Database(tmp_path / "sub" / "bot.sqlite3")
    await again.connect()
    try:
        assert await again.migrate() == SCHEMA_VERSION  # nothing to apply, nothing breaks
    finally:
        await again.close()


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "bot.sqlite3")
    await db.connect()
    await db.migrate()
    try:
        try:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO users (id, locale, created_at) VALUES (1, 'ru', 0)")
                raise RuntimeError("crash mid-transaction")
        except RuntimeError:
            pass
        assert await db.fetch_one("SELECT id FROM users") is None
    finally:
        await db.close()
