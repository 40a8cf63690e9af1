// The panels around the map: alarms, headcount, search, the person's card, system health.

import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

export class Formatter {
  constructor(timezone) { this.setZone(timezone); }
  setZone(timezone) {
    try {
      this.clockFmt = new Intl.DateTimeFormat("en-GB", {
        timeZone: timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
      });
    } catch {
      this.clockFmt = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    }
  }
  time(ts) { return this.clockFmt.format(new Date(ts * 1000)); }
  ago(ts) {
    const s = Math.max(0, Date.now() / 1000 - ts);
    if (s < 90) return t("time.s_ago", { n: Math.round(s) });
    if (s < 5400) return t("time.min_ago", { n: Math.round(s / 60) });
    return t("time.h_ago", { n: (s / 3600).toFixed(1) });
  }
  metres(m) { return Math.round(m).toLocaleString("en-US"); }
}

// --- alarms -------------------------------------------------------------------------------
export class AlarmPanel {
  constructor({ canAck, describe, onAck, onSelect }) {
    this.alarms = new Map();
    this.canAck = canAck; this.describe = describe; this.onAck = onAck; this.onSelect = onSelect;
    this.muteUntil = 0;
    this.audio = null;
    $("mute").addEventListener("click", () => { this.muteUntil = Date.now() + 60000; this.sound(); });
    setInterval(() => this.sound(), 1000);
  }

  set(list) { this.alarms = new Map(list.map((a) => [a.id, a])); this.render(); }

  change(alarm) {
    if (alarm.state === "cleared") this.alarms.delete(alarm.id); else this.alarms.set(alarm.id, alarm);
    this.render();
  }

  active() { return [...this.alarms.values()]; }
  unacked() { return this.active().filter((a) => a.state === "raised"); }

  render() {
    const list = this.active().sort((a, b) => b.raised_at - a.raised_at);
    const open = list.filter((a) => a.state === "raised");
    const acked = list.filter((a) => a.state !== "raised");
    $("alarms").replaceChildren(...open.map((a) => this.item(a)));
    $("alarms-acked").replaceChildren(...acked.map((a) => this.item(a)));
    $("alarms-empty").hidden = open.length > 0;
    $("acked-title").hidden = acked.length === 0;
    $("count-alarms").textContent = String(open.length);
    $("count-alarms").parentElement.classList.toggle("hot", open.length > 0);
    this.sound();
  }

  item(a) {
    const fmt = this.describe.fmt;
    const li = el("li", { className: `alarm${a.state === "raised" ? " unacked" : ""}` });
    li.dataset.alarm = a.id;
    li.append(el("span", { className: "kind", textContent: t(`alarm.${a.kind}`) }));
    const who = this.describe.subject(a);
    const meta = a.state === "raised"
      ? `${who} · ${fmt.time(a.raised_at)} (${fmt.ago(a.raised_at)})`
      : `${who} · ${t("alarms.acked_by", { user: a.acked_by ?? "" })} ${a.acked_at ? fmt.time(a.acked_at) : ""}`;
    li.append(el("span", { className: "meta", textContent: meta }));
    if (a.state === "raised" && this.canAck()) {
      const b = el("button", { type: "button", className: "ack", textContent: t("alarms.ack") });
      b.addEventListener("click", (e) => { e.stopPropagation(); this.onAck(a); });
      li.append(b);
    }
    li.addEventListener("click", () => this.onSelect(a));
    return li;
  }

  // A two-tone beep every second while an alarm is unacknowledged (and not silenced).
  sound() {
    const on = this.unacked().length > 0 && Date.now() > this.muteUntil;
    document.body.dataset.sounding = String(on);
    if (!on) return;
    try {
      this.audio = this.audio || new AudioContext();
      const ctx = this.audio;
      if (ctx.state === "suspended") ctx.resume();
      for (const [f, at] of [[880, 0], [660, 0.18]]) {
        const osc = ctx.createOscillator(); const gain = ctx.createGain();
        osc.frequency.value = f; gain.gain.value = 0.08;
        osc.connect(gain).connect(ctx.destination);
        osc.start(ctx.currentTime + at); osc.stop(ctx.currentTime + at + 0.15);
      }
    } catch { /* no audio device: the panel still shows the alarm */ }
  }
}

