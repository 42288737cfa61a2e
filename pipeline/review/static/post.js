// Cadre review page: the post around the video, per network, as the render will publish it, with
// its checks, a copy button and an editor. Every piece of episode text is written with textContent.
"use strict";

function postField(post, key, label, multiline) {
  const current = key === "hashtags" || key === "mentions" ? (post[key] || []).join(" ") : (post[key] || "");
  const input = multiline ? el("textarea", {rows: "5", "aria-label": label}) : el("input", {"aria-label": label});
  input.value = current;
  const scope = el("select", {"aria-label": "applies to"},
    el("option", {value: post.network, text: `${post.network_title} only`}), el("option", {value: "", text: "every network"}));
  const save = el("button", {type: "button", text: "save", onclick: () =>
    act(`Post ${label}`, "api/post", {network: scope.value, key, value: input.value})});
  return el("label", {class: "post-field"}, el("span", {text: label}), input, scope, save);
}

function renderPosts() {
  const root = document.getElementById("posts");
  if (!root) return;
  root.replaceChildren();
  const posts = state.posts || {networks: [], error: ""};
  if (posts.error) root.append(el("p", {class: "check bad", text: posts.error}));
  if (!posts.networks.length && !posts.error) {
    root.append(el("p", {class: "hint", text: "No [post] in episode.toml or campaign.toml: nothing is written beside the files."}));
  }
  for (const post of posts.networks) {
    const box = el("div", {class: "post" + (post.blocked ? " blocked" : ""), "data-network": post.network});
    box.append(el("h3", {text: post.network_title + (post.blocked ? " — blocked, not published" : "")}));
    if (post.title) box.append(el("div", {class: "post-title", text: post.title}));
    const text = el("pre", {class: "post-text", text: post.text});
    const copy = el("button", {type: "button", class: "copy", text: "Copy post", onclick: async () => {
      try {
        await navigator.clipboard.writeText((post.title ? post.title + "\n\n" : "") + post.text);
        say(`${post.network_title} post copied`);
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(text);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        say("select-all done: press Ctrl+C to copy", true);
      }
    }});
    box.append(text, copy);
    const found = el("ul", {class: "post-findings"});
    for (const f of post.findings || []) {
      const where = /^\d+$/.test(f.line) ? `line ${f.line}` : f.line;
      found.append(el("li", {class: "check " + (f.severity === "block" ? "bad" : "warn"), text: `${where}: ${f.message}`}));
    }
    if ((post.findings || []).length) box.append(found);
    else box.append(el("p", {class: "check ok", text: "✓ every post check passed"}));
    if (post.cta !== undefined) {
      const edit = el("details", {class: "post-edit"}, el("summary", {text: "edit"}),
        postField(post, "text", "text", true), postField(post, "title", "title", false),
        postField(post, "cta", "call to action", false), postField(post, "hashtags", "hashtags", false),
        postField(post, "mentions", "mentions", false));
      box.append(edit);
    }
    root.append(box);
  }
}

renderers.push(renderPosts);
