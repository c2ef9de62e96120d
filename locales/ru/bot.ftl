## consult-bot — тексты на русском. Ключи: kebab-case, один префикс на экран.
## Бот отправляет HTML: можно <b>, <i>, <a href="…">; переменные бот экранирует сам.

-org-name = Движение сознательных отказчиков
-org-short = ДСО

## Главное меню

menu-title =
    <b>Здравствуйте! Это бот-консультант { -org-short }.</b>

    Здесь можно прочитать короткие ответы из нашего дайджеста, задать вопрос юристам и получать новые выпуски дайджеста.

    Представляться не нужно. Пожалуйста, не пишите ничего, по чему можно узнать вас или других людей.
menu-topics = 📚 Темы
menu-latest = 📰 Свежий дайджест
menu-ask = ✍️ Задать вопрос
menu-subscription = 🔔 Подписка
menu-my-questions = 🗂 Мои вопросы
menu-language = 🌐 Язык
menu-about = ℹ️ О нас

## Навигация

nav-back = ‹ Назад
nav-home = 🏠 В начало
nav-newer = « Новее
nav-older = Раньше »

## Темы

topics-title =
    <b>Темы</b>

    Выберите тему — покажем всё, что о ней писал наш дайджест, начиная с нового.
topic-card =
    { $emoji } <b>{ $name }</b>
    <i>{ $description }</i>

    { $articles }
topic-card-item =
    <b>{ $title }</b>
    { $summary }
    <i>{ $issue }</i>
topic-card-empty = По этой теме статей пока нет. Вы можете задать нам вопрос.
topic-card-page = Страница { $page } из { $pages }
topic-ask = ✍️ Спросить об этом

## Статья

article-view =
    <b>{ $title }</b>
    <i>{ $issue }</i>

    { $text }

## Свежий дайджест

latest-view =
    <b>{ $title }</b>

    { $intro }

    <b>В этом выпуске:</b>
    { $contents }
latest-item = • { $title }
latest-empty = Пока не вышло ни одного выпуска дайджеста.

## Язык

language-title =
    <b>Язык</b>

    Выберите язык бота. На нём же будут приходить выпуски дайджеста.
language-name-ru = Русский
language-name-en = English
language-changed = Теперь бот говорит по-русски.

## О нас

about-text =
    <b>{ -org-name } ({ -org-short })</b>

    Мы помогаем сознательным отказчикам, призывникам, мобилизованным и их близким в России: объясняем закон, советуем, как действовать, и поддерживаем людей в суде. Наши юристы отвечают на вопросы бесплатно и конфиденциально.

    Каждый месяц мы выпускаем дайджест новостей и практических советов — его можно читать в этом боте.

    <b>Поддержать нашу работу</b>
    Банковский перевод в евро:
    IBAN: <code>FI35 8146 9710 3001 03</code>
    Организация: Aseistakieltaytyjaliitto
    Банк: Danske Bank
    Назначение платежа: donation to MCO

    Bitcoin: <code>bc1qfjuemnmlczw98ts45khjppn8j25u8jq7w49ahh</code>
    Ethereum: <code>0x317983cbD206211A67bE389113C38c90bDc38607</code>
    USDT (TRC-20): <code>TBBBRdwzibH4qCFf8T51oADFewTnN7YL18</code>
    TON: <code>EQBHbOCI1TvoA0AwShcrekk01Q2YaJ4b2Vrwc6fzux3F7iEA</code>

## Помощь

help-text =
    <b>Как пользоваться ботом</b>

    Нажимайте кнопки под сообщениями. В разделе 📚 Темы ответы собраны по темам, а через ✍️ Задать вопрос ваш вопрос попадёт к юристу.

    Команды:
    /start — главное меню
    /ask — задать вопрос юристу
    /help — эта справка
    /language — сменить язык
    /subscribe, /unsubscribe — подписка на дайджест

    Ради вашей безопасности не пишите имя, адрес, номер части и другие сведения, по которым вас можно узнать. Этот чат можно удалить в любой момент.


## Неожиданный ввод

stale-button = Эта кнопка устарела — вот где вы сейчас.
deep-link-unknown = Эта ссылка устарела. Вот главное меню.
unknown-command = Такой команды я не знаю. Попробуйте /start или /help.
fallback-use-buttons = Я работаю с кнопками. Вот где вы сейчас:
edit-not-supported = Я не вижу правок в уже отправленных сообщениях. Пожалуйста, отправьте новое сообщение.
error-generic = Что-то пошло не так на нашей стороне. Пожалуйста, попробуйте ещё раз.

## Меню команд

command-start = Главное меню
command-help = Как пользоваться ботом
command-language = Сменить язык
command-ask = Задать вопрос юристу

## Вопрос юристу

