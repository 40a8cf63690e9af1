// The emergency view: declare, account, route, evacuate, block, print the rescue sheet, end,
// and replay afterwards. Talks only to the public API (the console's Api class and session
// token); redraws every 2 s. Words in ru, kk and en (words.js), as chosen in the console.

import { Api, ApiError } from "../js/api.js";
import { Geometry } from "../js/geometry.js";
import { MapView } from "../js/map.js";
import { TagStore, OK, ALARM, STALE, SURFACE } from "../js/tags.js";
import { t } from "../js/i18n.js";
import { applyWords, pickLanguage, renderLanguageSwitch, setLanguage, w } from "./words.js";

const $ = (id) => document.getElementById(id);
const api = new Api();
const POLL_MS = 2000;

// Colours mean: red no open way out, amber stale or uncertain, white unaccounted, grey safe.
class EmergencyTags extends TagStore {
  classify(row) {
    if (row.safety !== "unaccounted") return SURFACE;
    if (row.exit_m === null) return ALARM;
    if (row.stale || row.uncertain) return STALE;
    return OK;
  }
}

// The console's map with the blocked stretches and the place of the emergency drawn on top.
class EmergencyMap extends MapView {
  constructor(...args) {
    super(...args);
    this.blocked = [];
    this.fire = null;
  }

  draw(now) {
    super.draw(now);
    const { ctx, scale } = this;
    const px = 1 / scale;
    ctx.strokeStyle = "#ff4d4f";
    ctx.lineWidth = 9 * px;
    ctx.setLineDash([8 * px, 5 * px]);
    for (const b of this.blocked) {
      if (!this.geo.onLevel(b.tunnel, this.level)) continue;
      const p = this.geo.spanPath(b.tunnel, b.from_m, Math.max(b.to_m, b.from_m + 0.5));
      if (!p) continue;
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
      for (let i = 2; i < p.length; i += 2) ctx.lineTo(p[i], p[i + 1]);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    if (this.fire && this.geo.onLevel(this.fire.tunnel, this.level)) {
      const [x, y] = this.geo.pointAt(this.fire.tunnel, this.fire.offset_m);
      const r = 12 * px;
      ctx.beginPath();
      ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
      ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
      ctx.lineWidth = 4 * px;
      ctx.stroke();
      this.drawTags(now, px); // people stay visible on top of the marker
    }
  }
}

const fmtTime = (ts) => (ts ? new Date(ts * 1000).toISOString().slice(11, 19) : "–");
const fmtAge = (s) => {
  if (s === null || s === undefined) return w("never");
  return s < 120 ? `${Math.round(s)} ${w("sec")}` : `${(s / 60).toFixed(1)} ${w("min")}`;
};
const route = (r) => (r
  ? `${r.target} ${Math.round(r.length_m)} m ${w("route.via")} ${r.legs.map((g) => g.tunnel).join(" → ")}`
  : w("route.none"));
const place = (p) => {
  if (!p.tunnel) return w("never.placed");
  const spans = (p.interval || []).map((s) => `${Math.round(s.from_m)}–${Math.round(s.to_m)}`);
  return `${p.tunnel} ${Math.round(p.offset_m)} m` + (spans.length ? ` (${spans.join(", ")})` : "");
};
const who = (p) => `${p.name || p.tag} (${p.person || p.tag})`;

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function row(tag, cells) {
  const tr = document.createElement("tr");
  if (tag) tr.dataset.tag = tag;
  tr.append(...cells);
  return tr;
}

function table(el, head, rows) {
  const tr = document.createElement("tr");
  tr.append(...head.map((h) => { const th = document.createElement("th"); th.textContent = w(h); return th; }));
  el.replaceChildren(tr, ...rows);
}

function flags(p) {
  const out = [];
  if (p.stale) out.push(w("f.stale"));
  if (p.uncertain) out.push(w("f.uncertain"));
  if (["lost", "sos", "motionless"].includes(p.status)) out.push(w(`f.${p.status}`));
  return out.join(" ");
}

class EmergencyView {
  constructor(me, mine, plan) {
    this.me = me;
    this.mine = mine;
    this.plan = plan;
    this.base = `/mines/${encodeURIComponent(mine.id)}`;
    this.geo = new Geometry(plan);
    this.tags = new EmergencyTags(this.geo, 1024);
    this.map = new EmergencyMap($("em-map"), this.geo, this.tags, plan);
    this.state = null;
    this.last = null;
    this.busy = false;
    this.replaying = false;
    this.frames = null;
    this.framesOf = null;
    this.fill();
    this.bind();
  }

