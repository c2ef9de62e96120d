// The sandbox page: renders the emulator's chats and acts as the sandbox's people.
// Plain JavaScript, no build step. Message text is rendered from Telegram's entities
// with DOM nodes (never innerHTML), exactly as the bot's messages would look.
"use strict";

(() => {
  const CHROME = {
    en: {
      sandbox: "Sandbox", tagline: "A local Telegram: no token, nothing leaves this computer.",
      editorLink: "Editor", userPane: "User's private chat", groupPane: "Moderators' group",
      actAsUser: "User", actAsModerator: "Moderator", cancel: "Cancel", attach: "Attach",
      send: "Send", messagePlaceholder: "Write a message…",
      groupPlaceholder: "Reply to a card to answer; /queue, /stats…",
      groupPlaceholderForum: "In a ticket's topic, just write to answer; /queue, /stats…",
      editorPane: "Editor: a digest issue",
      editorHint: "Pick a digest file or upload one, see exactly what each language's subscribers would get, then publish it to the sandbox users who subscribed.",
      digestFile: "Digest file", uploadDigest: "or upload a .yaml", preview: "Preview",
      reply: "Reply", replyingTo: "Reply to", edited: "edited", start: "Start",
      emptyChat: "This is the start of the chat with the bot.", emptyGroup: "No messages yet. Questions from users arrive here.",
      general: "General", typing: "typing…", bot: "bot", withBot: "chat with", members: "2 moderators and the bot",
      forum: "forum: one topic per ticket", attached: "Attached", files: "file(s)",
      subscribers: "subscribers", publishTo: "Publish to {n} subscribers",
      progress: "sent {sent} · failed {failed} · blocked {blocked} · left {left}",
      finished: "Done.", noOffer: "The bot did not offer to send the issue: see the group.",
      published: "published", problems: "The file has problems:", admin: "admin", member: "member",
      connectionLost: "Connection to the sandbox lost; retrying…", refused: "Telegram would refuse this message",
      ru: "Russian", en: "English", messages: "message(s)", publishedButton: "Published ✓",
      rejected: "Telegram refused the bot's {method}: {description}",
    },
    ru: {
      sandbox: "Песочница", tagline: "Локальный Telegram: без токена, ничего не уходит с этого компьютера.",
      editorLink: "Редактор", userPane: "Личный чат пользователя", groupPane: "Группа модераторов",
      actAsUser: "Пользователь", actAsModerator: "Модератор", cancel: "Отмена", attach: "Прикрепить",
      send: "Отправить", messagePlaceholder: "Сообщение…",
      groupPlaceholder: "Ответьте на карточку, чтобы ответить; /queue, /stats…",
      groupPlaceholderForum: "В теме вопроса просто напишите ответ; /queue, /stats…",
      editorPane: "Редактор: выпуск дайджеста",
      editorHint: "Выберите файл дайджеста или загрузите свой, посмотрите, что получат подписчики на каждом языке, и опубликуйте его для подписанных пользователей песочницы.",
      digestFile: "Файл дайджеста", uploadDigest: "или загрузите .yaml", preview: "Показать",
      reply: "Ответить", replyingTo: "Ответ на", edited: "изменено", start: "Начать",
      emptyChat: "Здесь начнётся чат с ботом.", emptyGroup: "Пока пусто. Сюда приходят вопросы пользователей.",
      general: "Общая", typing: "печатает…", bot: "бот", withBot: "чат с", members: "2 модератора и бот",
      forum: "форум: тема на каждый вопрос", attached: "Прикреплено", files: "файл(ов)",
      subscribers: "подписчиков", publishTo: "Опубликовать для {n} подписчиков",
      progress: "отправлено {sent} · ошибки {failed} · заблокировали {blocked} · осталось {left}",
      finished: "Готово.", noOffer: "Бот не предложил отправить выпуск: смотрите группу.",
      published: "опубликован", problems: "В файле ошибки:", admin: "админ", member: "участник",
      connectionLost: "Связь с песочницей потеряна; подключаемся снова…", refused: "Telegram не примет это сообщение",
      ru: "Русский", en: "English", messages: "сообщ.", publishedButton: "Опубликовано ✓",
      rejected: "Telegram отказал боту в {method}: {description}",
    },
  };
  let lang = (localStorage.getItem("sandbox-lang") || navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
  const t = (key, values = {}) =>
    (CHROME[lang][key] || CHROME.en[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));

  const $ = (selector, root = document) => root.querySelector(selector);
  const el = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  };

  const state = {
    bot: null, group: null, users: [], moderators: [],
    chats: new Map(),   // chat id -> Map(message id -> message)
    topics: new Map(),  // thread id -> topic
    unread: new Map(),  // thread id -> count
    userId: null, moderatorId: null, topic: null, // null: General
    pending: new Map(), // callback query id -> button
  };
  const chat = (id) => {
    if (!state.chats.has(id)) state.chats.set(id, new Map());
    return state.chats.get(id);
  };

  // ------------------------------------------------------------------ text with entities

  const SAFE_URL = /^(https?|tg|mailto):/i;
  function entityNode(entity, text) {
    switch (entity.type) {
      case "bold": return el("strong");
      case "italic": return el("em");
      case "underline": return el("u");
      case "strikethrough": return el("s");
      case "code": return el("code");
      case "pre": return el("pre", { "data-language": entity.language });
      case "blockquote": case "expandable_blockquote": return el("blockquote");
      case "spoiler": {
        const node = el("span", { class: "spoiler", title: "spoiler" });
        node.addEventListener("click", () => node.classList.toggle("revealed"));
        return node;
      }
      case "text_link": case "url": {
        const href = entity.type === "url" ? text : entity.url;
        return SAFE_URL.test(href || "") ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span");
      }
      case "bot_command": {
        const node = el("span", { class: "command", role: "link", tabindex: "0" });
        node.addEventListener("click", () => node.dispatchEvent(new CustomEvent("command", { bubbles: true, detail: text })));
        return node;
      }
      default: return el("span", { class: entity.type });
    }
  }

  function renderText(text, entities) {
    const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
    const build = (list, start, end) => {
      const fragment = document.createDocumentFragment();
      let position = start;
      let i = 0;
      while (i < list.length) {
        const entity = list[i];
        const from = Math.max(entity.offset, position);
        const to = Math.min(entity.offset + entity.length, end);
        if (to <= from) { i += 1; continue; }
        if (from > position) fragment.append(text.slice(position, from));
        let j = i + 1;
        const inner = [];
        while (j < list.length && list[j].offset < to) { inner.push(list[j]); j += 1; }
        const node = entityNode(entity, text.slice(from, to));
        node.append(build(inner, from, to));
        fragment.append(node);
        position = to;
        i = j;
      }
      if (position < end) fragment.append(text.slice(position, end));
      return fragment;
    };
    return build(sorted, 0, text.length);
  }

  const plain = (message) => message.text || message.caption ||
    (message.photo ? "📷" : message.document ? `📄 ${message.document.file_name || ""}` : message.voice ? "🎤" : message.video ? "🎬" : message.audio ? "🎵" : "…");

  // ------------------------------------------------------------------ messages

  const panes = {};

  function sizeText(bytes) {
    if (!bytes && bytes !== 0) return "";
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function renderMedia(message) {
    const box = el("div", { class: "media" });
    const src = (file) => `/api/file/${encodeURIComponent(file.file_id)}`;
    if (message.photo) {
      const largest = message.photo[message.photo.length - 1];
      box.append(el("img", { src: src(largest), alt: "photo", loading: "lazy" }));
    } else if (message.video) {
      box.append(el("video", { src: src(message.video), controls: true, preload: "metadata" }));
    } else if (message.voice || message.audio) {
      box.append(el("audio", { src: src(message.voice || message.audio), controls: true, preload: "none" }));
    } else if (message.document || message.animation) {
      const file = message.document || message.animation;
      box.append(el("a", { class: "file", href: src(file), download: file.file_name || "file" },
        el("span", { class: "icon", "aria-hidden": "true", text: "📄" }),
        el("span", {}, el("span", { text: file.file_name || "file" }), el("br"),
          el("span", { class: "size", text: sizeText(file.file_size) }))));
    } else if (message.sticker) {
      box.append(el("span", { text: message.sticker.emoji || "🖼" }));
    } else {
      return null;
    }
    return box;
  }

  function renderKeyboard(pane, message, { readOnly = false } = {}) {
    const rows = (message.reply_markup || {}).inline_keyboard;
    if (!rows) return null;
    const keyboard = el("div", { class: "keyboard" });
    for (const row of rows) {
      const line = el("div", { class: "kb-row" });
      for (const button of row) {
        const node = el("button", { type: "button", class: "kb-btn", text: button.text, title: button.text });
        if (readOnly) node.disabled = true;
        else if (button.callback_data !== undefined) {
          node.addEventListener("click", () => pane.press(message, button.callback_data, node));
        } else if (button.url) {
          node.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
        } else node.disabled = true;
        line.append(node);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function renderMessage(pane, message, options = {}) {
    if (message.forum_topic_created) {
      return el("div", { class: "service", "data-id": message.message_id, text: `# ${message.forum_topic_created.name}` });
    }
    const fromBot = message.from && message.from.is_bot;
    const node = el("article", {
      class: `msg ${fromBot ? "in from-bot" : "out"}`, "data-id": message.message_id,
      "data-thread": message.message_thread_id,
    });
    const bubble = el("div", { class: "bubble" });
    if (pane && pane.showSenders) {
      const who = fromBot ? state.bot.name : message.from.first_name;
      bubble.append(el("div", { class: "sender", text: who }));
    }
    const replied = message.reply_to_message;
    if (replied && !replied.forum_topic_created) {
      const name = replied.from && replied.from.is_bot ? state.bot.name : (replied.from || {}).first_name || "";
      bubble.append(el("div", { class: "quote" }, el("b", { text: name }), ` ${plain(replied)}`));
    }
    const media = renderMedia(message);
    if (media) bubble.append(media);
    const text = message.text ?? message.caption;
    if (text) {
      const body = el("div", { class: "text" });
      body.append(renderText(text, message.entities || message.caption_entities));
      bubble.append(body);
    }
    const time = new Date((message.date || 0) * 1000);
    const meta = el("div", { class: "meta" },
      message.edit_date ? el("span", { text: t("edited") }) : null,
      el("span", { text: time.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }) }));
    bubble.append(meta);
    node.append(bubble);
    const keyboard = renderKeyboard(pane, message, options);
    if (keyboard) node.append(keyboard);
    if (pane && !options.readOnly) {
      node.append(el("div", { class: "actions" },
        el("button", { type: "button", class: "reply-btn", text: `↩ ${t("reply")}`, onclick: () => pane.replyTo(message) })));
    }
    return node;
  }

  // ------------------------------------------------------------------ a pane

  class Pane {
    constructor(name, { showSenders }) {
      this.name = name;
      this.root = $(`#${name}-pane`);
      this.list = $(`#${name}-messages`);
      this.toastBox = $(`#${name}-toast`);
      this.form = $(`#${name}-composer`);
      this.textarea = $("textarea", this.form);
      this.fileInput = $("input[type=file]", this.form);
      this.replyBox = $(".replying", this.form);
      this.attachedBox = $(".attached", this.form);
      this.showSenders = showSenders;
      this.replying = null;
      this.toastTimer = null;
      this.form.addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
      this.textarea.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.send();
        }
      });
      this.textarea.addEventListener("input", () => this.grow());
      this.fileInput.addEventListener("change", () => this.showAttached());
      $(".cancel", this.replyBox).addEventListener("click", () => this.replyTo(null));
      this.list.addEventListener("command", (event) => this.sendText(event.detail));
    }

    grow() {
      this.textarea.style.height = "auto";
      this.textarea.style.height = `${Math.min(this.textarea.scrollHeight, 140)}px`;
    }

    showAttached() {
      const files = [...this.fileInput.files];
      this.attachedBox.hidden = files.length === 0;
      this.attachedBox.replaceChildren(el("span", { text: `${t("attached")}: ${files.map((f) => f.name).join(", ")}` }),
        el("button", { type: "button", class: "cancel", text: t("cancel"), onclick: () => { this.fileInput.value = ""; this.showAttached(); } }));
    }

    replyTo(message) {
      this.replying = message;
      this.replyBox.hidden = !message;
      if (message) {
        $(".replying-text", this.replyBox).textContent = `${t("replyingTo")}: ${plain(message).slice(0, 80)}`;
        this.textarea.focus();
      }
    }

    async sendText(text) {
      await this.post(text, []);
    }

    async send() {
      const text = this.textarea.value;
      const files = [...this.fileInput.files];
      if (!text.trim() && files.length === 0) return;
      const ok = await this.post(text, files);
      if (ok) {
        this.textarea.value = "";
        this.fileInput.value = "";
        this.showAttached();
        this.replyTo(null);
        this.grow();
      }
      this.textarea.focus();
    }

    async post(text, files) {
      const form = new FormData();
      form.append("chat_id", String(this.chatId()));
      form.append("from_id", String(this.fromId()));
      form.append("text", text);
      if (this.replying) form.append("reply_to", String(this.replying.message_id));
      const thread = this.threadId();
      if (thread) form.append("thread_id", String(thread));
      for (const file of files) form.append("file", file, file.name);
      const response = await fetch("/api/send", { method: "POST", body: form });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        this.toast(body.error || response.statusText);
        return false;
      }
      return true;
    }

    async press(message, data, button) {
      button.classList.add("pending");
      const response = await fetch("/api/press", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ chat_id: this.chatId(), message_id: message.message_id, from_id: this.fromId(), data }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) { button.classList.remove("pending"); this.toast(body.error || response.statusText); return; }
      state.pending.set(body.query_id, button);
      setTimeout(() => { button.classList.remove("pending"); state.pending.delete(body.query_id); }, 15000);
    }

    notice(text) {
      const empty = $(".empty", this.list);
      if (empty) empty.remove();
      this.list.append(el("div", { class: "notice", role: "status", text }));
      this.scroll();
    }

    toast(text) {
      this.toastBox.textContent = text;
      this.toastBox.hidden = false;
      clearTimeout(this.toastTimer);
      this.toastTimer = setTimeout(() => { this.toastBox.hidden = true; }, 3500);
    }

    visible(message) { return true; }

    render() {
      const messages = [...chat(this.chatId()).values()].filter((m) => this.visible(m))
        .sort((a, b) => a.message_id - b.message_id);
      this.list.replaceChildren(...messages.map((m) => renderMessage(this, m)));
      if (messages.length === 0) this.list.append(this.emptyNode());
      this.scroll();
    }

    upsert(message) {
      if (!this.visible(message)) return;
      const node = renderMessage(this, message);
      const old = this.list.querySelector(`[data-id="${message.message_id}"]`);
      if (old) { old.replaceWith(node); return; }
      const empty = $(".empty", this.list);
      if (empty) empty.remove();
      const later = [...this.list.children].find((child) => Number(child.dataset.id) > message.message_id);
      if (later) this.list.insertBefore(node, later); else this.list.append(node);
      this.scroll();
    }

    remove(messageId) {
      const old = this.list.querySelector(`[data-id="${messageId}"]`);
      if (old) old.remove();
    }

    scroll() { this.list.scrollTop = this.list.scrollHeight; }
  }

  class UserPane extends Pane {
    chatId() { return state.userId; }
    fromId() { return state.userId; }
    threadId() { return null; }
    emptyNode() {
      return el("div", { class: "empty" }, el("div", { text: t("emptyChat") }),
        el("button", { type: "button", class: "start", text: t("start"), onclick: () => this.sendText("/start") }));
    }
    subtitle() {
      const user = state.users.find((u) => u.id === state.userId);
      $("#user-subtitle").textContent = `${t("withBot")} @${state.bot.username} · ${user.first_name} (${user.language_code})`;
    }
  }

  class GroupPane extends Pane {
    chatId() { return state.group.id; }
    fromId() { return state.moderatorId; }
    threadId() { return state.group.forum && !this.replying ? state.topic : null; }
    visible(message) {
      if (!state.group.forum) return true;
      return (message.message_thread_id ?? null) === state.topic || (message.forum_topic_created && false);
    }
    emptyNode() { return el("div", { class: "empty", text: t("emptyGroup") }); }
    subtitle() {
      $("#group-subtitle").textContent = `${state.group.title} · ${t("members")}${state.group.forum ? ` · ${t("forum")}` : ""}`;
    }
    renderTopics() {
      const bar = $("#group-topics");
      bar.hidden = !state.group.forum;
      if (!state.group.forum) return;
      const tab = (id, name, closed) => {
        const unread = state.unread.get(id) || 0;
        return el("button", {
          type: "button", class: `topic${closed ? " closed" : ""}`, "aria-pressed": String(state.topic === id),
          onclick: () => { state.topic = id; state.unread.delete(id); this.replyTo(null); this.renderTopics(); this.render(); },
        }, name, unread ? el("span", { class: "unread", text: String(unread) }) : null);
      };
      const topics = [...state.topics.values()].sort((a, b) => a.message_thread_id - b.message_thread_id);
      bar.replaceChildren(tab(null, `# ${t("general")}`, false), ...topics.map((topic) => tab(topic.message_thread_id, topic.name, topic.is_closed)));
    }
  }

  // ------------------------------------------------------------------ the world

  function fillSelect(select, people, selected, label) {
    select.replaceChildren(...people.map((p) => el("option", { value: p.id, selected: p.id === selected, text: label(p) })));
  }

  function applyChrome() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach((node) => { node.textContent = t(node.dataset.t); });
    document.querySelectorAll("[data-t-placeholder]").forEach((node) => { node.placeholder = t(node.dataset.tPlaceholder); });
    document.querySelectorAll("[data-t-title]").forEach((node) => { node.title = t(node.dataset.tTitle); });
    $("#lang-toggle").textContent = lang === "ru" ? "EN" : "RU";
    if (!state.bot) return;
    fillSelect($("#user-select"), state.users, state.userId, (u) => `${u.first_name} (${u.language_code})`);
    fillSelect($("#moderator-select"), state.moderators, state.moderatorId, (m) => `${m.first_name} (${t(m.role === "administrator" ? "admin" : "member")})`);
    if (state.group.forum) panes.group.textarea.placeholder = t("groupPlaceholderForum");
    panes.user.subtitle();
    panes.group.subtitle();
    panes.user.render();
    panes.group.renderTopics();
    panes.group.render();
  }

  async function loadState() {
    const response = await fetch("/api/state");
    const data = await response.json();
    Object.assign(state, { bot: data.bot, group: data.group, users: data.users, moderators: data.moderators });
    state.chats.clear();
    for (const [id, messages] of Object.entries(data.chats)) {
      const map = chat(Number(id));
      for (const message of messages) map.set(message.message_id, message);
    }
    state.topics = new Map(data.topics.map((topic) => [topic.message_thread_id, topic]));
    if (state.userId === null) state.userId = Number(localStorage.getItem("sandbox-user")) || data.users[0].id;
    if (!data.users.some((u) => u.id === state.userId)) state.userId = data.users[0].id;
    if (state.moderatorId === null) state.moderatorId = data.moderators[0].id;
    if (state.topic !== null && !state.topics.has(state.topic)) state.topic = null;
    applyChrome();
  }

  function onEvent(event) {
    if (event.type === "message" || event.type === "edited") {
      const message = event.message;
      chat(event.chat_id).set(message.message_id, message);
      if (event.chat_id === state.userId) panes.user.upsert(message);
      if (event.chat_id === state.group.id) {
        const thread = message.message_thread_id ?? null;
        if (state.group.forum && thread !== state.topic && event.type === "message") {
          state.unread.set(thread, (state.unread.get(thread) || 0) + 1);
          panes.group.renderTopics();
        }
        panes.group.upsert(message);
      }
    } else if (event.type === "deleted") {
      chat(event.chat_id).delete(event.message_id);
      if (event.chat_id === state.userId) panes.user.remove(event.message_id);
      if (event.chat_id === state.group.id) panes.group.remove(event.message_id);
    } else if (event.type === "answer") {
      const button = state.pending.get(event.query_id);
      if (button) { button.classList.remove("pending"); state.pending.delete(event.query_id); }
      if (!event.text) return;
      const pane = event.chat_id === state.group.id ? panes.group : panes.user;
      if (event.show_alert) showAlert(event.text); else pane.toast(event.text);
    } else if (event.type === "topic") {
      const topic = event.topic;
      if (event.action === "deleted") state.topics.delete(topic.message_thread_id);
      else state.topics.set(topic.message_thread_id, topic);
      if (event.action === "deleted" && state.topic === topic.message_thread_id) { state.topic = null; panes.group.render(); }
      panes.group.renderTopics();
    } else if (event.type === "chat_action") {
      const target = event.chat_id === state.group.id ? $("#group-subtitle") : event.chat_id === state.userId ? $("#user-subtitle") : null;
      if (target) {
        const before = target.textContent;
        target.textContent = `${state.bot.name} ${t("typing")}`;
        setTimeout(() => { if (target.textContent.endsWith(t("typing"))) target.textContent = before; }, 2500);
      }
    } else if (event.type === "broadcast") {
      editor.progress(event);
    } else if (event.type === "rejected") {
      // What Telegram would have refused the bot: shown where it happened, not kept.
      const pane = event.chat_id === state.group.id ? panes.group : event.chat_id === state.userId ? panes.user : null;
      if (pane) pane.notice(t("rejected", { method: event.method, description: event.description }));
    }
  }

  function showAlert(text) {
    $("#alert-text").textContent = text;
    $("#alert").hidden = false;
    $("#alert-ok").focus();
  }

  let retry = 500;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/events`);
    const dot = $("#connection");
    socket.addEventListener("open", async () => {
      dot.className = "connection live";
      dot.title = "live";
      retry = 500;
      await loadState(); // whatever happened while disconnected
    });
    socket.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
    socket.addEventListener("close", () => {
      dot.className = "connection lost";
      dot.title = t("connectionLost");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 8000);
    });
  }

  // ------------------------------------------------------------------ the editor

  const editor = {
    issue: null,
    async list(selected) {
      const response = await fetch("/api/digests");
      const { digests } = await response.json();
      const select = $("#digest-select");
      select.replaceChildren(...digests.map((d) => el("option", {
        value: d.issue, selected: d.issue === selected,
        text: d.problems ? `${d.file} ⚠` : `${d.issue} — ${(d.title || {})[lang] || ""}${d.published ? ` (${t("published")})` : ""}`,
      })));
    },
    problems(list) {
      const box = $("#editor-problems");
      box.hidden = !list || list.length === 0;
      box.replaceChildren(...(list || []).map((p) => el("li", { text: p })));
    },
    async upload(file) {
      const form = new FormData();
      form.append("file", file, file.name);
      const response = await fetch("/api/digests", { method: "POST", body: form });
      const body = await response.json();
      if (!response.ok) { this.problems([t("problems"), ...(body.problems || [body.error])]); return; }
      this.problems([]);
      await this.list(body.issue);
      await this.preview(body.issue);
    },
    async preview(issue) {
      this.issue = issue;
      const response = await fetch(`/api/digests/${encodeURIComponent(issue)}/preview`);
      const body = await response.json();
      if (!response.ok) { this.problems([body.error]); return; }
      this.problems([]);
      const box = $("#preview");
      let total = 0;
      box.replaceChildren(...body.languages.map((language) => {
        total += language.subscribers;
        const column = el("div", { class: "language", "data-locale": language.locale },
          el("h3", { text: `${t(language.locale)} · ${language.subscribers} ${t("subscribers")} · ${language.messages.length} ${t("messages")}` }));
        for (const message of language.messages) {
          if (message.error) { column.append(el("p", { class: "problems", text: message.error })); continue; }
          const shown = { ...message, message_id: 0, date: Date.now() / 1000, from: { is_bot: true } };
          column.append(renderMessage(null, shown, { readOnly: true }));
        }
        return column;
      }));
      $("#publish-row").hidden = false;
      const button = $("#publish-button");
      button.textContent = t("publishTo", { n: total });
      button.disabled = total === 0;
      $("#progress").hidden = true;
    },
    async publish() {
      if (!this.issue) return;
      $("#publish-button").disabled = true;
      const response = await fetch(`/api/digests/${encodeURIComponent(this.issue)}/publish`, { method: "POST" });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        this.problems([body.error || response.statusText]);
        $("#publish-button").disabled = false;
      }
    },
    progress(event) {
      if (event.issue !== this.issue) return;
      const box = $("#progress");
      box.hidden = false;
      if (event.error) { $("#progress-text").textContent = t("noOffer"); $("#publish-button").disabled = false; return; }
      const counts = event.counts || {};
      const done = (counts.sent || 0) + (counts.failed || 0) + (counts.blocked || 0);
      $("#progress-bar").max = Math.max(event.total || 0, 1);
      $("#progress-bar").value = done;
      const text = t("progress", { sent: counts.sent || 0, failed: counts.failed || 0, blocked: counts.blocked || 0, left: counts.pending || 0 });
      $("#progress-text").textContent = event.finished ? `${text} · ${t("finished")}` : text;
      if (event.finished) {
        $("#publish-button").textContent = t("publishedButton");
        this.list(this.issue);
      }
    },
  };

  // ------------------------------------------------------------------ start

  panes.user = new UserPane("user", { showSenders: false });
  panes.group = new GroupPane("group", { showSenders: true });

  $("#user-select").addEventListener("change", (event) => {
    state.userId = Number(event.target.value);
    localStorage.setItem("sandbox-user", String(state.userId));
    panes.user.toastBox.hidden = true;
    panes.user.replyTo(null);
    panes.user.subtitle();
    panes.user.render();
    panes.user.textarea.focus();
  });
  $("#moderator-select").addEventListener("change", (event) => { state.moderatorId = Number(event.target.value); });
  $("#lang-toggle").addEventListener("click", () => {
    lang = lang === "ru" ? "en" : "ru";
    localStorage.setItem("sandbox-lang", lang);
    applyChrome();
    editor.list(editor.issue);
    if (editor.issue) editor.preview(editor.issue);
  });
  $("#alert-ok").addEventListener("click", () => { $("#alert").hidden = true; panes.user.textarea.focus(); });
  $("#preview-button").addEventListener("click", () => { const issue = $("#digest-select").value; if (issue) editor.preview(issue); });
  $("#digest-upload").addEventListener("change", (event) => { const file = event.target.files[0]; if (file) editor.upload(file); event.target.value = ""; });
  $("#publish-button").addEventListener("click", () => editor.publish());

  applyChrome();
  loadState().then(() => { editor.list(); panes.user.textarea.focus(); connect(); });
})();
