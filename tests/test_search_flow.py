"""Search in the user's own words, through the real Dispatcher: free text at the menu,
/search, suggestions in a draft's preview, "Ask a lawyer" with the text, counters."""

from __future__ import annotations

import yaml

from bot.content import Issue
from bot.emulator import FakeTelegram, callback, private_message
from bot.factory import App
from tests.conftest import ROOT, feed, settle
from tests.test_menus import data_of
from tests.test_questions import USER, last_preview, row, to_user

PASSPORT = "sg:2023-09:passport-certificate"
QUESTION = "в мвд не принимают документы на загран без бумаги из военкомата что делать"


async def counters(app: App) -> dict[str, int]:
    return await app.services.counters.all()


async def test_free_text_at_the_menu_offers_the_articles_that_answer_it(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/start"))
    telegram.clear()
    await feed(app, private_message(USER, QUESTION))
    (results,) = to_user(telegram, "sendMessage")
    assert results.params["text"].startswith("🔎 <b>Вот что есть об этом в нашем дайджесте:</b>")
    buttons = data_of(results.params["reply_markup"])
    assert buttons[0] == PASSPORT  # the right article first
    assert buttons[-2:] == ["sq:1", "nav:home"]
    assert await counters(app) == {"search": 1, "search-found": 1}
    # What was typed is stored nowhere: not in the dialog state, not in any table.
    for table in ("fsm_state", "inbox", "users", "ticket_messages", "counters"):
        dump = " ".join(str(tuple(r)) for r in await app.db.fetch_all(f"SELECT * FROM {table}"))  # noqa: S608
        assert "военкомата что делать" not in dump, table


async def test_a_question_the_digest_does_not_cover_gets_no_suggestion(
    app: App, telegram: FakeTelegram
) -> None:
    for text in (
        "привет, как дела",
        "как заполнить налоговую декларацию 3-НДФЛ",
        "хочу уехать в Аргентину",
    ):
        telegram.clear()
        await feed(app, private_message(USER, text))
        (results,) = to_user(telegram, "sendMessage")
        assert results.params["text"].startswith("🔎 В нашем дайджесте, к сожалению, нет ответа"), (
            text
        )
        assert data_of(results.params["reply_markup"]) == ["sq:1", "nav:home"], text
    assert await counters(app) == {"search": 3}


async def test_search_command_in_english_and_without_words(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/start", language_code="en"))
    telegram.clear()
    await feed(
        app, private_message(USER, "/search reservation from mobilization", language_code="en")
    )
    (results,) = to_user(telegram, "sendMessage")
    assert results.params["text"].startswith("🔎 <b>Here is what our digest says about it:</b>")
    assert data_of(results.params["reply_markup"])[0] == "sg:2023-09:reservation-cassation"
    telegram.clear()
    await feed(app, private_message(USER, "/search", language_code="en"))
    (prompt,) = to_user(telegram, "sendMessage")
    assert prompt.params["text"].startswith("Write what you are looking for after the command")


async def test_a_suggested_article_opens_as_its_own_message(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, QUESTION))
    telegram.clear()
    await feed(app, callback(USER, PASSPORT, message_id=2))
    (article,) = to_user(telegram, "sendMessage")
    assert article.params["text"].startswith("<b>Для загранпаспорта от призывников")
    assert telegram.calls_of("editMessageText") == []  # the results stay
    assert (await counters(app))["suggestion-opened"] == 1


async def test_ask_a_lawyer_from_the_results_starts_the_draft_with_the_text(
    live: App, telegram: FakeTelegram
) -> None:
    await feed(live, private_message(USER, QUESTION))
    results = to_user(telegram, "sendMessage")[-1]
    telegram.clear()
    await feed(live, callback(USER, "sq:1", message_id=results.result["message_id"]))
    preview = last_preview(telegram)
    assert preview.params["text"].startswith(f"<b>Ваш вопрос:</b>\n{QUESTION}")
    key = next(d for d in data_of(preview.params["reply_markup"]) if d.startswith("dr:send:"))
    await feed(live, callback(USER, key, message_id=results.result["message_id"]))
    await settle(live)
    assert await row(live, "SELECT text FROM ticket_messages WHERE direction = 'question'") == (
        QUESTION,
    )
    assert (await counters(live))["asked-after-suggestion"] == 1


async def test_the_preview_of_a_draft_shows_what_may_already_answer_it(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/ask"))
    telegram.clear()
    await feed(
        app, private_message(USER, "Можно ли оспорить призыв, если меня бронировал работодатель?")
    )
    preview = last_preview(telegram)
    assert "📚 <b>Возможно, ответ уже есть в нашем дайджесте</b>" in preview.params["text"]
    buttons = data_of(preview.params["reply_markup"])
    assert buttons[0] == "sg:2023-09:reservation-cassation"
    assert buttons[1].startswith("dr:send:")
    # Opening it leaves the draft and its preview as they are.
    telegram.clear()
    await feed(app, callback(USER, buttons[0], message_id=preview.result["message_id"]))
    assert telegram.calls_of("editMessageText") == []
    assert await row(app, "SELECT state FROM fsm_state WHERE user_id = ?", USER) == (
        "AskQuestion:preview",
    )


async def test_a_newly_published_issue_is_found_without_a_restart(
    app: App, telegram: FakeTelegram
) -> None:
    source = yaml.safe_load(
        (ROOT / "data" / "digests" / "2023-09.yaml").read_text(encoding="utf-8")
    )
    source["issue"], source["date"] = "2023-10", "2023-10-31"
    article = source["articles"][0]
    article["slug"] = "alternative-service"
    article["topics"] = ["mobilization"]
    article["title"] = {
        "ru": "Альтернативная гражданская служба: как подать заявление",
        "en": "Alternative civilian service: how to apply",
    }
    article["button"] = {"ru": "АГС: как подать заявление", "en": "Civilian service: applying"}
    article["summary"] = {
        "ru": "Заявление о замене военной службы альтернативной гражданской службой подают в военкомат.",
        "en": "The application to replace military service with alternative civilian service goes to the enlistment office.",
    }
    source["articles"] = [article]
    await feed(app, private_message(USER, "как попасть на альтернативную гражданскую службу"))
    before = data_of(to_user(telegram, "sendMessage")[-1].params["reply_markup"])
    assert "sg:2023-10:alternative-service" not in before
    app.library.add_issue(Issue.model_validate(source))  # what publishing does
    telegram.clear()
    await feed(app, private_message(USER, "как попасть на альтернативную гражданскую службу"))
    after = data_of(to_user(telegram, "sendMessage")[-1].params["reply_markup"])
    assert after[0] == "sg:2023-10:alternative-service"