  fill() {
    const tunnels = this.plan.tunnels.map((t) => t.id).sort();
    for (const sel of document.querySelectorAll("select.tunnels")) {
      sel.replaceChildren(...tunnels.map((id) => new Option(id, id)));
    }
    $("evac-zone").replaceChildren(...this.plan.zones.map((z) => new Option(z.name, z.id)));
    this.levels();
    const dispatcher = this.me.role !== "viewer";
    for (const el of document.querySelectorAll(".dispatcher")) el.hidden = !dispatcher;
  }

  levels() {
    $("em-level-nav").replaceChildren(...this.plan.levels.map((lv) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = lv.name;
      b.setAttribute("aria-pressed", String(lv.id === this.map.level));
      b.addEventListener("click", () => { this.map.setLevel(lv.id); this.levels(); });
      return b;
    }));
  }

  act(fn, errEl) {
    return async (e) => {
      if (e) e.preventDefault();
      if (errEl) $(errEl).textContent = "";
      try {
        await fn();
        await this.refresh();
      } catch (err) {
        const msg = err instanceof ApiError ? err.message : String(err);
        if (errEl) $(errEl).textContent = msg; else alert(msg);
      }
    };
  }

  bind() {
    $("declare-form").addEventListener("submit", this.act(() => api.post(`${this.base}/emergency`, {
      kind: $("declare-kind").value,
      place: { tunnel: $("declare-tunnel").value, offset_m: Number($("declare-offset").value) },
      note: $("declare-note").value,
    }), "declare-error"));
    const evac = (body) => this.act(async () => {
      const o = await api.post(`${this.base}/emergency/evacuate`, { ...body(), message: $("evac-message").value });
      $("evac-result").textContent = w("evac.sent", { id: o.id, n: o.tags.length, t: fmtTime(o.issued_at) });
    }, "evac-result");
    $("evac-all").addEventListener("click", evac(() => ({ scope: "all" })));
    $("evac-zone-go").addEventListener("click", evac(() => ({ scope: "zone", target: $("evac-zone").value })));
    $("evac-person-go").addEventListener("click", evac(() => ({ scope: "person", target: $("evac-person").value.trim() })));
    $("block-form").addEventListener("submit", this.act(() => api.post(`${this.base}/emergency/blocked`, {
      tunnel: $("block-tunnel").value, from_m: Number($("block-from").value),
      to_m: Number($("block-to").value), cause: $("block-cause").value,
    }), "block-error"));
    $("em-end").addEventListener("click", this.act(async () => {
      if (confirm(w("end.confirm"))) await api.post(`${this.base}/emergency/end`);
    }));
    $("sheet-html").addEventListener("click", () => this.openAuthed(`${this.base}/emergency/rescue-sheet?format=html`, true));
    $("sheet-pdf").addEventListener("click", () => this.openAuthed(`${this.base}/emergency/rescue-sheet?format=pdf`));
    $("replay-slider").addEventListener("input", () => {
      this.replaying = true;
      this.showFrame(Number($("replay-slider").value));
    });
    $("replay-live").addEventListener("click", () => { this.replaying = false; this.refresh(); });
    $("report-html").addEventListener("click", () => this.openAuthed(
      `${this.base}/emergencies/${encodeURIComponent(this.state.emergency.id)}/report?format=html`));
  }

