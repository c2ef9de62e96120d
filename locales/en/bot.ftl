## consult-bot — English texts. Keys: kebab-case, one prefix per screen.
## The bot sends HTML: <b>, <i>, <a href="…"> are allowed; variables are escaped by the bot.

-org-name = Movement of Conscientious Objection
-org-short = MCO

## Main menu

menu-title =
    <b>Hello! This is the { -org-short } consultation bot.</b>

    Here you can read short answers from our digest, ask our lawyers a question and get new issues of the digest.

    You don't need to give your name. Please don't write anything that could identify you or others.
menu-topics = 📚 Topics
menu-latest = 📰 Latest digest
menu-ask = ✍️ Ask a question
menu-subscription = 🔔 Subscription
menu-my-questions = 🗂 My questions
menu-language = 🌐 Language
menu-about = ℹ️ About us

## Navigation

nav-back = ‹ Back
nav-home = 🏠 Home
nav-newer = « Newer
nav-older = Older »

## Topics

topics-title =
    <b>Topics</b>

    Choose a topic to see everything our digest has said about it, newest first.
topic-card =
    { $emoji } <b>{ $name }</b>
    <i>{ $description }</i>

    { $articles }
topic-card-item =
    <b>{ $title }</b>
    { $summary }
    <i>{ $issue }</i>
topic-card-empty = There are no articles on this topic yet. You can ask us a question about it.
topic-card-page = Page { $page } of { $pages }
topic-ask = ✍️ Ask about this

## An article

article-view =
    <b>{ $title }</b>
    <i>{ $issue }</i>

    { $text }

## The latest digest

latest-view =
    <b>{ $title }</b>

    { $intro }

    <b>In this issue:</b>
    { $contents }
latest-item = • { $title }
latest-empty = No digest issue has been published yet.

## Language

language-title =
    <b>Language</b>

    Choose the language of the bot. Digest issues will come in this language too.
language-name-ru = Русский
language-name-en = English
language-changed = The bot now speaks English.

## About us

about-text =
    <b>{ -org-name } ({ -org-short })</b>

    We help conscientious objectors, conscripts, the mobilised and their families in Russia: we explain the law, advise on what to do and stand by people in court. Our lawyers answer questions for free and in confidence.

    Every month we publish a digest of news and practical advice; you can read it in this bot.

    <b>Support our work</b>
    Bank transfer in EUR:
    IBAN: <code>FI35 8146 9710 3001 03</code>
    Organisation: Aseistakieltaytyjaliitto
    Bank: Danske Bank
    Purpose: donation to MCO

    Bitcoin: <code>bc1qfjuemnmlczw98ts45khjppn8j25u8jq7w49ahh</code>
    Ethereum: <code>0x317983cbD206211A67bE389113C38c90bDc38607</code>
    USDT (TRC-20): <code>TBBBRdwzibH4qCFf8T51oADFewTnN7YL18</code>
    TON: <code>EQBHbOCI1TvoA0AwShcrekk01Q2YaJ4b2Vrwc6fzux3F7iEA</code>

## Help

help-text =
    <b>How to use the bot</b>

    Use the buttons under the messages. 📚 Topics collects our answers by subject; ✍️ Ask a question sends your question to a lawyer.

    Commands:
    /start — main menu
    /help — this help
    /language — change the language

    For your safety: don't write your name, address, unit number or other details that identify you. You can delete this chat at any time.

## Features that are on their way

soon-text = This section is coming soon. For now, you can read the digest by topic.

## Odd input

stale-button = This button is out of date — here is where you are.
deep-link-unknown = That link is out of date. Here is the main menu.
unknown-command = I don't know that command. Try /start or /help.
fallback-use-buttons = I work with the buttons below. Here is where you are:
edit-not-supported = I can't see edits of sent messages. Please send a new message instead.
error-generic = Something went wrong on our side. Please try again.

## The command menu

command-start = Main menu
command-help = How to use the bot
command-language = Change the language
