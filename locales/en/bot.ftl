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

    Use the buttons under the messages. 📚 Topics collects our answers by subject; ✍️ Ask a question sends your question to a lawyer. You can also just type your question in your own words, and I will look for an answer in our digest.

    Commands:
    /start — main menu
    /search — find an answer in the digest
    /ask — ask a lawyer a question
    /help — this help
    /language — change the language
    /subscribe, /unsubscribe — the digest
    /privacy — what we store; /mydata — your data; /forget — delete it

    For your safety: don't write your name, address, unit number or other details that identify you. You can delete this chat at any time.


## Odd input

stale-button = This button no longer works. Here is the current screen.
deep-link-unknown = That link is out of date. Here is the main menu.
unknown-command = I don't know that command. Try /start or /help.
fallback-use-buttons = I can't read this kind of message, so it was not passed on to anyone. Type your question as text and I will look for an answer in the digest, or tap “✍️ Ask a question”. Here is the current screen:
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

    Write your question in one or several messages. You can attach up to 10 photos or documents (a photo of a summons, for example), each up to 20 MB. A lawyer from our team will answer here, in this chat.

    🔒 <b>For your safety</b>
    • Don't include names, addresses, unit numbers, phone numbers or anything else that identifies you or other people. Describe the situation in general terms — that is enough for an answer.
    • A photo of a document shows a name, a date of birth and numbers. Cover them before you send it: Telegram's photo editor has a brush you can paint over them with, or lay a piece of paper on those places.
    • Your voice can identify you, so please write rather than send a voice message.
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
ask-flood = You're sending messages very fast. Please wait a minute and try again.
ask-text-please = I can't take this kind of message. Please write your question as text (you can attach a photo, document or voice message).
ask-too-long = The question is getting too long: it can have up to { $limit } characters. Your last message was not added — please send it shorter.
ask-too-many =
    { $limit ->
        [one] You already have { $limit } question waiting for an answer.
       *[other] You already have { $limit } questions waiting for an answer.
    }

    Please wait until a lawyer answers one of them, or close one under “My questions”.
banned-notice =
    Sorry, you can no longer ask questions through this bot.

    These still work: /privacy — what we store, /mydata — your data, /forget — delete it, /unsubscribe — stop the digest.

kind-text = text
kind-photo = photo
kind-document = document
kind-voice = voice message
kind-video = video
kind-audio = audio
kind-animation = animation
kind-other = message
kind-album = album

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
follow-up-gone = This question no longer exists: it was deleted at your request or after the storage period, so your message was not passed on. If you need help, please ask a new question.

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
mod-queue-item = #{ $id } · waiting { $wait } (asked { $age } ago) · { $state } · { $topic } · { $reader }
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
    Waiting to be posted: { $backlog } · refused by Telegram: { $failed }
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

    <b>What we store:</b> your Telegram id, the language of the bot and the pseudonym moderators know your questions by; your questions, follow-ups and attached files, and our answers; whether you are subscribed. We do not store your name, username or phone number.

    <b>Who sees it:</b> the lawyers and volunteers of our moderators' group. { $identity ->
        [shown] They see your question under a number and a pseudonym, and also your Telegram id and a link to your account.
       *[hidden] They see your question under a number and a pseudonym (like “Reader Cedar-417”), without your name, account or id. The pseudonym is picked at random: it cannot be traced back to your account.
    }

    <b>How long:</b> the conversation about a question (your messages and files, and our answers) is deleted { $days ->
        [one] { $days } day
       *[other] { $days } days
    } after the lawyer's answer or the closing of the question; only dates and statuses stay, for statistics, without any text and without any link to you. A draft you never sent is deleted after { $dialog_days ->
        [one] { $dialog_days } day
       *[other] { $dialog_days } days
    }. /mydata shows what we have, and /forget deletes all of it at once.

    <b>Stay safe:</b>
    • turn on auto-delete for this chat (chat menu → Auto-delete), or delete the chat when you are done;
    • in Telegram's Privacy settings, hide your phone number and set “Forwarded messages” to “Nobody”;
    • don't write names, addresses or unit numbers — we don't need them to answer;
    • if someone else may check your phone, protect Telegram with a passcode.