// --- headcount ----------------------------------------------------------------------------
export function renderHeadcount(hc, plan) {
  $("count-underground").textContent = String(hc.underground);
  const rows = [el("tr", { className: "group" }, el("td", { textContent: t("headcount.levels") }), el("td"))];
  for (const lv of plan.levels) {
    rows.push(el("tr", {}, el("td", { textContent: lv.name }),
      el("td", { textContent: String(hc.by_level[lv.id] ?? 0) })));
  }
  rows.push(el("tr", { className: "group" }, el("td", { textContent: t("headcount.zones") }), el("td")));
  for (const z of plan.zones) {
    const n = hc.by_zone[z.id] ?? 0;
    if (!n && z.kind !== "work" && z.kind !== "refuge") continue;
    const cap = z.max_occupancy ? ` / ${z.max_occupancy}` : "";
    const tr = el("tr", {}, el("td", { textContent: z.name }), el("td", { textContent: `${n}${cap}` }));
    if (z.max_occupancy && n > z.max_occupancy) tr.className = "over";
    rows.push(tr);
  }
  const missing = (hc.unaccounted || []).length;
  if (missing) {
    rows.push(el("tr", { className: "over" }, el("td", { textContent: t("headcount.unaccounted") }),
      el("td", { textContent: String(missing) })));
  }
  $("headcount").replaceChildren(...rows);
}

// --- search -------------------------------------------------------------------------------
export class Search {
  constructor(people, onChoose) {
    this.people = people; this.onChoose = onChoose; this.hits = [];
    const input = $("search");
    input.addEventListener("input", () => this.run(input.value));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && this.hits.length) this.onChoose(this.hits[0].id);
      if (e.key === "Escape") { input.value = ""; this.run(""); }
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "/" && document.activeElement !== input) { e.preventDefault(); input.focus(); }
    });
  }

  run(q) {
    q = q.trim().toLowerCase();
    this.hits = !q ? [] : this.people.filter((p) =>
      [p.name, p.id, p.tag, p.personnel_number].some((v) => v && v.toLowerCase().includes(q))).slice(0, 50);
    $("results").replaceChildren(...this.hits.map((p) => {
      const li = el("li", {}, el("span", { textContent: p.name }),
        el("small", { textContent: [p.personnel_number, p.tag].filter(Boolean).join(" · ") }));
      li.dataset.person = p.id;
      li.addEventListener("click", () => this.onChoose(p.id));
      return li;
    }));
  }
}

// --- health -------------------------------------------------------------------------------
export function renderHealth(h) {
  const pct = (a, b) => (b ? Math.round((100 * a) / b) : 100);
  const item = (key, value, bad) => el("span", { className: bad ? "bad" : "" },
    `${t(key)} `, el("b", { textContent: value }));
  const anchors = pct(h.anchors_online, h.anchors_total);
  const tags = pct(h.tags_reporting, h.tags_total);
  const rate = h.ingest_per_s >= 1000 ? `${(h.ingest_per_s / 1000).toFixed(1)}k/s` : `${Math.round(h.ingest_per_s)}/s`;
  $("health").replaceChildren(
    item("health.anchors", `${anchors} % (${h.anchors_online}/${h.anchors_total})`, anchors < 95),
    item("health.tags", `${tags} % (${h.tags_reporting}/${h.tags_total})`, tags < 95),
    item("health.ingest", rate, false),
    item("health.rejected", `${h.rejected_per_s.toFixed(1)}/s`, h.rejected_per_s > 0),
    item("health.tick", h.engine_tick_ms == null ? "–" : `${h.engine_tick_ms.toFixed(0)} ms`, false),
    item("health.clients", String(h.ws_clients), false),
  );
}
