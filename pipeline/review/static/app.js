// Cadre review page. Every piece of episode text is written with textContent, never as HTML.
"use strict";

let state = null;
let drawn = null;          // [x0, y0, x1, y1] fractions of the frame, or null
const renderers = [];      // more parts of the page (protect.js) drawn at every load
const frameShown = [];     // called with (clip, seconds) when a source frame is shown

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function say(text, isError) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = isError ? "error" : "";
}

async function api(path, data) {
  const opts = data === undefined ? {} : {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify(data)};
  const res = await fetch(path, opts);
  const body = await res.json().catch(() => ({error: res.statusText}));
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

async function act(what, path, data) {
  try {
    const out = await api(path, data);
    await load();
    say(what + " — saved to " + (out.saved || "disk"));
    return out;
  } catch (e) {
    say(what + " failed: " + e.message, true);
    throw e;
  }
}

function seconds(value) { return Math.round(parseFloat(value) * 1000) / 1000; }

// ---------------------------------------------------------------- captions
function cueText(cue) {
  const box = el("div", {class: "text", title: "click to edit"});
  for (const tok of cue.tokens) {
    if (tok.newline) box.append(el("br"));
    else if (box.childNodes.length) box.append(" ");
    const cls = "w" + (tok.low ? " low" : "") + (tok.bleep ? " bleep" : "") + (tok.spell ? " spell" : "");
    const why = [tok.low ? "low confidence" : "", tok.spell ? "not in the dictionary (correct it, or add it to the glossary)" : ""];
    box.append(el("span", {class: cls, text: tok.text, title: why.filter(Boolean).join("; ")}));
  }
  return box;
}

function clipCues(clip) {
  const rows = [];
  for (const row of document.querySelectorAll(`.clip[data-clip="${CSS.escape(clip.clip)}"] .cue`)) {
    rows.push({start: seconds(row.querySelector(".start").value), end: seconds(row.querySelector(".end").value),
               text: row.dataset.text});
  }
  return rows;
}

function saveClip(clip, what) {
  return act(what, "api/captions", {clip: clip.clip, cues: clipCues(clip)});
}

function editText(clip, row, box) {
  if (row.querySelector("textarea")) return;
  const area = el("textarea", {class: "edit", "aria-label": "caption text"});
  area.value = row.dataset.text;
  box.replaceWith(area);
  area.focus();
  let done = false;
  const finish = (keep) => {
    if (done) return;
    done = true;
    if (keep && area.value !== row.dataset.text) {
      row.dataset.text = area.value;
      saveClip(clip, "Caption edited");
    } else {
      area.replaceWith(box);
    }
  };
  area.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); finish(true); }
    if (ev.key === "Escape") finish(false);
  });
  area.addEventListener("blur", () => finish(true));
}

function seekTo(seconds) {
  const video = document.getElementById("proxy");
  video.currentTime = Math.max(0, seconds);
  if (video.src) video.play().catch(() => {});
}

// keyboard, as in video editors: space or K plays/pauses, J and L step one frame back and forward
document.addEventListener("keydown", (ev) => {
  const tag = (ev.target && ev.target.tagName) || "";
  if (["INPUT", "TEXTAREA", "SELECT", "BUTTON"].includes(tag) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const video = document.getElementById("proxy");
  const frame = 1 / ((state && state.fps) || 30);
  if (ev.key === " " || ev.key === "k" || ev.key === "K") {
    ev.preventDefault();
    if (video.paused) video.play().catch(() => {}); else video.pause();
  } else if (ev.key === "j" || ev.key === "J") {
    video.pause();
    video.currentTime = Math.max(0, video.currentTime - frame);
  } else if (ev.key === "l" || ev.key === "L") {
    video.pause();
    video.currentTime = video.currentTime + frame;
  }
});

function renderCaptions() {
  const root = document.getElementById("captions");
  root.replaceChildren();
  for (const clip of state.clips) {
    const head = el("h3", {text: `${clip.clip} — ${clip.srt}` + (clip.source === "machine" ? " (machine words, not saved yet)" : "")});
    const box = el("div", {class: "clip", "data-clip": clip.clip}, head);
    for (const w of clip.warnings) box.append(el("p", {class: "hint", text: w}));
    clip.cues.forEach((cue, i) => {
      const row = el("div", {class: "cue", "data-index": String(i)});
      row.dataset.text = cue.text;
      const start = el("input", {class: "start", type: "number", step: "0.01", min: "0", "aria-label": "start"});
      const end = el("input", {class: "end", type: "number", step: "0.01", min: "0", "aria-label": "end"});
      start.value = cue.start.toFixed(3);
      end.value = cue.end.toFixed(3);
      start.addEventListener("change", () => saveClip(clip, "Cue timing changed"));
      end.addEventListener("change", () => saveClip(clip, "Cue timing changed"));
      const at = clip.offset + cue.start - clip.start;        // the cue's moment on the proxy's timeline
      const seek = el("button", {class: "seek", type: "button", title: "play from here",
                                 text: "▶ " + at.toFixed(1) + " s"});
      seek.addEventListener("click", () => seekTo(at));
      const text = cueText(cue);
      text.addEventListener("click", (ev) => {
        if (document.getElementById("bleep-mode").checked && ev.target.classList.contains("w")) {
          act("Bleep added", "api/bleep", {term: ev.target.textContent.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "")});
          return;
        }
        editText(clip, row, text);
      });
      row.append(seek, start, end, text);
      box.append(row);
    });
    if (!clip.cues.length) box.append(el("p", {class: "hint", text: "no captions"}));
    root.append(box);
  }
  document.getElementById("middle").classList.toggle("bleep-on", document.getElementById("bleep-mode").checked);
}