mydata-text =
    <b>What we store about you</b>

    Language: { $language }
    First opened the bot: { $since }
    Pseudonym moderators see: { $pseudonym }
    Subscribed to the digest: { $subscribed }
    Questions: { $tickets }
    Stored texts of questions and answers: { $messages }
    Stored files: { $attachments }
    Digest issues sent to you: { $deliveries }
    Saved chat state (the open screen, a draft question): { $dialog }
    Banned: { $banned }

    /forget deletes all of it.
mydata-nothing = We store nothing about you.
mydata-yes = yes
mydata-no = no
forget-confirm =
    <b>Delete everything we store about you?</b>

    Your questions and our answers, your files, pseudonym, subscription and settings will be deleted at once and for good. In the moderators' group the cards of your questions will be replaced by a note that they were deleted, and the other copies deleted — as far as Telegram allows: it does not let bots delete old messages, so we erase what they show instead. Messages the lawyers wrote themselves stay theirs. This cannot be undone.
forget-yes = 🗑 Yes, delete everything
forget-no = ✖️ No, keep it
forget-kept = Nothing was deleted.
forget-done =
    ✅ Done: we have deleted everything we stored about you.

    Please also delete this chat on your side (chat menu → Delete chat), so that nothing stays on your phone.

## Questions: additions, limits, suggestions

ask-daily-budget =
    In the last 24 hours you have asked { $limit ->
        [one] { $limit } question
       *[other] { $limit } questions
    }, which is the limit for now. You can ask a new one later, and you can add to a question you have asked at any time: reply to our message about it.
ask-too-many-files = A question can have up to { $limit } files; I did not add the rest.
ask-file-too-big = This file is over 20 MB, and Telegram does not let me pass on a file that big, so it was not added. If it matters, make it smaller or take a photo of the page you need.
ask-preview-suggestions = 📚 <b>Our digest may already answer this</b> — have a look before you send it:
ask-add = ➕ Add to the question
add-prompt = Write what you would like to add to question #{ $id }. The lawyer will get your next message.
follow-up-reopened = Question #{ $id } is open again; the lawyer will see your message.
closed-unanswered = The lawyers closed question #{ $id } without an answer. If it still matters to you, please ask it again — perhaps with a bit more about your situation.
answer-corrected = ✏️ The lawyer corrected the answer to question #{ $id }. The corrected answer follows.
forget-banned-note = The ban itself stays: it is how the bot knows this account may not ask questions. It holds nothing but the account number and a date.
banned-button = This button no longer works for you. /privacy, /mydata, /forget and /unsubscribe do.
flood-dropped = Too many messages in a minute, so I did not read the last ones. Please wait a minute and send them again.
error-not-taken = A fault on our side kept me from taking your message. Please send it again.
service-unavailable = The bot has a technical problem right now. We will handle your message as soon as it is fixed; if you get no answer within a day, please send it again.
command-search = Find an answer in the digest

## The moderators' group: the card, confirmations, notes

# The words readers' pseudonyms are made of ("Cedar-417"): short and clear when said aloud.
pseudonym-words = Cedar Maple Oak Ash Linden Alder Willow Pine Fir Spruce Birch Rowan Heather Yew Beech Elm Walnut Lilac Jasmine Mint Thyme Sage Clover Flax Hop Daisy Lily Iris Poppy Lotus Peony Aster Violet Tulip Reed Falcon Hawk Swift Owl Thrush Finch Siskin Oriole Heron Crane Stork Swan Gull Pelican Whale Dolphin Seal Badger Hedgehog Beaver Elk Deer Bison Lynx Wolf Bear Starling Wren Robin Lark Plover
card-reopened = ↩️ Reopened after closing: { $count ->
        [one] once
       *[other] { $count } times
    }