  // Pages that need the bearer token are fetched and opened as a blob (printed if asked).
  async openAuthed(path, print = false) {
    const res = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${api.token}` } });
    if (!res.ok) { alert(`${path}: ${res.status}`); return; }
    const win = window.open(URL.createObjectURL(await res.blob()), "_blank");
    if (win && print) win.addEventListener("load", () => win.print(), { once: true });
  }

  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const state = await api.get(`${this.base}/emergency`);
      this.state = state;
      this.banner();
      $("em-declare").hidden = !(state.active === false && this.me.role !== "viewer");
      $("em-main").hidden = state.emergency === null;
      $("em-replay").hidden = !state.emergency || state.active;
      if (state.emergency === null || this.replaying) return;
      const [acc, unacked] = await Promise.all([
        api.get(`${this.base}/emergency/accounting`),
        api.get(`${this.base}/emergency/unacknowledged`),
      ]);
      this.last = { acc, unacked };
      this.render();
      if (!state.active && this.framesOf !== state.emergency.id) await this.loadReplay(state.emergency);
    } finally {
      this.busy = false;
    }
  }

  banner() {
    const state = this.state;
    const em = state && state.emergency;
    const b = $("em-banner");
    b.classList.toggle("idle", !em);
    b.classList.toggle("ended", !!em && !state.active);
    if (!em) {
      $("em-title").textContent = w("title.none");
      $("em-detail").textContent = "";
      $("em-elapsed").textContent = "";
      return;
    }
    const kind = w(`k.${em.kind}`).toUpperCase();
    $("em-title").textContent = state.active ? w("title.active", { kind }) : w("title.ended", { kind: w(`k.${em.kind}`) });
    $("em-detail").textContent = w("detail", {
      place: `${em.place.tunnel} ${Math.round(em.place.offset_m)} m`, t: fmtTime(em.declared_at), who: em.declared_by,
    });
    const end = em.ended_at ?? Date.now() / 1000;
    const s = Math.max(0, Math.round(end - em.declared_at));
    const two = (n) => String(n).padStart(2, "0");
    $("em-elapsed").textContent = `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  }

  render() {
    if (!this.last || !this.state || !this.state.emergency) return;
    const { acc, unacked } = this.last;
    const state = this.state;
    const c = acc.counts;
    const keys = ["involved", "unaccounted", "refuge", "out", "no_exit_route", "no_route", "stale", "uncertain", "unacknowledged"];
    table($("em-counts"), ["", ""], keys.map((k) => row(null, [cell(w(`c.${k}`)), cell(String(c[k]))])));
    table($("em-levels"), ["h.level", "h.underground"],
      Object.entries(c.by_level).map(([k, v]) => row(null, [cell(k), cell(String(v))])));
    const em = state.emergency;
    sessionStorage.setItem("minepos.emergency.seen", em.id); // the console need not switch again
    this.map.blocked = em.blocked.filter((b) => b.cleared_at === null);
    this.map.fire = em.place;
    this.renderBlocked(state);
    const people = acc.people;
    this.tags.update(people.filter((p) => p.xyz), performance.now(), true);
    this.map.markDirty();
    const un = people.filter((p) => p.safety === "unaccounted").sort((a, b) => (b.age_s ?? 1e18) - (a.age_s ?? 1e18));
    $("n-unaccounted").textContent = String(un.length);
    table($("em-unaccounted"), ["h.person", "h.place", "h.seen", "h.route"], un.map((p) => row(p.tag, [
      cell(who(p)), cell(place(p)), cell(`${fmtAge(p.age_s)} ${flags(p)}`, flags(p) ? "flag" : ""),
      cell(p.exit_route ? route(p.exit_route) : w("noexit", { r: route(p.refuge_route) }), p.exit_route ? "" : "flag red"),
    ])));
    const noexit = people.filter((p) => p.safety !== "out" && p.tunnel && p.exit_m === null);
    $("n-noexit").textContent = String(noexit.length);
    table($("em-noexit"), ["h.person", "h.place", "h.refuge"], noexit.map((p) => row(p.tag, [
      cell(who(p)), cell(place(p)), cell(route(p.refuge_route), p.refuge_route ? "" : "flag red"),
    ])));
    $("n-unacked").textContent = String(unacked.length);
    table($("em-unacked"), ["h.person", "h.order", "h.sent", "h.zones"], unacked.map((u) => row(u.tag, [
      cell(who(u)), cell(u.order), cell(fmtTime(u.sent_at)), cell(u.zones.join(", ")),
    ])));
    for (const el of document.querySelectorAll("#em-main .dispatcher")) el.hidden = this.me.role === "viewer" || !state.active;
  }