// ---------------------------------------------------------------- faces, masks, bleeps
function renderTracks() {
  const root = document.getElementById("tracks");
  root.replaceChildren();
  if (!state.tracks.length) root.append(el("p", {class: "hint", text: state.redaction === "none" ?
    "face masking is off for this episode" : "no faces found"}));
  for (const t of state.tracks) {
    const src = `thumb?clip=${encodeURIComponent(t.clip)}&track=${encodeURIComponent(t.id)}`;
    const card = el("button", {class: "track" + (t.kept ? " kept" : ""), type: "button", "data-track": t.id,
                               "data-clip": t.clip, "aria-pressed": String(t.kept)},
      el("img", {src, alt: "face " + t.id, loading: "lazy"}),
      el("span", {class: "state", text: t.kept ? "KEPT VISIBLE" : "masked"}),
      el("span", {text: `${t.clip} ${t.from}–${t.to} s`}),
      el("span", {text: t.id}));
    card.addEventListener("click", () => act(t.kept ? "Face masked" : "Face kept visible", "api/track",
                                             {clip: t.clip, track: t.id, keep: !t.kept}));
    const clip = state.clips.find((c) => c.clip === t.clip);
    const seek = el("button", {class: "seek", type: "button", title: "play from this face's first frame",
                               text: "▶ " + t.from + " s"});
    seek.addEventListener("click", () => seekTo(clip ? clip.offset + t.from - clip.start : 0));
    root.append(el("div", {class: "track-row"}, card, seek));
  }
}

function renderMasks() {
  const list = document.getElementById("masks");
  list.replaceChildren();
  for (const m of state.masks) {
    const span = m.end === null ? `${m.start}s → end` : `${m.start}–${m.end} s`;
    const what = m.whole_frame ? "whole frame" : m.region.map((v) => v.toFixed(3)).join(", ");
    const row = el("li", {class: "mask" + (m.moving ? " moving" : ""), "data-index": String(m.index)},
                   `${m.clip} ${span}: ${what} ${m.label || ""} `);
    if (m.moving) row.append(el("span", {class: "tag", text: "follows"}), " ",
      el("button", {type: "button", class: "path", text: "path", title: "show the tracked path and fix a frame",
                    onclick: () => showPath(m)}), " ");
    row.append(el("button", {type: "button", class: "remove", text: "remove",
                             onclick: () => act("Mask removed", "api/mask/remove", {index: m.index})}));
    list.append(row);
  }
  const select = document.getElementById("mask-clip");
  const current = select.value;
  select.replaceChildren(...state.clips.map((c) => el("option", {value: c.clip, text: c.clip})));
  if (current) select.value = current;
  const bleeps = document.getElementById("bleeps");
  bleeps.replaceChildren();
  for (const term of state.bleep.terms) {
    bleeps.append(el("li", {class: "bleep-term"}, term + " ",
      el("button", {type: "button", text: "remove", onclick: () => act("Bleep removed", "api/bleep", {term, remove: true})})));
  }
  if (state.bleep.spans.length) bleeps.append(el("li", {class: "hint",
    text: `${state.bleep.spans.length} span(s) bleeped with a ${state.bleep.sound}`}));
}

