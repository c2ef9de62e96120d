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
nav-newer = ← Newer
nav-older = Older →

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

# What the organization says about itself. Write only what it states (for example, whether consultations are free, or whether it supports people in court): the bot repeats it word for word.
-org-about =
    Our digest brings news from the life of conscientious objectors in Russia and advice for conscripts. In this bot you can read its issues and ask a lawyer a question.
about-text =
    <b>{ -org-name } ({ -org-short })</b>

    { -org-about }

    <b>Support our work</b>
    Bank transfer in EUR:
    IBAN: <code>FI35 8146 9710 3001 03</code>
    Organization: Aseistakieltaytyjaliitto
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
    /ask — ask a lawyer a question
    /help — this help
    /language — change the language
    /subscribe, /unsubscribe — the digest subscription
    /privacy — what we store; /mydata — your data; /forget — delete it

    For your safety: don't write your name, address, unit number or other details that identify you. You can delete this chat at any time.


## Odd input

stale-button = This button no longer works. Here is the current screen.
deep-link-unknown = That link is out of date. Here is the main menu.
unknown-command = I don't know that command. Try /start or /help.
fallback-use-buttons = I only understand the buttons, so this message was not passed on to anyone. To ask a lawyer, tap “✍️ Ask a question”. Here is the current screen:
edit-not-supported = Edits of messages you have already sent don't reach me — only the original text counts. If you wrote something about yourself by mistake, tap “✏️ Start over” (before the question is sent) or delete all your data with /forget.
error-generic = Something went wrong on our side. Please try again.

## The command menu

command-start = Main menu
command-help = How to use the bot
command-language = Change the language
command-ask = Ask a lawyer a question

## Asking a question

ask-intro =
    <b>Ask a question</b>

    Write your question in one or several messages; you can attach one photo, document or voice message. A lawyer from our team will answer here, in this chat.

    🔒 <b>For your safety</b>, don't include names, addresses, unit numbers, phone numbers or anything else that identifies you or other people. Describe the situation in general terms — that is enough for an answer.
ask-topic = Topic: <b>{ $topic }</b>
ask-cancel = ✖️ Cancel
ask-send = ✅ Send
ask-edit = ✏️ Start over
ask-preview =
    <b>Your question:</b>
    { $text }

    Send it to a lawyer? You can still add to it: just write another message.
ask-preview-more = (and { $count ->
        [one] { $count } more character
       *[other] { $count } more characters
    })
ask-preview-attachment = 📎 Attached: { $kind }
ask-received =
    ✅ <b>Received — question #{ $id }.</b>

    A lawyer will answer here, in this chat. You will find the question under “My questions”.
ask-already-sent = This question has already been sent as #{ $id }.
ask-draft-gone = This draft is no longer active and was not sent to a lawyer.
ask-cancelled = Canceled. Nothing was sent.
ask-empty = The question is empty. Please write it first.
ask-album-first-only = I kept only the first file of the album: a question can have one attachment.
ask-one-attachment = A question can have one attachment; I kept the first one.
ask-flood = You're sending messages very fast. Please wait a minute and try again.
ask-text-please = I can't take this kind of message. Please write your question as text (you can attach a photo, document or voice message).
ask-too-long = The question is getting too long: it can have up to { $limit } characters. Your last message was not added — please send it shorter.
ask-too-many =
    { $limit ->
        [one] You already have { $limit } question waiting for an answer.
       *[other] You already have { $limit } questions waiting for an answer.
    }

    Please wait until a lawyer answers one of them, or close one under “My questions”.
banned-notice = Sorry, you can no longer send questions through this bot.

kind-text = text
kind-photo = photo
kind-document = document
kind-voice = voice message
kind-video = video
kind-audio = audio
kind-animation = animation
kind-other = message

## My questions

my-questions-title = <b>My questions</b>
my-questions-empty = You haven't asked any questions yet.
my-questions-item = #{ $id } · { $state }
my-ticket =
    <b>Question #{ $id }</b> · { $state }

    { $thread }