  renderBlocked(state) {
    const items = this.map.blocked.map((b) => {
      const li = document.createElement("li");
      li.textContent = `${b.tunnel} ${Math.round(b.from_m)}–${Math.round(b.to_m)} m (${w(`k.${b.cause}`)}) `;
      if (this.me.role !== "viewer" && state.active) {
        const btn = document.createElement("button");
        btn.textContent = w("unblock");
        btn.className = "link";
        btn.addEventListener("click", this.act(() => api.request("DELETE", `${this.base}/emergency/blocked/${encodeURIComponent(b.id)}`)));
        li.append(btn);
      }
      return li;
    });
    $("em-blocked").replaceChildren(...(items.length ? items : [Object.assign(document.createElement("li"), { textContent: w("none") })]));
  }

  // After the event: the stored snapshots, minute by minute, as the dispatcher saw them.
  async loadReplay(em) {
    const out = await api.get(`${this.base}/emergencies/${encodeURIComponent(em.id)}/replay`);
    this.frames = out.frames;
    this.framesOf = em.id;
    const slider = $("replay-slider");
    slider.max = String(Math.max(0, this.frames.length - 1));
    slider.value = slider.max;
    $("replay-info").textContent = w("replay.loaded", { n: this.frames.length });
  }

  showFrame(i) {
    const f = this.frames && this.frames[i];
    if (!f) return;
    const c = f.counts;
    $("replay-info").textContent = w("replay.frame", {
      m: f.minute, t: fmtTime(f.at), u: c.unaccounted ?? 0, r: c.refuge ?? 0, o: c.out ?? 0,
      a: c.unacknowledged ?? 0, b: f.blocked.length,
    });
    this.map.blocked = f.blocked;
    $("n-unaccounted").textContent = String(f.unaccounted.length);
    table($("em-unaccounted"), ["h.person", "h.place", "h.status"], f.unaccounted.map((p) => row(p.tag, [
      cell(who(p)), cell(place(p)), cell(`${t(`status.${p.status}`)} ${flags(p)}`.trim()),
    ])));
    this.map.markDirty();
  }

  relabel() {
    applyWords(document);
    this.banner();
    this.render();
  }
}

async function boot() {
  await setLanguage(pickLanguage());
  applyWords(document);
  if (!api.token) { location.href = "/"; return; }
  api.onUnauthorized = () => { api.forget(); location.href = "/"; };
  try {
    const me = await api.get("/auth/me");
    const [mine] = await api.get("/mines");
    const plan = await api.get(`/mines/${encodeURIComponent(mine.id)}/plan`);
    $("em-who").textContent = `${me.name} (${me.role})`;
    const view = new EmergencyView(me, mine, plan);
    renderLanguageSwitch($("em-langs"), () => view.relabel());
    await view.refresh();
    setInterval(() => view.refresh().catch(() => {}), POLL_MS);
    setInterval(() => view.banner(), 1000);
    window.emergencyView = view;
  } catch (err) {
    $("em-title").textContent = w("load.failed", { msg: err.message });
  }
}

boot();
