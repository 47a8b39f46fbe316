/*
 * app.js — the sandbox's Slack-like page: its state, sidebar, message pane, thread panel
 * and the live stream.
 *
 * Speaks only the page API (/sandbox/api/state|messages|replies|stream|command|click).
 * Rendering of text and blocks lives in mrkdwn.js and blocks.js, the composer and clicks in
 * interact.js. Starts on DOMContentLoaded.
 */
(function () {
  "use strict";
  const $ = (sel) => document.querySelector(sel);

  const S = {
    team: null, bot: null, users: new Map(), channels: new Map(), usergroups: new Map(),
    userList: [], me: null, channel: null, messages: [], thread: null, threadMessages: [],
    dismissed: new Set(), unread: new Set(), stream: null, retry: 0, localSeq: 0,
    handledRequests: new Set(), notices: [],
  };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    const r = await fetch(path, opts);
    const data = await r.json().catch(() => ({ ok: false, error: `http_${r.status}` }));
    if (!r.ok && data.ok === undefined) data.ok = false;
    return data;
  }

  const qs = (params) => new URLSearchParams(params).toString();

  function renderCtx() {
    return {
      users: S.users, channels: S.channels, usergroups: S.usergroups,
      onChannel: (id) => { if (S.channels.has(id)) selectChannel(id); },
      onAction: (...args) => SandboxInteract.onAction(...args),
    };
  }

  // ---- sidebar ------------------------------------------------------------------------

  // Drawn, not an emoji: the page must not depend on an emoji font being installed.
  function lockIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("class", "lock");
    svg.setAttribute("aria-label", "private");
    const body = document.createElementNS(ns, "rect");
    for (const [k, v] of Object.entries({ x: 3, y: 7, width: 10, height: 7, rx: 1.5 })) body.setAttribute(k, v);
    const shackle = document.createElementNS(ns, "path");
    shackle.setAttribute("d", "M5 7V5a3 3 0 0 1 6 0v2");
    svg.append(body, shackle);
    return svg;
  }

  function sigil(channel) {
    return channel && channel.is_private ? lockIcon() : document.createTextNode("#");
  }

  function renderSidebar() {
    $("#team-name").textContent = S.team ? S.team.name : "Sandbox";
    const picker = $("#user-picker");
    picker.replaceChildren();
    S.userList.forEach((u) => {
      const o = el("option", "", `${u.display_name || u.real_name || u.name}${u.is_bot ? " (app)" : ""}`);
      o.value = u.id;
      picker.append(o);
    });
    picker.value = S.me;
    const list = $("#channel-list");
    list.replaceChildren();
    for (const c of S.channels.values()) {
      const li = el("li", "channel");
      li.dataset.channel = c.id;
      if (c.is_private) li.classList.add("private");
      if (c.is_archived) li.classList.add("archived");
      if (c.id === S.channel) li.classList.add("active");
      if (S.unread.has(c.id)) li.classList.add("unread");
      const mark = el("span", "sigil");
      mark.append(sigil(c));
      li.append(mark, el("span", "name", c.name));
      if (c.is_archived) li.title = "archived";
      li.addEventListener("click", () => selectChannel(c.id));
      list.append(li);
    }
  }

  // ---- messages -----------------------------------------------------------------------

  function initials(name) {
    const words = String(name || "?").replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/);
    return (words.length > 1 ? words[0][0] + words[1][0] : (words[0] || "?").slice(0, 2)).toUpperCase();
  }

  function hue(id) {
    let h = 0;
    for (const ch of String(id)) h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
  }

  function timeOf(ts) {
    const d = new Date(Number(ts) * 1000);
    return Number.isFinite(d.getTime())
      ? new Intl.DateTimeFormat(undefined, { timeStyle: "short" }).format(d) : "";
  }

  function posterName(m) {
    if (m.username) return m.username;
    const u = m.user ? S.users.get(m.user) : null;
    if (u) return u.display_name || u.real_name || u.name;
    return m.bot_id && S.bot ? S.bot.name : "unknown";
  }

  // Files shared with a message (files.completeUploadExternal): images inline, as Slack
  // shows them; anything else as a link to the file.
  function filesNode(files) {
    const box = el("div", "files");
    files.forEach((f) => {
      const item = el("div", "file");
      item.dataset.fileId = f.id;
      const title = f.title || f.name;
      if (String(f.mimetype || "").startsWith("image/")) {
        const img = el("img", "file-image");
        img.src = f.url_private;
        img.alt = f.alt_txt || title;
        img.loading = "lazy";
        item.append(el("div", "file-title", title), img);
      } else {
        const a = el("a", "file-link", title);
        a.href = f.url_private;
        a.target = "_blank";
        item.append(a);
      }
      box.append(item);
    });
    return box;
  }

  function messageNode(m, inThread) {
    const row = el("div", "msg");
    row.dataset.id = m.id;
    if (m.ephemeral) row.classList.add("ephemeral");
    const name = posterName(m);
    const avatar = el("div", "avatar", initials(name));
    avatar.style.background = m.bot_id ? "#4a154b" : `hsl(${hue(m.user || name)} 45% 42%)`;
    const main = el("div", "msg-main");
    if (m.ephemeral) {
      main.append(el("div", "only-you", "Only visible to you"));
    }
    const head = el("div", "msg-head");
    head.append(el("span", "msg-name", name));
    if (m.bot_id) head.append(el("span", "app-badge", "APP"));
    head.append(el("span", "msg-time", timeOf(m.ts)));
    main.append(head);
    const ctx = renderCtx();
    ctx.message = m;
    // Slack shows blocks when present and the text only as a fallback.
    main.append(m.blocks && m.blocks.length ? SlackBlocks.render(m.blocks, ctx)
      : SlackMrkdwn.render(m.text, ctx));
    if (m.files && m.files.length) main.append(filesNode(m.files));
    if (m.edited) main.append(el("span", "edited", "(edited)"));
    const status = el("div", "action-status");
    status.hidden = true;
    main.append(status);
    if (!inThread && m.reply_count > 0) {
      const link = el("a", "replies", `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`);
      link.href = "#";
      link.addEventListener("click", (ev) => { ev.preventDefault(); openThread(m); });
      main.append(link);
    }
    if (m.ephemeral) {
      const dismiss = el("a", "dismiss", "Dismiss message");
      dismiss.href = "#";
      dismiss.addEventListener("click", (ev) => {
        ev.preventDefault();
        S.dismissed.add(m.id);
        row.remove();
        S.messages = S.messages.filter((x) => x.id !== m.id);
        S.notices = S.notices.filter((x) => x.id !== m.id);
      });
      main.append(dismiss);
    }
    row.append(avatar, main);
    return row;
  }

  function renderMessages() {
    const pane = $("#messages");
    const nearBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 80;
    pane.replaceChildren();
    const visible = S.messages.filter((m) => !S.dismissed.has(m.id));
    if (!visible.length) pane.append(el("div", "empty", "No messages yet. Try /jobs help."));
    visible.forEach((m) => pane.append(messageNode(m, false)));
    if (nearBottom || S.stickToBottom) pane.scrollTop = pane.scrollHeight;
    S.stickToBottom = false;
  }

  function renderThread() {
    const panel = $("#thread");
    panel.hidden = !S.thread;
    document.body.classList.toggle("thread-open", !!S.thread);
    if (!S.thread) return;
    const c = S.channels.get(S.thread.channel);
    $("#thread-channel").textContent = c ? `#${c.name}` : "";
    const list = $("#thread-messages");
    list.replaceChildren();
    S.threadMessages.filter((m) => !S.dismissed.has(m.id)).forEach((m, n) => {
      list.append(messageNode(m, true));
      if (n === 0 && S.threadMessages.length > 1) {
        const k = S.threadMessages.length - 1;
        list.append(el("div", "reply-divider", `${k} ${k === 1 ? "reply" : "replies"}`));
      }
    });
  }

  async function loadMessages() {
    if (!S.channel) return;
    const want = S.channel;
    const data = await api(`/sandbox/api/messages?${qs({ channel: want, user: S.me })}`);
    if (want !== S.channel) return;
    const local = S.notices.filter((m) => m.channel === want);
    S.messages = (data.messages || []).concat(local).sort((a, b) => Number(a.ts) - Number(b.ts));
    renderMessages();
  }

  async function loadThread() {
    if (!S.thread) return;
    const t = S.thread;
    const data = await api(`/sandbox/api/replies?${qs({ channel: t.channel, ts: t.ts, user: S.me })}`);
    if (S.thread !== t) return;
    S.threadMessages = data.messages || [];
    renderThread();
  }

  function openThread(m) {
    S.thread = { channel: m.channel, ts: m.thread_ts || m.ts };
    S.threadMessages = [m];
    renderThread();
    loadThread();
  }

  function closeThread() {
    S.thread = null;
    S.threadMessages = [];
    $("#thread-messages").replaceChildren();
    $("#thread-note").hidden = true;
    renderThread();
  }

  function selectChannel(id) {
    S.channel = id;
    S.unread.delete(id);
    S.stickToBottom = true;
    const c = S.channels.get(id);
    $("#channel-title").textContent = c ? c.name : id;
    $("#channel-sigil").replaceChildren(sigil(c));
    $("#composer-input").placeholder = c ? `Message #${c.name}` : "Message";
    document.body.classList.toggle("archived-channel", !!(c && c.is_archived));
    const url = new URL(location.href);
    url.searchParams.set("channel", id);
    url.searchParams.set("user", S.me);
    history.replaceState(null, "", url);
    renderSidebar();
    S.messages = [];
    loadMessages();
  }

  // ---- live stream --------------------------------------------------------------------

  function upsert(list, m) {
    const i = list.findIndex((x) => x.id === m.id);
    if (i >= 0) list[i] = m; else list.push(m);
    list.sort((a, b) => Number(a.ts) - Number(b.ts));
  }

  function onMessage(m, changed) {
    const isReply = m.thread_ts && m.thread_ts !== m.ts;
    if (S.thread && m.channel === S.thread.channel && (m.thread_ts || m.ts) === S.thread.ts) {
      upsert(S.threadMessages, m);
      renderThread();
    }
    if (m.channel !== S.channel) {
      if (!changed && !isReply) { S.unread.add(m.channel); renderSidebar(); }
      return;
    }
    if (isReply) {
      // The parent's reply count changed; the list call is the source of truth for it.
      if (!changed) loadMessages();
      return;
    }
    upsert(S.messages, m);
    renderMessages();
  }

  function connect() {
    if (S.stream) S.stream.close();
    const es = new EventSource(`/sandbox/api/stream?${qs({ user: S.me })}`);
    S.stream = es;
    const live = $("#live");
    es.addEventListener("open", () => {
      S.retry = 0;
      live.textContent = "live";
      live.className = "live on";
      // Anything posted while we were disconnected is fetched once more.
      loadMessages();
      loadThread();
    });
    es.addEventListener("error", () => {
      live.textContent = "reconnecting\u2026";
      live.className = "live off";
      if (es.readyState === EventSource.CLOSED && S.stream === es) {
        // The browser gives up on some failures (e.g. a non-200 answer); keep trying.
        // A local sandbox restarts in seconds, so the backoff stays short.
        S.retry = Math.min(S.retry + 1, 4);
        setTimeout(() => { if (S.stream === es) connect(); }, 300 * 2 ** S.retry);
      }
    });
    const on = (type, fn) => es.addEventListener(type, (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch { return; }
      fn(data);
    });
    on("message", (m) => onMessage(m, false));
    on("message_changed", (m) => onMessage(m, true));
    on("message_deleted", (d) => {
      S.messages = S.messages.filter((m) => !(m.channel === d.channel && m.id === d.id));
      S.threadMessages = S.threadMessages.filter((m) => !(m.channel === d.channel && m.id === d.id));
      if (d.channel === S.channel) renderMessages();
      renderThread();
    });
    on("command_result", (r) => SandboxInteract.commandOutcome(r, null));
  }

  // ---- start --------------------------------------------------------------------------

  async function start() {
    const state = await api("/sandbox/api/state");
    S.team = state.team;
    S.bot = state.bot;
    S.userList = state.users || [];
    S.userList.forEach((u) => S.users.set(u.id, u));
    (state.channels || []).forEach((c) => S.channels.set(c.id, c));
    (state.usergroups || []).forEach((g) => S.usergroups.set(g.id, g));
    const params = new URLSearchParams(location.search);
    const firstPerson = S.userList.find((u) => !u.is_bot) || S.userList[0];
    S.me = S.users.has(params.get("user")) ? params.get("user") : firstPerson && firstPerson.id;
    const firstOpen = [...S.channels.values()].find((c) => !c.is_archived);
    const wanted = params.get("channel");
    const channel = S.channels.has(wanted) ? wanted : firstOpen && firstOpen.id;
    $("#user-picker").addEventListener("change", (ev) => {
      S.me = ev.target.value;
      closeThread();
      selectChannel(S.channel);
      connect();
    });
    $("#thread-close").addEventListener("click", closeThread);
    document.addEventListener("click", () => {
      document.querySelectorAll(".menu").forEach((m) => { m.hidden = true; });
    });
    SandboxInteract.setupComposer();
    if (channel) selectChannel(channel); else renderSidebar();
    connect();
    document.body.classList.add("ready");
  }

  window.SandboxApp = { S, api, renderCtx, loadMessages, renderMessages };

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((err) => {
      $("#messages").replaceChildren(el("div", "empty", `Could not reach the sandbox: ${err.message}`));
    });
  });
})();
