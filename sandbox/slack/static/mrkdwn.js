/*
 * mrkdwn.js — turns Slack's mrkdwn text into DOM nodes, the way the Slack client shows it.
 *
 * Owns: entity decoding, emphasis, code, quotes, links, mentions, <!date^…> formatting and
 * emoji shortcodes. Every node is built with createElement/textContent: message text is
 * untrusted (it may come from job names), so it is never parsed as HTML.
 * Exposed as window.SlackMrkdwn; no side effects when loaded.
 */
(function (global) {
  "use strict";

  // A small table is enough for what the bot sends; unknown shortcodes stay as typed, as
  // Slack does for custom emoji it cannot find.
  const EMOJI = {
    white_check_mark: "\u2705", heavy_check_mark: "\u2714\ufe0f", x: "\u274c",
    warning: "\u26a0\ufe0f", eyes: "\ud83d\udc40", rotating_light: "\ud83d\udea8",
    moneybag: "\ud83d\udcb0", chart_with_upwards_trend: "\ud83d\udcc8",
    chart_with_downwards_trend: "\ud83d\udcc9", large_green_circle: "\ud83d\udfe2",
    red_circle: "\ud83d\udd34", large_yellow_circle: "\ud83d\udfe1", hourglass: "\u231b",
    hourglass_flowing_sand: "\u23f3", fire: "\ud83d\udd25", repeat: "\ud83d\udd01",
    arrows_counterclockwise: "\ud83d\udd04", zzz: "\ud83d\udca4", mute: "\ud83d\udd07",
    bell: "\ud83d\udd14", no_bell: "\ud83d\udd15", clock3: "\ud83d\udd52",
    alarm_clock: "\u23f0", tada: "\ud83c\udf89", bar_chart: "\ud83d\udcca",
    information_source: "\u2139\ufe0f", mag: "\ud83d\udd0d", wrench: "\ud83d\udd27",
    link: "\ud83d\udd17", memo: "\ud83d\udcdd", calendar: "\ud83d\udcc5",
    thumbsup: "\ud83d\udc4d", "+1": "\ud83d\udc4d", white_circle: "\u26aa",
    black_circle: "\u26ab", robot_face: "\ud83e\udd16", stopwatch: "\u23f1\ufe0f",
    no_entry: "\u26d4", heavy_minus_sign: "\u2796", small_red_triangle: "\ud83d\udd3a",
    small_red_triangle_down: "\ud83d\udd3b", money_with_wings: "\ud83d\udcb8",
  };

  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">" };

  // One pass over the string, so "&amp;lt;" becomes "&lt;" and never "<": Slack decodes
  // exactly these three entities exactly once.
  function decode(s) {
    return String(s).replace(/&(?:amp|lt|gt);/g, (m) => ENTITIES[m]);
  }

  function emojify(s) {
    return s.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
  }

  function textNode(raw) {
    return document.createTextNode(emojify(decode(raw)));
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- dates -------------------------------------------------------------------------

  function ymd(d) {
    const p = (n, w) => String(n).padStart(w, "0");
    return `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1, 2)}-${p(d.getDate(), 2)}`;
  }

  function dayDiff(d, now) {
    const a = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
    const b = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
    return Math.round((a - b) / 86400000);
  }

  /*
   * Formats a <!date^epoch^format|fallback> in the viewer's locale and time zone, as the
   * Slack client does. Returns null when a token is unknown so the caller shows the fallback.
   */
  function formatDate(epoch, format, opts) {
    const o = opts || {};
    const locale = o.locale;
    const now = o.now || new Date();
    const d = new Date(Number(epoch) * 1000);
    if (!Number.isFinite(d.getTime())) return null;
    const fmt = (options) => new Intl.DateTimeFormat(locale, options).format(d);
    const plainDate = {
      date: () => fmt({ dateStyle: "long" }),
      date_short: () => fmt({ year: "numeric", month: "short", day: "numeric" }),
      date_long: () => fmt({ dateStyle: "full" }),
    };
    const pretty = (base, atStart) => {
      const diff = dayDiff(d, now);
      if (Math.abs(diff) > 1) return plainDate[base]();
      let word = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(diff, "day");
      if (atStart) word = word.charAt(0).toLocaleUpperCase(locale) + word.slice(1);
      return word;
    };
    let unknown = false;
    const out = String(format).replace(/\{(\w+)\}/g, (m, token, offset) => {
      switch (token) {
        case "date_num": return ymd(d);
        case "date": case "date_short": case "date_long": return plainDate[token]();
        case "date_pretty": return pretty("date", offset === 0);
        case "date_short_pretty": return pretty("date_short", offset === 0);
        case "date_long_pretty": return pretty("date_long", offset === 0);
        case "time": return fmt({ timeStyle: "short" });
        case "time_secs": return fmt({ timeStyle: "medium" });
        default: unknown = true; return m;
      }
    });
    return unknown ? null : out;
  }

  // ---- control sequences <…> ----------------------------------------------------------

  function safeHref(url) {
    return /^(https?:|mailto:|tel:)/i.test(url) ? url : null;
  }

  function userName(ctx, id) {
    const u = ctx && ctx.users ? ctx.users.get(id) : null;
    return u ? u.display_name || u.real_name || u.name : null;
  }

  // The visible text of a control sequence, used where no markup is possible (code spans).
  function controlText(inner, ctx) {
    const bar = inner.indexOf("|");
    const head = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : null;
    if (head.startsWith("@")) {
      return "@" + (userName(ctx, head.slice(1)) || (label ? decode(label) : head.slice(1)));
    }
    if (head.startsWith("#")) {
      const c = ctx && ctx.channels ? ctx.channels.get(head.slice(1)) : null;
      return "#" + (c ? c.name : label ? decode(label) : head.slice(1));
    }
    if (head.startsWith("!")) {
      const parts = head.slice(1).split("^");
      const kind = parts[0];
      if (kind === "here" || kind === "channel" || kind === "everyone") return "@" + kind;
      if (kind === "subteam") {
        const g = ctx && ctx.usergroups ? ctx.usergroups.get(parts[1]) : null;
        if (g) return "@" + g.handle;
        return label ? decode(label) : "@" + parts[1];
      }
      if (kind === "date") {
        const fallback = label !== null ? decode(label) : "";
        const text = parts.length >= 3 ? formatDate(parts[1], decode(parts[2]), ctx) : null;
        return text === null ? fallback : text;
      }
      return label !== null ? decode(label) : "";
    }
    return label !== null ? decode(label) : decode(head).replace(/^mailto:/i, "");
  }

  function control(inner, ctx) {
    const bar = inner.indexOf("|");
    const head = bar >= 0 ? inner.slice(0, bar) : inner;
    const shown = controlText(inner, ctx);
    if (head.startsWith("@") || head.startsWith("!subteam")) return el("span", "mention", shown);
    if (/^!(here|channel|everyone)$/.test(head)) return el("span", "mention broadcast", shown);
    if (head.startsWith("#")) {
      const a = el("a", "mention channel-link", shown);
      const id = head.slice(1);
      a.href = "#";
      a.dataset.channel = id;
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        if (ctx && ctx.onChannel) ctx.onChannel(id);
      });
      return a;
    }
    if (head.startsWith("!date^")) {
      const parts = head.split("^");
      const link = parts.length >= 4 ? safeHref(decode(parts[3])) : null;
      const node = el(link ? "a" : "time", "date", emojify(shown));
      const d = new Date(Number(parts[1]) * 1000);
      if (Number.isFinite(d.getTime())) node.title = d.toString();
      if (link) { node.href = link; node.target = "_blank"; node.rel = "noopener noreferrer"; }
      return node;
    }
    if (head.startsWith("!")) return document.createTextNode(shown);
    const href = safeHref(decode(head));
    if (!href) return document.createTextNode(shown);
    const a = el("a", "link", shown);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  // ---- inline emphasis ----------------------------------------------------------------

  const MARKS = { "*": "b", _: "i", "~": "s" };
  const WORDY = /[\p{L}\p{N}]/u;

  function canOpen(s, i) {
    const prev = i > 0 ? s[i - 1] : " ";
    const next = s[i + 1];
    return !WORDY.test(prev) && next !== undefined && !/\s/.test(next) && next !== s[i];
  }

  // Finds the closing marker, stepping over <…> and `…` spans, which are atomic.
  function findClose(s, i, mark) {
    for (let k = i + 2; k < s.length; k++) {
      const c = s[k];
      if (c === "<" || c === "`") {
        const end = s.indexOf(c === "<" ? ">" : "`", k + 1);
        if (end > k) { k = end; continue; }
      }
      if (c === mark && !/\s/.test(s[k - 1]) && (k + 1 === s.length || !WORDY.test(s[k + 1]))) {
        return k;
      }
    }
    return -1;
  }

  function inline(s, ctx) {
    const out = [];
    let buf = "";
    const flush = () => { if (buf) { out.push(textNode(buf)); buf = ""; } };
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === "<") {
        const j = s.indexOf(">", i + 1);
        if (j > i + 1) { flush(); out.push(control(s.slice(i + 1, j), ctx)); i = j + 1; continue; }
      } else if (c === "`") {
        const j = s.indexOf("`", i + 1);
        if (j > i + 1) {
          flush();
          out.push(el("code", "inline-code", codeText(s.slice(i + 1, j), ctx)));
          i = j + 1;
          continue;
        }
      } else if (MARKS[c] && canOpen(s, i)) {
        const j = findClose(s, i, c);
        if (j > 0) {
          flush();
          const e = el(MARKS[c]);
          e.append(...inline(s.slice(i + 1, j), ctx));
          out.push(e);
          i = j + 1;
          continue;
        }
      }
      buf += c;
      i++;
    }
    flush();
    return out;
  }

  // Code keeps its characters (no emphasis, no emoji) but still shows control sequences
  // by their visible text.
  function codeText(raw, ctx) {
    return raw.replace(/<([^<>]+)>/g, (m, inner) => "\u0000" + controlText(inner, ctx) + "\u0001")
      .split(/[\u0000\u0001]/).map((part, n) => (n % 2 ? part : decode(part))).join("");
  }

  // ---- lines, quotes, code blocks -----------------------------------------------------

  const QUOTE = /^(?:>|&gt;)\s?/;

  function appendLines(parent, lines, ctx) {
    lines.forEach((line, n) => {
      if (n > 0) parent.append(el("br"));
      parent.append(...inline(line, ctx));
    });
  }

  function renderProse(target, raw, ctx) {
    const lines = raw.split("\n");
    let i = 0;
    while (i < lines.length) {
      const group = [];
      const quoted = QUOTE.test(lines[i]);
      while (i < lines.length && QUOTE.test(lines[i]) === quoted) {
        group.push(quoted ? lines[i].replace(QUOTE, "") : lines[i]);
        i++;
      }
      if (quoted) {
        const q = el("blockquote", "quote");
        appendLines(q, group, ctx);
        target.append(q);
      } else {
        const span = el("span", "prose");
        appendLines(span, group, ctx);
        target.append(span);
      }
    }
  }

  /* Renders mrkdwn text into a new <div class="mrkdwn">. */
  function render(raw, ctx) {
    const root = el("div", "mrkdwn");
    const text = String(raw == null ? "" : raw);
    const fence = /```([\s\S]*?)```/g;
    let last = 0;
    let m;
    while ((m = fence.exec(text)) !== null) {
      const before = text.slice(last, m.index).replace(/\n$/, "");
      if (before) renderProse(root, before, ctx);
      root.append(el("pre", "code-block", codeText(m[1].replace(/^\n/, ""), ctx)));
      last = fence.lastIndex;
      if (text[last] === "\n") last++;
    }
    const rest = text.slice(last);
    if (rest || last === 0) renderProse(root, rest, ctx);
    return root;
  }

  /* plain_text objects: entities decoded once, shortcodes shown as emoji unless emoji:false. */
  function plain(raw, emoji) {
    const t = decode(raw == null ? "" : raw);
    return emoji === false ? t : emojify(t);
  }

  global.SlackMrkdwn = { render, plain, decode, emojify, formatDate, controlText, EMOJI };
})(window);