thread-question = 🙋 <b>You:</b> { $text }
thread-follow_up = 🙋 <b>You:</b> { $text }
thread-answer = 🧑‍⚖️ <b>Lawyer:</b> { $text }
ticket-state-new = 🆕 waiting
ticket-state-claimed = 🙋 being answered
ticket-state-answered = ✅ answered
ticket-state-closed = 🔒 closed

## Answers

answer-footer = ⬆️ The answer to question #{ $id }. To ask more about it, reply to the answer.
answer-canned = { $text }
answer-helpful = 👍 Helpful
answer-not-helpful = 👎 Not helpful
answer-close = ✅ Close the question
answer-rated = Thank you for the feedback!
ticket-closed-by-user = Question #{ $id } is closed.
follow-up-sent = Added to question #{ $id }. The lawyer will see it.
follow-up-closed = This question is closed, so your message was not passed on to the lawyer. If you need more help, please ask a new question.

## The moderators' group

card-header =
    <b>#{ $id }</b> · { $reader }
    Topic: { $topic } · Language: { $language }
    Status: { $state }
card-reader = Reader { $pseudonym }
card-no-topic = —
card-question = { $text }
card-attachment = 📎 Attachment: { $kind }
card-unreachable = ⚠️ The answer was not delivered: the user has blocked the bot.
card-state-new = 🆕 new
card-state-claimed = 🙋 taken by { $moderator }
card-state-answered = ✅ answered by { $moderator }
card-state-closed = 🔒 closed
card-take = 🙋 Take
card-close = 🔒 Close
card-ban = 🚫 Ban
forum-topic-name = #{ $id } · { $reader }
follow-up-header = ↩️ Follow-up to #{ $id }:
mod-not-allowed = Only members of the moderators' group can do this.
mod-ticket-gone = This ticket no longer exists.
mod-taken = You have taken #{ $id }.
mod-already-taken = { $moderator } has already taken this ticket.
mod-not-new = This ticket is not new any more.
mod-closed = #{ $id } is closed.
mod-already-closed = #{ $id } was already closed.
mod-banned = The author of #{ $id } is banned; their open tickets are closed.
mod-unbanned = The author of #{ $id } is unbanned.
mod-not-banned = The author of #{ $id } was not banned.
mod-ticket-closed = #{ $id } is closed; the answer was not sent.
mod-reply-to-ticket = Send this command as a reply to a message of the ticket.
mod-canned-usage = Reply to a ticket with /canned &lt;name&gt;. Available: { $names }
mod-only-in-group = This command works only in the moderators' group.
mod-queue =
    <b>Open tickets: { $count }</b>
mod-queue-item = #{ $id } · { $age } · { $state } · { $topic } · { $reader }
mod-backlog = ⏳ Waiting to be posted here: { $count }
mod-ticket-usage = Usage: /ticket &lt;number&gt;
mod-ticket-head = <b>#{ $id }</b> · Reader { $reader } · { $state }
mod-history-question = [{ $time }] <b>Question:</b> { $text }
mod-history-follow_up = [{ $time }] <b>Follow-up:</b> { $text }
mod-history-answer = [{ $time }] <b>Answer ({ $author }):</b> { $text }
mod-stats =
    <b>Tickets</b>
    new: { $new } · taken: { $claimed } · answered: { $answered } · closed: { $closed }
    Median time to the first answer: { $median }
    Waiting to be posted: { $backlog }
age-minutes = { $count } min
age-hours = { $count } h
age-days = { $count } d
command-queue = Open tickets, oldest first
command-ticket = A ticket's history: /ticket N
command-stats = Statistics
command-canned = Reply to a ticket: /canned name
command-ban = Reply to a ticket: ban its author
command-unban = Reply to a ticket: unban its author
command-publish = Publish an issue: /publish 2023-10
command-broadcasts = Broadcasts and their figures

## Subscription

subscription-active =
    <b>Subscription</b>

    🔔 You are subscribed: each new issue of the digest will come here, in the language of the bot.
subscription-inactive =
    <b>Subscription</b>

    Subscribe to get each new issue of the digest here. You can unsubscribe at any time with one tap.
