/*
 * interact.js — what a person does on the sandbox page: the composer (slash commands,
 * plain messages, the "working…" state and Slack's error lines) and clicks on Block Kit
 * elements, behind a confirm dialog when the element has one.
 *
 * Uses the page state through window.SandboxApp (app.js) at call time. Exposed as
 * window.SandboxInteract; no side effects when loaded.
 */
(function (global) {
  "use strict";
  const $ = (sel) => document.querySelector(sel);
  const A = () => global.SandboxApp;
  const S = () => global.SandboxApp.S;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- composer -----------------------------------------------------------------------

  // Errors the page itself shows (as Slackbot does), never sent to the server.
  function localNotice(text) {
    S().localSeq += 1;
    const m = {
      id: `local-${S().localSeq}`, ts: String(Date.now() / 1000), channel: S().channel, user: null,
      bot_id: null, username: "Slackbot", text, blocks: [], thread_ts: null, reply_count: 0,
      ephemeral: true, edited: false, deleted: false, local: true,
    };
    S().notices.push(m);
    S().messages.push(m);
    S().stickToBottom = true;
    A().renderMessages();
  }

  function commandOutcome(r, command) {
    if (!r || !r.request_id || S().handledRequests.has(r.request_id)) return;
    S().handledRequests.add(r.request_id);
    if (r.status === "ok") return;
    // Slack shows any refused or failed delivery (e.g. a bad signature's 401) this way.
    const name = command || (S().pending && S().pending.command) || "/jobs";
    const code = r.status === "timeout" ? "operation_timeout" : r.detail || "dispatch_failed";
    localNotice(`${name} failed with the error "${code}"`);
  }

  function setWorking(text) {
    const w = $("#working");
    w.hidden = !text;
    w.textContent = text || "";
  }

  async function send(text) {
    const trimmed = text.trim();
    if (!trimmed) return;
    const command = trimmed.startsWith("/") ? trimmed.split(/\s+/)[0] : null;
    S().pending = { command };
    if (command) setWorking(`${command}: working\u2026`);
    try {
      const r = await A().api("/sandbox/api/command", { user: S().me, channel: S().channel, text: trimmed });
      if (!r.ok && r.error === "unknown_command") {
        localNotice(`${command} is not a valid command. In Slack, all messages that start with ` +
          `the "/" character are interpreted as commands.`);
      } else if (!r.ok) {
        localNotice(command ? `${command} failed with the error "${r.error || "dispatch_failed"}"`
          : `Your message could not be sent (${r.error || "error"}).`);
      } else if (command) {
        commandOutcome(r, command);
      } else {
        A().loadMessages();
      }
    } catch (err) {
      localNotice(`${command || "Message"} failed: the sandbox did not answer (${err.message}).`);
    } finally {
      setWorking("");
    }
  }

  // Thread replies are plain messages: Slack does not run app slash commands in threads.
  async function reply(text) {
    const trimmed = text.trim();
    const thread = S().thread;
    if (!trimmed || !thread) return;
    const note = $("#thread-note");
    note.hidden = true;
    if (trimmed.startsWith("/")) {
      note.textContent = `${trimmed.split(/\s+/)[0]} is not supported in threads. Sorry!`;
      note.hidden = false;
      return;
    }
    const r = await A().api("/sandbox/api/command", {
      user: S().me, channel: thread.channel, text: trimmed, thread_ts: thread.ts,
    });
    if (!r.ok) {
      note.textContent = `Your reply could not be sent (${r.error || "error"}).`;
      note.hidden = false;
    }
  }

  function onEnter(input, submit) {
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        const text = input.value;
        input.value = "";
        input.dispatchEvent(new Event("input"));
        submit(text);
      }
    });
  }

  function setupComposer() {
    const input = $("#composer-input");
    const hint = $("#command-hint");
    input.addEventListener("input", () => {
      hint.hidden = !(input.value.startsWith("/") && !input.value.includes(" "));
    });
    onEnter(input, send);
    onEnter($("#thread-input"), reply);
    $("#composer").addEventListener("submit", (ev) => ev.preventDefault());
    $("#thread-composer").addEventListener("submit", (ev) => ev.preventDefault());
  }

  // ---- actions and confirm dialogs ----------------------------------------------------

  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const overlay = $("#confirm");
      const tx = (o, dflt) => (o ? SlackMrkdwn.plain(o.text, o.emoji) : dflt);
      $("#confirm-title").textContent = tx(confirm.title, "Are you sure?");
      const body = $("#confirm-text");
      body.replaceChildren(confirm.text ? SlackBlocks.textObject(confirm.text, A().renderCtx()) : "");
      const yes = $("#confirm-yes");
      const no = $("#confirm-no");
      yes.textContent = tx(confirm.confirm, "Yes");
      no.textContent = tx(confirm.deny, "Cancel");
      yes.className = `btn ${confirm.style === "danger" ? "btn-danger" : "btn-primary"}`;
      overlay.hidden = false;
      yes.focus();
      const done = (answer) => {
        overlay.hidden = true;
        yes.onclick = no.onclick = overlay.onkeydown = null;
        resolve(answer);
      };
      yes.onclick = () => done(true);
      no.onclick = () => done(false);
      overlay.onkeydown = (ev) => { if (ev.key === "Escape") done(false); };
    });
  }

  async function onAction(element, block, extra, node) {
    const msgNode = node.closest(".msg");
    const message = msgNode ? msgNode.dataset.id : null;
    if (element.confirm && !(await confirmDialog(element.confirm))) {
      if (extra.revert) extra.revert();
      return;
    }
    if (extra.accept) extra.accept();
    if (element.url) window.open(element.url, "_blank", "noopener");
    const body = {
      user: S().me, channel: S().thread && node.closest("#thread") ? S().thread.channel : S().channel,
      message_id: message, action_id: element.action_id, block_id: block && block.block_id,
    };
    if (element.value !== undefined) body.value = element.value;
    if (extra.selected_option) body.selected_option = extra.selected_option;
    const status = msgNode ? msgNode.querySelector(".action-status") : null;
    node.classList.add("busy");
    node.disabled = true;
    try {
      const r = await A().api("/sandbox/api/click", body);
      let problem = null;
      if (!r.ok) problem = `This action failed (${r.error || "error"}).`;
      else if (r.status === "timeout") problem = "The app did not respond in time.";
      else if (r.status === "error") problem = `The app answered with HTTP ${r.http_status}.`;
      if (status && document.contains(status)) {
        status.hidden = !problem;
        status.textContent = problem ? `\u26a0\ufe0f ${problem}` : "";
      }
    } finally {
      node.classList.remove("busy");
      node.disabled = false;
    }
  }

  global.SandboxInteract = { onAction, setupComposer, commandOutcome };
})(window);
