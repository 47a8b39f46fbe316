/*
 * blocks.js — renders Block Kit blocks (header, section, context, divider, actions, image,
 * a little rich_text) into DOM, close enough to Slack to judge a message by eye.
 *
 * Interactive elements do not talk to the server themselves: they call
 * ctx.onAction(element, block, extra, node), and app.js shows the confirm dialog and posts
 * the click. Exposed as window.SlackBlocks; no side effects when loaded.
 */
(function (global) {
  "use strict";
  const M = () => global.SlackMrkdwn;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function textObject(obj, ctx, cls) {
    if (!obj) return el("span", cls);
    if (obj.type === "mrkdwn") {
      const r = M().render(obj.text, ctx);
      if (cls) r.classList.add(cls);
      return r;
    }
    return el("span", cls ? `plain ${cls}` : "plain", M().plain(obj.text, obj.emoji));
  }

  // Images may point anywhere; the sandbox has no network, so a broken image turns into a
  // labelled box instead of a broken-image icon.
  function image(url, alt, cls) {
    const img = el("img", cls);
    img.alt = alt || "";
    img.title = alt || "";
    img.loading = "lazy";
    img.addEventListener("error", () => {
      const box = el("span", `${cls} image-missing`, alt || "image");
      img.replaceWith(box);
    });
    img.src = url || "";
    return img;
  }

  function optionLabel(opt) {
    return opt && opt.text ? M().plain(opt.text.text, opt.text.emoji) : "";
  }

  function dataIds(node, element, block) {
    if (element.action_id) node.dataset.actionId = element.action_id;
    if (block && block.block_id) node.dataset.blockId = block.block_id;
  }

  function button(element, block, ctx) {
    const style = element.style === "primary" || element.style === "danger" ? element.style : "default";
    const b = el("button", `btn btn-${style}`, M().plain(element.text && element.text.text));
    b.type = "button";
    dataIds(b, element, block);
    if (element.url) {
      b.classList.add("btn-url");
      b.title = element.url;
      b.append(el("span", "external", " \u2197"));
    }
    b.addEventListener("click", () => ctx.onAction(element, block, {}, b));
    return b;
  }

  function overflow(element, block, ctx) {
    const wrap = el("span", "overflow");
    const b = el("button", "btn btn-default btn-overflow", "\u22ee");
    b.type = "button";
    b.setAttribute("aria-label", "More actions");
    dataIds(b, element, block);
    const menu = el("div", "menu");
    menu.hidden = true;
    (element.options || []).forEach((opt) => {
      const item = el("button", "menu-item", optionLabel(opt));
      item.type = "button";
      item.dataset.value = opt.value;
      item.addEventListener("click", () => {
        menu.hidden = true;
        ctx.onAction(element, block, { selected_option: opt }, b);
      });
      menu.append(item);
    });
    b.addEventListener("click", (ev) => {
      ev.stopPropagation();
      const wasHidden = menu.hidden;
      document.querySelectorAll(".menu").forEach((m) => { m.hidden = true; });
      menu.hidden = !wasHidden;
    });
    wrap.append(b, menu);
    return wrap;
  }

  function staticSelect(element, block, ctx) {
    const sel = el("select", "select");
    dataIds(sel, element, block);
    const ph = el("option", "", element.placeholder ? M().plain(element.placeholder.text) : "Select an item");
    ph.value = "";
    ph.disabled = true;
    sel.append(ph);
    const byValue = new Map();
    const addOptions = (parent, options) => (options || []).forEach((opt) => {
      const o = el("option", "", optionLabel(opt));
      o.value = opt.value;
      byValue.set(opt.value, opt);
      parent.append(o);
    });
    addOptions(sel, element.options);
    (element.option_groups || []).forEach((g) => {
      const og = el("optgroup");
      og.label = g.label ? M().plain(g.label.text) : "";
      addOptions(og, g.options);
      sel.append(og);
    });
    const initial = element.initial_option ? element.initial_option.value : "";
    sel.value = initial;
    if (!initial) ph.selected = true;
    let committed = sel.value;
    sel.addEventListener("change", () => {
      const opt = byValue.get(sel.value);
      const revert = () => { sel.value = committed; };
      const accept = () => { committed = sel.value; };
      ctx.onAction(element, block, { selected_option: opt, revert, accept }, sel);
    });
    return sel;
  }

  function element(e, block, ctx) {
    switch (e.type) {
      case "button": return button(e, block, ctx);
      case "overflow": return overflow(e, block, ctx);
      case "static_select": return staticSelect(e, block, ctx);
      case "image": return image(e.image_url, e.alt_text, "accessory-image");
      default: return el("span", "unsupported", `[${e.type}]`);
    }
  }

  function section(b, ctx) {
    const row = el("div", "block block-section");
    const body = el("div", "section-body");
    if (b.text) body.append(textObject(b.text, ctx, "section-text"));
    if (b.fields && b.fields.length) {
      const grid = el("div", "section-fields");
      b.fields.forEach((f) => grid.append(textObject(f, ctx, "field")));
      body.append(grid);
    }
    row.append(body);
    if (b.accessory) {
      const acc = el("div", "accessory");
      acc.append(element(b.accessory, b, ctx));
      row.append(acc);
    }
    return row;
  }

  function context(b, ctx) {
    const row = el("div", "block block-context");
    (b.elements || []).forEach((e) => {
      row.append(e.type === "image" ? image(e.image_url, e.alt_text, "context-image")
        : textObject(e, ctx, "context-text"));
    });
    return row;
  }

  function actions(b, ctx) {
    const row = el("div", "block block-actions");
    (b.elements || []).forEach((e) => row.append(element(e, b, ctx)));
    return row;
  }

  function imageBlock(b, ctx) {
    const box = el("div", "block block-image");
    if (b.title) box.append(textObject(b.title, ctx, "image-title"));
    box.append(image(b.image_url, b.alt_text, "image"));
    return box;
  }

  // rich_text is what Slack stores for messages typed by people; the bot does not send it,
  // so a readable approximation is enough.
  function richText(b, ctx) {
    const box = el("div", "block block-rich mrkdwn");
    const styled = (node, style) => {
      let n = node;
      for (const [k, tag] of [["code", "code"], ["strike", "s"], ["italic", "i"], ["bold", "b"]]) {
        if (style && style[k]) { const w = el(tag); w.append(n); n = w; }
      }
      return n;
    };
    const inlineEl = (e) => {
      switch (e.type) {
        case "text": return styled(document.createTextNode(e.text), e.style);
        case "user": return el("span", "mention", M().controlText(`@${e.user_id}`, ctx));
        case "channel": return el("span", "mention", M().controlText(`#${e.channel_id}`, ctx));
        case "usergroup": return el("span", "mention", M().controlText(`!subteam^${e.usergroup_id}`, ctx));
        case "broadcast": return el("span", "mention broadcast", `@${e.range}`);
        case "emoji": return document.createTextNode(M().emojify(`:${e.name}:`));
        case "link": {
          const a = el("a", "link", e.text || e.url);
          if (/^https?:/i.test(e.url)) { a.href = e.url; a.target = "_blank"; a.rel = "noopener noreferrer"; }
          return a;
        }
        default: return document.createTextNode("");
      }
    };
    (b.elements || []).forEach((sec) => {
      const tag = { rich_text_preformatted: "pre", rich_text_quote: "blockquote" }[sec.type] || "div";
      const node = el(tag, tag === "pre" ? "code-block" : tag === "blockquote" ? "quote" : "");
      const items = sec.type === "rich_text_list" ? sec.elements : [sec];
      items.forEach((it) => (it.elements || []).forEach((e) => node.append(inlineEl(e))));
      box.append(node);
    });
    return box;
  }

  function block(b, ctx) {
    switch (b.type) {
      case "header": {
        const h = el("div", "block block-header");
        h.append(textObject(b.text, ctx));
        return h;
      }
      case "section": return section(b, ctx);
      case "context": return context(b, ctx);
      case "divider": return el("hr", "block block-divider");
      case "actions": return actions(b, ctx);
      case "image": return imageBlock(b, ctx);
      case "rich_text": return richText(b, ctx);
      case "markdown": {
        const m = el("div", "block block-markdown");
        m.append(M().render(b.text, ctx));
        return m;
      }
      default: return el("div", "block unsupported", `[unsupported block: ${b.type}]`);
    }
  }

  /* Renders a message's blocks into a new <div class="blocks">. */
  function render(blocks, ctx) {
    const root = el("div", "blocks");
    (blocks || []).forEach((b) => {
      const node = block(b, ctx);
      if (b.block_id) node.dataset.blockId = b.block_id;
      root.append(node);
    });
    return root;
  }

  global.SlackBlocks = { render, textObject };
})(window);
