// The emergency view: declare, account, route, evacuate, block, print the rescue sheet, end.
// Talks only to the public API (the console's Api class and session token); redraws every 2 s.

import { Api, ApiError } from "../js/api.js";
import { Geometry } from "../js/geometry.js";
import { MapView } from "../js/map.js";
import { TagStore, OK, ALARM, STALE, SURFACE } from "../js/tags.js";

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
    }
  }
}

const fmtTime = (ts) => (ts ? new Date(ts * 1000).toISOString().slice(11, 19) : "–");
const fmtAge = (s) => (s === null || s === undefined ? "never" : s < 120 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);
const route = (r) => (r ? `${r.target} ${Math.round(r.length_m)} m via ${r.legs.map((g) => g.tunnel).join(" → ")}` : "NO OPEN ROUTE");
const place = (p) => (p.tunnel ? `${p.tunnel} ${Math.round(p.offset_m)} m` + (p.interval.length ? ` (${p.interval.map((s) => `${Math.round(s.from_m)}–${Math.round(s.to_m)}`).join(", ")})` : "") : "never placed");

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function table(el, head, rows) {
  const tr = document.createElement("tr");
  tr.append(...head.map((h) => { const th = document.createElement("th"); th.textContent = h; return th; }));
  el.replaceChildren(tr, ...rows);
}