ask-intro =
    <b>Задать вопрос</b>

    Напишите вопрос одним или несколькими сообщениями; можно приложить одно фото, документ или голосовое сообщение. Юрист нашей команды ответит здесь, в этом чате.

    🔒 <b>Ради вашей безопасности</b> не указывайте имена, адреса, номера частей, телефоны и другие сведения, по которым можно узнать вас или других людей. Опишите ситуацию в общих чертах — этого достаточно для ответа.
ask-topic = Тема: <b>{ $topic }</b>
ask-cancel = ✖️ Отменить
ask-send = ✅ Отправить
ask-edit = ✏️ Начать заново
ask-preview =
    <b>Ваш вопрос:</b>
    { $text }

    Отправить юристу? Если хотите что-то добавить, просто напишите ещё одно сообщение.
ask-preview-more = (и ещё { $count } симв.)
ask-preview-attachment = 📎 Вложение: { $kind }
ask-received =
    ✅ <b>Получили — вопрос №{ $id }.</b>

    Юрист ответит здесь, обычно в течение нескольких дней. Вопрос можно найти в разделе «Мои вопросы».
ask-already-sent = Этот вопрос уже отправлен — №{ $id }.
ask-draft-gone = Этот черновик уже неактуален.
ask-cancelled = Отменено. Ничего не отправлено.
ask-empty = Вопрос пустой. Сначала напишите его.
ask-album-first-only = Я сохранил только первый файл из альбома: к вопросу можно приложить одно вложение.
ask-one-attachment = К вопросу можно приложить одно вложение — я оставил первое.
ask-flood = Вы отправляете сообщения слишком часто. Подождите минуту и попробуйте снова.
ask-text-please = Такое сообщение я принять не могу. Пожалуйста, напишите вопрос текстом (можно приложить фото, документ или голосовое сообщение).
ask-too-long = Слишком длинно: вопрос может быть не длиннее { $limit } символов. Пожалуйста, сократите его.
ask-too-many =
    { $limit ->
        [one] У вас уже { $limit } вопрос ждёт ответа.
        [few] У вас уже { $limit } вопроса ждут ответа.
       *[many] У вас уже { $limit } вопросов ждут ответа.
    }

    Дождитесь ответа юриста на один из них или закройте какой-нибудь в разделе «Мои вопросы».
banned-notice = К сожалению, вы больше не можете отправлять вопросы через этого бота.

kind-text = текст
kind-photo = фото
kind-document = документ
kind-voice = голосовое сообщение
kind-video = видео
kind-audio = аудио
kind-animation = анимация
kind-other = сообщение

## Мои вопросы

my-questions-title = <b>Мои вопросы</b>
my-questions-empty = Вы ещё не задавали вопросов.
my-questions-item = №{ $id } · { $state }
my-ticket =
    <b>Вопрос №{ $id }</b> · { $state }

    { $thread }
thread-question = 🙋 <b>Вы:</b> { $text }
thread-follow_up = 🙋 <b>Вы:</b> { $text }
thread-answer = 🧑‍⚖️ <b>Юрист:</b> { $text }
ticket-state-new = 🆕 ждёт ответа
ticket-state-claimed = 🙋 юрист готовит ответ
ticket-state-answered = ✅ есть ответ
ticket-state-closed = 🔒 закрыт

## Ответы

answer-footer = ⬆️ Это ответ на вопрос №{ $id }. Чтобы уточнить что-то, ответьте на это сообщение (свайп влево или «Ответить»).
answer-canned = { $text }
answer-helpful = 👍 Помогло
answer-not-helpful = 👎 Не помогло
answer-close = ✅ Закрыть вопрос
answer-rated = Спасибо за отзыв!
ticket-closed-by-user = Вопрос №{ $id } закрыт.
follow-up-sent = Добавили к вопросу №{ $id }. Юрист это увидит.
follow-up-closed = Этот вопрос уже закрыт. Если нужна ещё помощь, задайте новый вопрос.

## Группа модераторов

card-header =
    <b>#{ $id }</b> · { $reader }
    Тема: { $topic } · Язык: { $language }
    Статус: { $state }
