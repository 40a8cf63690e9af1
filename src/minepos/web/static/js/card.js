// The person's card: who they are, where and how sure, their last hour and a replay slider.

import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

export class PersonCard {
  constructor({ api, map, tags, people, plan, fmt }) {
    Object.assign(this, { api, map, tags, people, plan, fmt });
    this.person = null;
    this.points = [];
    this.zoneNames = new Map(plan.zones.map((z) => [z.id, z.name]));
    this.levelNames = new Map(plan.levels.map((l) => [l.id, l.name]));
    $("card-close").addEventListener("click", () => this.close());
    $("replay").addEventListener("input", (e) => this.replay(Number(e.target.value)));
    setInterval(() => this.refresh(), 1000);
  }

  async open(personId) {
    const p = this.people.get(personId);
    if (!p) return;
    this.person = p;
    this.map.selected = p.tag;
    this.map.markDirty();
    $("card-empty").hidden = true;
    $("card-body").hidden = false;
    $("card-name").textContent = p.name;
    $("card-number").textContent = p.personnel_number || "–";
    $("card-role").textContent = p.role;
    $("card-tag").textContent = p.tag || "–";
    this.refresh();
    await this.loadTrack(p);
  }

  close() {
    this.person = null;
    this.map.selected = null;
    this.map.setTrack([]);
    $("card-body").hidden = true;
    $("card-empty").hidden = false;
  }

  refresh() {
    const p = this.person;
    if (!p) return;
    const row = p.tag ? this.tags.row(p.tag) : null;
    const status = $("card-status");
    if (!row) {
      status.textContent = t("status.surface");
      status.className = "";
      for (const id of ["card-level", "card-zone", "card-place", "card-seen"]) $(id).textContent = "–";
      return;
    }
    const i = this.tags.index.get(p.tag);
    const code = this.tags.code[i];
    status.textContent = this.tags.alarmTags.has(p.tag) && row.status !== "sos"
      ? `${t(`status.${row.status}`)} · ${t("legend.alarm")}` : t(`status.${row.status}`);
    status.className = code === 1 ? "c-alarm" : code === 2 ? "c-stale" : "";
    $("card-level").textContent = this.levelNames.get(row.level) ?? row.level ?? "–";
    $("card-zone").textContent = row.zone ? (this.zoneNames.get(row.zone) ?? row.zone) : "–";
    $("card-place").textContent = this.place(row);
    $("card-seen").textContent = row.updated_at ? this.fmt.ago(row.updated_at) : "–";
  }

  // "drift h320_main, 1,200–1,250 m (±25 m)": how the rescue team reads a place.
  place(row) {
    const spans = row.interval || [];
    if (!spans.length) return `${row.tunnel}, ${this.fmt.metres(row.offset_m)} m`;
    const parts = spans.map((s) => `${s.tunnel}, ${this.fmt.metres(s.from_m)}–${this.fmt.metres(s.to_m)} m`);
    return `${parts.join("; ")} (±${Math.max(1, Math.round((row.uncertainty_m ?? 0) / 2))} m)`;
  }

  async loadTrack(p) {
    const slider = $("replay");
    this.points = [];
    try {
      const track = await this.api.get(`/people/${encodeURIComponent(p.id)}/track`);
      if (this.person !== p) return;
      this.points = track.points;
    } catch { /* shown as no track */ }
    this.map.setTrack(this.points);
    const n = this.points.length;
    slider.max = String(Math.max(0, n - 1));
    slider.value = String(Math.max(0, n - 1));
    slider.disabled = n < 2;
    $("track-info").textContent = n ? t("card.points", { n }) : t("card.no_track");
    this.replay(n - 1);
  }

  replay(i) {
    const p = this.points[i];
    this.map.setReplay(i);
    $("replay-time").textContent = p
      ? `${this.fmt.time(p.ts)} · ${p.tunnel}, ${this.fmt.metres(p.offset_m)} m`
        + (p.zone ? ` · ${this.zoneNames.get(p.zone) ?? p.zone}` : "")
      : "";
  }
}