function flags(p) {
  const out = [];
  if (p.stale) out.push("stale");
  if (p.uncertain) out.push("uncertain");
  if (["lost", "sos", "motionless"].includes(p.status)) out.push(p.status);
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
        const msg = err instanceof ApiError ? (typeof err.message === "string" ? err.message : String(err)) : String(err);
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
      const o = await api.post(`${this.base}/emergency/evacuate`, { ...body, message: $("evac-message").value });
      $("evac-result").textContent = `order ${o.id} sent to ${o.tags.length} tags at ${fmtTime(o.issued_at)}`;
    }, "evac-result");
    $("evac-all").addEventListener("click", evac({ scope: "all" }));
    $("evac-zone-go").addEventListener("click", (e) => evac({ scope: "zone", target: $("evac-zone").value })(e));
    $("evac-person-go").addEventListener("click", (e) => evac({ scope: "person", target: $("evac-person").value.trim() })(e));
    $("block-form").addEventListener("submit", this.act(() => api.post(`${this.base}/emergency/blocked`, {
      tunnel: $("block-tunnel").value, from_m: Number($("block-from").value),
      to_m: Number($("block-to").value), cause: $("block-cause").value,
    }), "block-error"));
    $("em-end").addEventListener("click", this.act(async () => {
      if (confirm("End the emergency?")) await api.post(`${this.base}/emergency/end`);
    }));
    $("sheet-html").addEventListener("click", () => this.sheet("html"));
    $("sheet-pdf").addEventListener("click", () => this.sheet("pdf"));
    $("replay-slider").addEventListener("input", () => {
      this.replaying = true;
      this.showFrame(Number($("replay-slider").value));
    });
    $("replay-live").addEventListener("click", () => { this.replaying = false; this.refresh(); });
    $("report-html").addEventListener("click", () => this.openAuthed(
      `/api/v1${this.base}/emergencies/${encodeURIComponent(this.state.emergency.id)}/report?format=html`));
  }

  async openAuthed(url) {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${api.token}` } });
    if (!res.ok) { alert(`${res.status}`); return null; }
    const win = window.open(URL.createObjectURL(await res.blob()), "_blank");
    return win;
  }

  // After the event: the stored snapshots, minute by minute, as the dispatcher saw them.
  async loadReplay(em) {
    const out = await api.get(`${this.base}/emergencies/${encodeURIComponent(em.id)}/replay`);
    this.frames = out.frames;
    this.framesOf = em.id;
    const slider = $("replay-slider");
    slider.max = String(Math.max(0, this.frames.length - 1));
    slider.value = slider.max;
    $("replay-info").textContent = `${this.frames.length} minutes recorded; move the slider to replay`;
  }

  showFrame(i) {
    const f = this.frames && this.frames[i];
    if (!f) return;
    const c = f.counts;
    $("replay-info").textContent = `minute ${f.minute} (${fmtTime(f.at)} UTC): unaccounted ${c.unaccounted ?? 0}, `
      + `refuge ${c.refuge ?? 0}, out ${c.out ?? 0}, not acknowledged ${c.unacknowledged ?? 0}, `
      + `blocked ${f.blocked.length}`;
    this.map.blocked = f.blocked;
    const rows = f.unaccounted.map((p) => ({ ...p, interval: [], zones: p.zones || [], xyz: null }));
    $("n-unaccounted").textContent = String(rows.length);
    table($("em-unaccounted"), ["person", "last place", "status"], rows.map((p) => {
      const tr = document.createElement("tr");
      tr.dataset.tag = p.tag;
      tr.append(cell(`${p.name || p.tag} (${p.person || p.tag})`), cell(place(p)),
        cell(`${p.status} ${p.stale ? "stale" : ""} ${p.uncertain ? "uncertain" : ""}`.trim()));
      return tr;
    }));
    this.map.markDirty();
  }

  // The sheet needs the bearer token, so it is fetched and opened as a blob.
  async sheet(format) {
    const res = await fetch(`/api/v1${this.base}/emergency/rescue-sheet?format=${format}`, {
      headers: { Authorization: `Bearer ${api.token}` },
    });
    if (!res.ok) { alert(`rescue sheet: ${res.status}`); return; }
    const url = URL.createObjectURL(await res.blob());
    const win = window.open(url, "_blank");
    if (win && format === "html") win.addEventListener("load", () => win.print(), { once: true });
  }

  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const state = await api.get(`${this.base}/emergency`);
      this.state = state;
      this.banner(state);
      $("em-replay").hidden = !state.emergency || state.active;
      if (this.replaying) return; // the replay holds the picture until "back to live"
      $("em-declare").hidden = !(state.active === false && this.me.role !== "viewer");
      $("em-main").hidden = state.emergency === null;
      if (state.emergency === null) return;
      const [acc, unacked] = await Promise.all([
        api.get(`${this.base}/emergency/accounting`),
        api.get(`${this.base}/emergency/unacknowledged`),
      ]);
      this.render(state, acc, unacked);
      if (!state.active && this.framesOf !== state.emergency.id) await this.loadReplay(state.emergency);
    } finally {
      this.busy = false;
    }
  }

  banner(state) {
    const em = state.emergency;
    const b = $("em-banner");
    b.classList.toggle("idle", !em);
    b.classList.toggle("ended", !!em && !state.active);
    if (!em) { $("em-title").textContent = "No emergency declared"; $("em-detail").textContent = ""; $("em-elapsed").textContent = ""; return; }
    $("em-title").textContent = state.active ? `EMERGENCY: ${em.kind.toUpperCase()}` : `Ended: ${em.kind}`;
    $("em-detail").textContent = `${em.place.tunnel} ${Math.round(em.place.offset_m)} m · declared ${fmtTime(em.declared_at)} UTC by ${em.declared_by}`;
    const end = em.ended_at ?? Date.now() / 1000;
    const s = Math.max(0, Math.round(end - em.declared_at));
    $("em-elapsed").textContent = `${String(Math.floor(s / 3600)).padStart(2, "0")}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  }

  render(state, acc, unacked) {
    const c = acc.counts;
    const counts = [["involved", c.involved], ["unaccounted", c.unaccounted], ["in refuge", c.refuge],
      ["out", c.out], ["no open exit route", c.no_exit_route], ["no route at all", c.no_route],
      ["stale", c.stale], ["uncertain", c.uncertain], ["not acknowledged", c.unacknowledged]];
    table($("em-counts"), ["", ""], counts.map(([k, v]) => { const tr = document.createElement("tr"); tr.append(cell(k), cell(String(v))); return tr; }));
    const levels = Object.entries(c.by_level);
    table($("em-levels"), ["level", "underground"], levels.map(([k, v]) => { const tr = document.createElement("tr"); tr.append(cell(k), cell(String(v))); return tr; }));
    const em = state.emergency;
    sessionStorage.setItem("minepos.emergency.seen", em.id); // the console need not switch again
    this.map.blocked = em.blocked.filter((b) => b.cleared_at === null);
    this.map.fire = em.place;
    $("em-blocked").replaceChildren(...(this.map.blocked.length ? this.map.blocked.map((b) => {
      const li = document.createElement("li");
      li.textContent = `${b.tunnel} ${Math.round(b.from_m)}–${Math.round(b.to_m)} m (${b.cause}) `;
      if (this.me.role !== "viewer" && state.active) {
        const btn = document.createElement("button");
        btn.textContent = "Unblock";
        btn.className = "link";
        btn.addEventListener("click", this.act(() => api.request("DELETE", `${this.base}/emergency/blocked/${encodeURIComponent(b.id)}`)));
        li.append(btn);
      }
      return li;
    }) : [Object.assign(document.createElement("li"), { textContent: "none" })]));
    const people = acc.people;
    this.tags.update(people.filter((p) => p.xyz), performance.now(), true);
    this.map.markDirty();
    const un = people.filter((p) => p.safety === "unaccounted").sort((a, b) => (b.age_s ?? 1e18) - (a.age_s ?? 1e18));
    $("n-unaccounted").textContent = String(un.length);
    table($("em-unaccounted"), ["person", "last place", "seen", "route out"], un.map((p) => {
      const tr = document.createElement("tr");
      tr.dataset.tag = p.tag;
      tr.append(cell(`${p.name || p.tag} (${p.person || p.tag})`), cell(place(p)),
        cell(`${fmtAge(p.age_s)} ${flags(p)}`, flags(p) ? "flag" : ""),
        cell(p.exit_route ? route(p.exit_route) : `NO EXIT · refuge: ${route(p.refuge_route)}`, p.exit_route ? "" : "flag red"));
      return tr;
    }));
    const noexit = people.filter((p) => p.safety !== "out" && p.exit_m === null);
    $("n-noexit").textContent = String(noexit.length);
    table($("em-noexit"), ["person", "last place", "refuge"], noexit.map((p) => {
      const tr = document.createElement("tr");
      tr.dataset.tag = p.tag;
      tr.append(cell(`${p.name || p.tag} (${p.person || p.tag})`), cell(place(p)), cell(route(p.refuge_route), p.refuge_route ? "" : "flag red"));
      return tr;
    }));
    $("n-unacked").textContent = String(unacked.length);
    table($("em-unacked"), ["person", "order", "sent", "zones"], unacked.map((u) => {
      const tr = document.createElement("tr");
      tr.dataset.tag = u.tag;
      tr.append(cell(`${u.name || u.tag} (${u.person || u.tag})`), cell(u.order), cell(fmtTime(u.sent_at)), cell(u.zones.join(", ")));
      return tr;
    }));
    for (const el of document.querySelectorAll("#em-main .dispatcher")) el.hidden = this.me.role === "viewer" || !state.active;
  }
}

async function boot() {
  if (!api.token) { location.href = "/"; return; }
  api.onUnauthorized = () => { api.forget(); location.href = "/"; };
  try {
    const me = await api.get("/auth/me");
    const [mine] = await api.get("/mines");
    const plan = await api.get(`/mines/${encodeURIComponent(mine.id)}/plan`);
    $("em-who").textContent = `${me.name} (${me.role})`;
    const view = new EmergencyView(me, mine, plan);
    await view.refresh();
    setInterval(() => view.refresh().catch(() => {}), POLL_MS);
    setInterval(() => { if (view.state) view.banner(view.state); }, 1000);
    window.emergencyView = view;
  } catch (err) {
    $("em-title").textContent = `cannot load: ${err.message}`;
  }
}

boot();