card-reader = Читатель { $pseudonym }
card-no-topic = —
card-question = { $text }
card-attachment = 📎 Вложение: { $kind }
card-unreachable = ⚠️ Ответ не доставлен: пользователь заблокировал бота.
card-state-new = 🆕 новый
card-state-claimed = 🙋 взял(а) { $moderator }
card-state-answered = ✅ ответил(а) { $moderator }
card-state-closed = 🔒 закрыт
card-take = 🙋 Взять
card-close = 🔒 Закрыть
card-ban = 🚫 Заблокировать
forum-topic-name = #{ $id } · { $reader }
follow-up-header = ↩️ Уточнение к #{ $id }:
mod-not-allowed = Это могут делать только участники группы модераторов.
mod-ticket-gone = Этого обращения больше нет.
mod-taken = Вы взяли #{ $id }.
mod-already-taken = Это обращение уже взял(а) { $moderator }.
mod-not-new = Это обращение уже не новое.
mod-closed = #{ $id } закрыто.
mod-already-closed = #{ $id } уже было закрыто.
mod-banned = Автор #{ $id } заблокирован, его открытые обращения закрыты.
mod-unbanned = Автор #{ $id } разблокирован.
mod-not-banned = Автор #{ $id } не был заблокирован.
mod-ticket-closed = #{ $id } закрыто, ответ не отправлен.
mod-reply-to-ticket = Отправьте эту команду ответом на сообщение обращения.
mod-canned-usage = Ответьте на обращение командой /canned &lt;название&gt;. Доступны: { $names }
mod-only-in-group = Эта команда работает только в группе модераторов.
mod-queue =
    <b>Открытых обращений: { $count }</b>
mod-queue-item = #{ $id } · { $age } · { $state } · { $topic } · { $reader }
mod-backlog = ⏳ Ждут публикации здесь: { $count }
mod-ticket-usage = Как пользоваться: /ticket &lt;номер&gt;
mod-ticket-head = <b>#{ $id }</b> · Читатель { $reader } · { $state }
mod-history-question = [{ $time }] <b>Вопрос:</b> { $text }
mod-history-follow_up = [{ $time }] <b>Уточнение:</b> { $text }
mod-history-answer = [{ $time }] <b>Ответ ({ $author }):</b> { $text }
mod-stats =
    <b>Обращения</b>
    новых: { $new } · в работе: { $claimed } · с ответом: { $answered } · закрытых: { $closed }
    Медианное время до первого ответа: { $median }
    Ждут публикации: { $backlog }
age-minutes = { $count } мин
age-hours = { $count } ч
age-days = { $count } дн.
command-queue = Открытые обращения, сначала старые
command-ticket = История обращения: /ticket N
command-stats = Статистика
command-canned = Ответом на обращение: /canned название
command-ban = Ответом на обращение: заблокировать автора
command-unban = Ответом на обращение: разблокировать автора
command-publish = Опубликовать выпуск: /publish 2023-10
command-broadcasts = Рассылки и их итоги

## Подписка

subscription-active =
    <b>Подписка</b>

    🔔 Вы подписаны: каждый новый выпуск дайджеста придёт сюда на языке бота.
subscription-inactive =
    <b>Подписка</b>

    Подпишитесь, чтобы раз в месяц получать сюда новый выпуск дайджеста. Отписаться можно в любой момент одним нажатием.
subscription-on = 🔔 Подписаться
subscription-off = 🔕 Отписаться
subscription-done = Вы подписались на дайджест.
subscription-stopped = Вы отписались. Новые выпуски больше не придут.
subscription-stopped-digest = Вы отписались от дайджеста. Подписаться снова можно в разделе 🔔 Подписка.

## Выпуск дайджеста для подписчиков

digest-head = 📰 <b>{ $title }</b>
digest-item =
    <b>{ $title }</b>
    { $summary }
digest-footer = Полные тексты статей — по кнопкам ниже.
digest-unsubscribe = 🔕 Отписаться

## Публикация (группа модераторов)

publish-admins-only = Публиковать могут только администраторы этой группы.
publish-invalid =
    В файле выпуска есть ошибки:
    { $problems }
publish-preview = Предпросмотр ({ $language }):
publish-ask = Отправить выпуск { $issue } { $total } подписчикам (ru: { $ru }, en: { $en })?
publish-confirm = ✅ Отправить
publish-cancel = ✖️ Отменить
publish-cancelled = Публикация { $issue } отменена.
publish-started = 📤 Рассылка { $issue } началась: получателей — { $total }.
publish-again = Выпуск { $issue } уже рассылали; дважды его никто не получит.
broadcast-status =
    📤 <b>Рассылка { $issue }</b>
    отправлено { $sent } из { $total } · ошибок { $failed } · заблокировали { $blocked } · осталось { $left }
    { $rate } сообщ./с · осталось времени { $eta }
broadcast-done =
    ✅ <b>Рассылка { $issue } завершена</b>
    отправлено { $sent } из { $total } · ошибок { $failed } · заблокировали { $blocked }
broadcasts-title = <b>Рассылки</b>
broadcasts-item = { $issue } · { $state } · отправлено { $sent }/{ $total } · ошибок { $failed } · заблокировали { $blocked } · осталось { $left }
broadcasts-none = Рассылок пока не было.
broadcasts-done = завершена
broadcasts-running = идёт