function renderChecks() {
  const root = document.getElementById("checks");
  root.replaceChildren();
  for (const net of state.checks) {
    const table = el("table", {class: "network", "data-network": net.network});
    for (const c of net.checks) {
      const cls = "check " + (c.ok ? "ok" : c.level === "error" ? "bad" : "warn");
      table.append(el("tr", {class: cls}, el("td", {text: c.ok ? "✓" : "✗"}), el("td", {text: c.name}),
                      el("td", {text: String(c.value)}), el("td", {text: c.expected})));
    }
    root.append(el("h3", {text: net.title}), table);
  }
}

function renderHeader() {
  document.getElementById("title").textContent = `${state.title} (${state.episode})`;
  const badge = document.getElementById("approval");
  const a = state.approval;
  badge.className = "badge" + (a.approved ? " ok" : "");
  badge.textContent = a.approved ? `approved by ${a.by} on ${a.at}` :
    a.by ? `changed since ${a.by}'s approval: ${a.changes.join(", ")}` : "not approved";
}

function short(hex) { return hex ? hex + "…" : "?"; }

function renderHistory() {
  const h = state.history;
  const ap = document.getElementById("last-approval");
  if (!h.approval) ap.textContent = "never approved";
  else {
    const a = h.approval;
    ap.replaceChildren(el("span", {class: "who", text: `${a.by}, ${a.at}`}), " — fingerprint ",
      el("code", {class: "fingerprint", text: short(a.fingerprint)}), " ",
      el("span", {class: "validity " + (a.valid ? "ok" : "bad"),
                  text: a.valid ? "still valid (the episode is unchanged)" :
                    "no longer valid: " + (a.changes.join(", ") || "changed")}));
  }
  const pub = document.getElementById("last-publication");
  if (!h.publication) { pub.textContent = "never published"; return; }
  const p = h.publication;
  const files = el("ul", {class: "files"});
  for (const f of p.files) files.append(el("li", {}, el("span", {class: "file", text: f.file}), " ",
                                                 el("code", {class: "sha", text: short(f.sha256)})));
  pub.replaceChildren(el("span", {class: "when", text: `${p.at} by ${p.os_user}`}), " — ",
    el("span", {class: "networks", text: p.networks.join(", ")}), " — ",
    el("span", {class: "approved " + (p.approved ? "ok" : "bad"),
                text: p.approved ? "as approved" : "not what the current approval covers"}), files);
}

function renderProxy(p) {
  const label = document.getElementById("proxy-state");
  if (!p) { label.textContent = "proxy off"; return; }
  label.textContent = p.state === "running" ? `rendering ${p.done}/${p.total} frames…` :
    p.state === "failed" ? "failed: " + p.error : p.state === "done" ? `ready (${p.elapsed} s)` : "not rendered";
  const video = document.getElementById("proxy");
  if (p.state === "done" && video.dataset.version !== String(p.version)) {
    video.dataset.version = String(p.version);
    video.src = "proxy.mp4?v=" + p.version;
  }
  if (p.state === "running") setTimeout(pollProxy, 1000);
}

async function pollProxy() {
  try { renderProxy(await api("api/proxy")); } catch (e) { say("proxy: " + e.message, true); }
}

async function load() {
  state = await api("api/state");
  renderHeader();
  renderCaptions();
  renderTracks();
  renderMasks();
  renderChecks();
  renderHistory();
  for (const draw of renderers) draw();
  const video = document.getElementById("proxy");
  // before the proxy plays: a frame as published (masked, captioned), never a source frame; with the
  // strip of published frames, masks outlined. Both change when a file of the episode does.
  if (state.published && video.dataset.published !== state.published) {
    video.dataset.published = state.published;
    const k = encodeURIComponent(state.published);
    video.poster = `poster.jpg?k=${k}`;
    document.getElementById("published-strip").src = `published.jpg?k=${k}`;
    document.getElementById("published-link").href = `published.jpg?k=${k}`;
  }
  renderProxy(state.proxy);
  document.body.dataset.loaded = String(Date.now());
}