card-post-error = ⚠️ Telegram refused part of this ticket: { $error }. The whole text: /ticket
card-rated-up = The reader's rating: 👍 helpful
card-rated-down = The reader's rating: 👎 not helpful
card-notes = 📝 Notes for colleagues ({ $count }):
card-note = • { $author }: { $text }
card-hint-forum = <i>Everything you write in this topic goes to the reader. A note for colleagues: /note text</i>
card-hint-reply = <i>To answer the reader, reply to this message. A note for colleagues: /note text (as a reply too)</i>
card-reopen = ↩️ Reopen
card-unban = ✅ Unban
card-confirm-close = Close #{ $id }?
card-confirm-ban = Ban the author of #{ $id }?
card-confirm-yes = ✅ Yes
card-confirm-no = ✖️ No
forum-topic-forgotten = 🗑 deleted at the user's request
forum-topic-expired = 🗑 storage period over
reminder-none = ✅ No question is waiting too long right now.
reminder-title = ⏰ <b>Waiting too long: { $count }</b>
reminder-new = • #{ $id } — nobody has taken it, waiting { $hours } h
reminder-claimed = • #{ $id } — taken by <a href="tg://user?id={ $moderator_id }">{ $moderator }</a>, no answer for { $hours } h
post-failed-notice = ⚠️ Ticket #{ $id } could not be posted here: Telegram said “{ $error }”. The ticket is stored; read it with /ticket { $id }.
mod-stale-button = This button is out of date or belongs to another message. Nothing was changed.
mod-ticket-forgotten = This ticket was deleted at the user's request. Nothing was changed or sent.
mod-ticket-expired = The content of this ticket was deleted after the storage period. Nothing was changed or sent.
mod-reopened = #{ $id } is open again.
mod-not-closed = #{ $id } was not closed.
mod-note-usage = Write the note after the command: /note text
mod-reply-forgotten = This ticket was deleted at the user's request; your message was not sent to anyone.
mod-reply-expired = The content of this ticket was deleted after the storage period; your message was not sent to anyone.
mod-reply-unknown = This bot message belongs to no ticket (perhaps a duplicate after a restart), so your reply was not sent to anyone. Reply to the ticket's card; /queue helps you find it.
mod-not-taken = ❌ A fault on our side kept me from taking this message; it was not sent to the reader. Please send it again.
mod-unavailable = ⚠️ The bot has a technical problem: it cannot write its data. Messages will be handled once it is fixed.
mod-failed-posts = ⚠️ Refused by Telegram, not posted: { $count }
mod-failed-post = • #{ $id }: { $error }
mod-ticket-none = There is no ticket #{ $id } (it may have been deleted at the user's request).
mod-history-note = [{ $time }] <b>Note ({ $author }):</b> { $text }
mod-history-more = { $text }
mod-stats-ratings = Ratings of answers: { $rated } · helpful: { $positive }% (👍 { $up } · 👎 { $down })
mod-stats-weeks = <b>Time to the first answer, by week</b>
mod-stats-week = { $week }: { $answered } answered, median { $median }
mod-stats-search = Search: { $searches } searches, { $found } with an answer found, { $opened } suggested articles opened, { $asked } questions asked after a suggestion
mod-canned-unknown = There is no canned answer “{ $name }”. Available: { $names }
publish-which = There is no issue “{ $name }”. Issue files: { $issues }. For example: /publish 2023-10
command-note = A note for colleagues: /note text
mod-card-not-ready = The card is still being posted. Press the button again in a couple of seconds.

## Search in the digest

search-results = 🔎 <b>Here is what our digest says about it:</b>
search-item = • <b>{ $title }</b> — <i>{ $issue }</i>
search-topic = • Topic: { $name }
search-not-it = {""}
    Not what you need? Ask a lawyer: they will answer here, in this chat.
search-nothing = 🔎 Sorry, our digest has no answer to this. Ask a lawyer: they will answer here, in this chat.
search-ask = ✍️ Ask a lawyer
search-prompt = Write what you are looking for after the command, for example: /search summons at work. Or just type your question in your own words.