subscription-on = 🔔 Subscribe
subscription-off = 🔕 Unsubscribe
subscription-done = You are subscribed to the digest.
subscription-stopped = You have unsubscribed. No more issues will come.
subscription-stopped-digest = You have unsubscribed from the digest. You can subscribe again under 🔔 Subscription.

## A digest issue as subscribers get it

digest-head = 📰 <b>{ $title }</b>
digest-item =
    <b>{ $title }</b>
    { $summary }
digest-footer = Open the full articles with the buttons below.
digest-unsubscribe = 🔕 Unsubscribe

## Publishing (the moderators' group)

publish-admins-only = Only administrators of this group can publish.
publish-invalid =
    The issue file has problems:
    { $problems }
publish-preview = Preview ({ $language }):
publish-ask = Send issue { $issue } to the subscribers? Recipients: { $total } (ru: { $ru }, en: { $en }).
publish-confirm = ✅ Send
publish-cancel = ✖️ Cancel
publish-cancelled = Publishing of { $issue } canceled.
publish-started = 📤 Broadcast of { $issue } started: { $total } recipients.
publish-again = Issue { $issue } has been broadcast before; nobody will get it twice.
broadcast-status =
    📤 <b>Broadcast { $issue }</b>
    sent { $sent } of { $total } · failed { $failed } · blocked { $blocked } · left { $left }
    { $rate } msg/s · ETA { $eta }
broadcast-done =
    ✅ <b>Broadcast { $issue } finished</b>
    sent { $sent } of { $total } · failed { $failed } · blocked { $blocked }
broadcasts-title = <b>Broadcasts</b>
broadcasts-item = { $issue } · { $state } · sent { $sent }/{ $total } · failed { $failed } · blocked { $blocked } · left { $left }
broadcasts-none = No broadcasts yet.
broadcasts-done = finished
broadcasts-running = in progress
command-privacy = What we store and how to stay safe
card-identity = 👤 <a href="tg://user?id={ $user_id }">user { $user_id }</a>
card-redacted-forgotten = 🗑 Deleted at the user's request.
card-redacted-expired = 🗑 The content of this ticket was deleted after the retention period.

## Privacy

privacy-text =
    <b>Your privacy</b>

    <b>What we store:</b> your Telegram id and the language of the bot; your questions, follow-ups and our answers; whether you are subscribed. We do not store your name, username or phone number.

    <b>Who sees it:</b> the lawyers and volunteers of our moderators' group. They see your question under a number and a pseudonym (like “Reader 7F3A”), not your name or account.

    <b>How long:</b> the conversation about a question (your messages and our answers) is deleted { $days } days after the lawyer's answer or the closing of the question; only dates and statuses stay, for statistics, without any text. /mydata shows what we have, and /forget deletes all of it at once.

    <b>Stay safe:</b>
    • turn on auto-delete for this chat (chat menu → Auto-delete), or delete the chat when you are done;
    • in Telegram's Privacy settings, hide your phone number and set “Forwarded messages” to “Nobody”;
    • don't write names, addresses or unit numbers — we don't need them to answer;
    • if someone else may check your phone, protect Telegram with a passcode.
mydata-text =
    <b>What we store about you</b>

    Language: { $language }
    First opened the bot: { $since }
    Subscribed to the digest: { $subscribed }
    Questions: { $tickets }
    Stored texts of questions and answers: { $messages }
    Digest issues sent to you: { $deliveries }
    Saved chat state (the open screen, a draft question): { $dialog }

    /forget deletes all of it.
mydata-nothing = We store nothing about you.
mydata-yes = yes
mydata-no = no
forget-confirm =
    <b>Delete everything we store about you?</b>

    Your questions and our answers, your subscription and your settings will be deleted at once and for good; in the moderators' group the texts will be erased, leaving only a note that they were deleted. This cannot be undone.
forget-yes = 🗑 Yes, delete everything
forget-no = ✖️ No, keep it
forget-kept = Nothing was deleted.
forget-done =
    ✅ Done: we have deleted everything we stored about you.

    Please also delete this chat on your side (chat menu → Delete chat), so that nothing stays on your phone.
