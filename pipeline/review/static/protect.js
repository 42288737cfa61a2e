// Cadre review page: voice spans (listen disguised) and moving regions (tracked path, fix a frame).
// Uses app.js's helpers (el, api, act, say, state, drawn, showFrame). Text is written as text only.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let path = null;           // the tracked path shown over the frame (api/path), or null

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

function optional(id) {
  const v = document.getElementById(id).value;
  return v === "" ? null : parseFloat(v);
}

// ---------------------------------------------------------------- voice spans
function voiceUrl(clip, start, end, preset, plain) {
  return `voice.wav?clip=${encodeURIComponent(clip)}&start=${start}&end=${end === null ? "" : end}` +
         `&preset=${encodeURIComponent(preset)}` + (plain ? "&plain=1" : "");
}

function listen(clip, start, end, preset, plain) {
  const audio = document.getElementById("voice-audio");
  delete audio.dataset.duration;
  audio.dataset.playing = plain ? "original" : preset;
  audio.src = voiceUrl(clip, start, end, preset, plain);
  audio.play().catch(() => {});
  say(plain ? "Playing the span as filmed" : `Playing the span disguised (${preset})`);
}

function renderVoices() {
  const list = document.getElementById("voices");
  list.replaceChildren();
  for (const v of state.voices) {
    const span = v.end === null ? `${v.start} s → end` : `${v.start}–${v.end} s`;
    list.append(el("li", {class: "voice", "data-index": String(v.index)}, `${v.clip} ${span}: ${v.preset} ${v.label || ""} `,
      el("button", {type: "button", class: "listen", text: "▶ disguised",
                    onclick: () => listen(v.clip, v.start, v.end, v.preset, false)}), " ",
      el("button", {type: "button", class: "original", text: "▶ original",
                    onclick: () => listen(v.clip, v.start, v.end, v.preset, true)}), " ",
      el("button", {type: "button", class: "remove", text: "remove",
                    onclick: () => act("Voice span removed", "api/voice/remove", {index: v.index}).catch(() => {})})));
  }
  const select = document.getElementById("voice-clip");
  const current = select.value;
  select.replaceChildren(...state.clips.map((c) => el("option", {value: c.clip, text: c.clip})));
  if (current) select.value = current;
}

function markFromPlayer(which) {
  // the proxy's current moment as seconds of the clip it shows (intro bumper skipped)
  const t = document.getElementById("proxy").currentTime;
  const clip = state.clips.find((c) => t >= c.offset && t < c.offset + c.duration) ||
               state.clips.find((c) => c.clip === document.getElementById("voice-clip").value);
  if (!clip) return;
  document.getElementById("voice-clip").value = clip.clip;
  const at = Math.min(clip.start + clip.duration, Math.max(clip.start, clip.start + t - clip.offset));
  document.getElementById(which).value = (Math.round(at * 100) / 100).toFixed(2);
}

function setupVoices() {
  const form = () => [document.getElementById("voice-clip").value, optional("voice-start") || 0,
                      optional("voice-end"), document.getElementById("voice-preset").value];
  document.getElementById("voice-add").addEventListener("click", () => {
    const [clip, start, end, preset] = form();
    act("Voice span added", "api/voice", {clip, start, end, preset, label: document.getElementById("voice-label").value})
      .catch(() => {});     // act has said what failed
  });
  document.getElementById("voice-listen").addEventListener("click", () => listen(...form(), false));
  document.getElementById("voice-mark-start").addEventListener("click", () => markFromPlayer("voice-start"));
  document.getElementById("voice-mark-end").addEventListener("click", () => markFromPlayer("voice-end"));
  const audio = document.getElementById("voice-audio");
  audio.addEventListener("loadedmetadata", () => { audio.dataset.duration = audio.duration.toFixed(3); });
  audio.addEventListener("error", () => {
    fetch(audio.src).then((r) => r.json()).then((b) => say("Listening failed: " + b.error, true))
      .catch(() => say("Listening failed", true));
  });
}

// ---------------------------------------------------------------- moving regions
function nearest(times, t) {
  let best = 0;
  times.forEach((x, i) => { if (Math.abs(x - t) < Math.abs(times[best] - t)) best = i; });
  return best;
}