// ---------------------------------------------------------------- drawing a mask box
function showFrame(clip, at) {
  // the source frame of ``clip`` at ``at`` seconds, to draw on; resolves once it is shown
  const img = document.getElementById("frame");
  const frameBox = document.getElementById("frame-box");
  delete frameBox.dataset.ready;
  return new Promise((resolve) => {
    img.onload = () => {
      frameBox.dataset.ready = at;
      frameBox.dataset.clip = clip;
      for (const f of frameShown) f(clip, parseFloat(at));
      resolve();
    };
    img.src = `frame?clip=${encodeURIComponent(clip)}&t=${encodeURIComponent(at)}`;
    document.getElementById("draw-box").style.display = "none";
    drawn = null;
    document.getElementById("mask-add").disabled = true;
    if (!document.getElementById("mask-start").value) document.getElementById("mask-start").value = at;
  });
}

function setupDrawing() {
  const img = document.getElementById("frame");
  const box = document.getElementById("draw-box");
  let origin = null;
  const frac = (ev) => {
    const r = img.getBoundingClientRect();
    return [Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height))];
  };
  const show = (a, b) => {
    const [x0, x1] = [Math.min(a[0], b[0]), Math.max(a[0], b[0])];
    const [y0, y1] = [Math.min(a[1], b[1]), Math.max(a[1], b[1])];
    Object.assign(box.style, {display: "block", left: x0 * 100 + "%", top: y0 * 100 + "%",
                              width: (x1 - x0) * 100 + "%", height: (y1 - y0) * 100 + "%"});
    return [x0, y0, x1, y1];
  };
  img.addEventListener("dragstart", (ev) => ev.preventDefault());
  img.addEventListener("mousedown", (ev) => { origin = frac(ev); drawn = null; ev.preventDefault(); });
  window.addEventListener("mousemove", (ev) => { if (origin) show(origin, frac(ev)); });
  window.addEventListener("mouseup", (ev) => {
    if (!origin) return;
    drawn = show(origin, frac(ev));
    origin = null;
    const ok = drawn[2] - drawn[0] > 0.005 && drawn[3] - drawn[1] > 0.005;
    document.getElementById("mask-add").disabled = !ok;
    if (ok) document.dispatchEvent(new CustomEvent("boxdrawn"));
    if (ok) say("Box drawn: set its time span, then Add mask");
  });
  document.getElementById("mask-load").addEventListener("click", () => {
    showFrame(document.getElementById("mask-clip").value, document.getElementById("mask-at").value || "0");
  });
  document.getElementById("mask-whole").addEventListener("click", async () => {
    const end = document.getElementById("mask-end").value;
    await act("Whole-frame mask added", "api/mask", {clip: document.getElementById("mask-clip").value,
      whole_frame: true, start: parseFloat(document.getElementById("mask-start").value || "0"),
      end: end === "" ? null : parseFloat(end), label: document.getElementById("mask-label").value});
  });
  document.getElementById("mask-add").addEventListener("click", async () => {
    const end = document.getElementById("mask-end").value;
    await act("Mask added", "api/mask", {clip: document.getElementById("mask-clip").value, region: drawn,
      start: parseFloat(document.getElementById("mask-start").value || "0"), end: end === "" ? null : parseFloat(end),
      label: document.getElementById("mask-label").value, moving: document.getElementById("mask-moving").checked});
    box.style.display = "none";
    drawn = null;
    document.getElementById("mask-add").disabled = true;
  });
}

function setup() {
  document.getElementById("replace-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = await act("Replace all", "api/replace", {find: document.getElementById("find").value,
      replace: document.getElementById("replace").value, whole_word: document.getElementById("whole-word").checked,
      case: document.getElementById("match-case").checked});
    say(`Replaced ${out.total} occurrence(s)`);
  });
  document.getElementById("bleep-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act("Bleep added", "api/bleep", {term: document.getElementById("bleep-term").value});
  });
  document.getElementById("bleep-mode").addEventListener("change", renderCaptions);
  document.getElementById("approve-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const out = await api("api/approve", {by: document.getElementById("approver").value});
      await load();
      say(`Approved by ${out.by} — saved to approval.json`);
    } catch (e) { say("Approve failed: " + e.message, true); }
  });
  document.getElementById("proxy-update").addEventListener("click", async () => {
    try { renderProxy(await api("api/proxy", {})); } catch (e) { say("proxy: " + e.message, true); }
  });
  setupDrawing();
  load().catch((e) => say("Could not load the episode: " + e.message, true));
}

document.addEventListener("DOMContentLoaded", setup);