function centres(boxes) {
  return boxes.map((b) => `${((b[0] + b[2]) / 2).toFixed(4)},${((b[1] + b[3]) / 2).toFixed(4)}`).join(" ");
}

function drawPath() {
  const layer = document.getElementById("path-layer");
  layer.replaceChildren();
  const box = document.getElementById("frame-box");
  const info = document.getElementById("path-info");
  if (!path || box.dataset.clip !== path.clip || box.dataset.ready === undefined) {
    layer.style.display = "none";
    return;
  }
  layer.style.display = "block";
  layer.dataset.index = String(path.index);
  layer.append(svg("polyline", {class: "path", points: centres(path.boxes)}));
  for (const [a, b] of path.lost) {
    const part = path.boxes.filter((_, i) => path.times[i] >= a && path.times[i] < b);
    layer.append(svg("polyline", {class: "lost", points: centres(part)}));
  }
  const t = parseFloat(box.dataset.ready);
  const inside = t >= path.times[0] - 0.5 / path.fps && t <= path.times[path.times.length - 1] + 0.5 / path.fps;
  if (inside) {
    const i = nearest(path.times, t);
    const [x0, y0, x1, y1] = path.boxes[i];
    layer.append(svg("rect", {class: "tracked", x: x0, y: y0, width: x1 - x0, height: y1 - y0}));
    layer.dataset.at = String(path.times[i]);
    layer.dataset.box = path.boxes[i].join(",");
  } else {
    delete layer.dataset.at;
    delete layer.dataset.box;
  }
  const end = path.end === null ? "end" : path.end + " s";
  info.replaceChildren(`${path.clip} ${path.label || ""}: followed over ${path.times.length} frames, ${path.start}–${end}` +
    (inside ? "" : " (this frame is outside its span)"));
  for (const [a, b] of path.lost) {
    info.append(" ", el("button", {type: "button", class: "check", text: `check ${a}–${b} s`,
      title: "the tracker lost the object here: the mask was held and grown",
      onclick: () => showFrame(path.clip, String(a))}));
  }
  if (path.cut !== null) {
    info.append(" ", el("button", {type: "button", class: "check cut", text: `shot cut at ${path.cut} s`,
      title: "the region ends at this cut: nothing is masked after it; if the object is still in the picture, " +
             "draw it again there (Add mask, follows what it covers)",
      onclick: () => showFrame(path.clip, String(path.cut))}));
  }
  fixReady();
}

function fixReady() {
  const box = document.getElementById("frame-box");
  document.getElementById("mask-fix").disabled = !(path && drawn && box.dataset.clip === path.clip);
}

async function showPath(m, done) {
  document.getElementById("mask-clip").value = m.clip;
  const atInput = document.getElementById("mask-at");
  const now = parseFloat(atInput.value);
  const within = !isNaN(now) && now >= m.start && (m.end === null || now <= m.end);
  if (!within) atInput.value = String(m.start);
  say("Following the region through its span…");
  try {
    path = await api(`api/path?index=${m.index}`);
  } catch (e) { say("Path failed: " + e.message, true); return; }
  document.getElementById("path-panel").dataset.index = String(m.index);
  await showFrame(m.clip, atInput.value);
  say(done || `Tracked path of mask ${m.index + 1} shown: change the time and Show frame to follow it; draw a box to fix a frame`);
}

async function fixFrame() {
  const box = document.getElementById("frame-box");
  const at = parseFloat(box.dataset.ready);
  const index = path.index;
  const out = await act("Region fixed at " + at + " s", "api/mask/fix", {index, at, region: drawn});
  const next = out.how === "split" ? index + 1 : index;
  const m = state.masks.find((x) => x.index === next);
  if (m) await showPath(m, `Region fixed at ${at} s — saved to masks.toml; the path from there is shown`);
}

function setupPaths() {
  frameShown.push(() => drawPath());
  document.addEventListener("boxdrawn", fixReady);
  document.getElementById("mask-fix").addEventListener("click", () => fixFrame().catch(() => {}));
}

renderers.push(renderVoices);
document.addEventListener("DOMContentLoaded", () => { setupVoices(); setupPaths(); });
