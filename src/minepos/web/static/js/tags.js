// Every tag's place in typed arrays, updated in place from WebSocket rows (no DOM work).

export const OK = 0;
export const ALARM = 1;
export const STALE = 2;
export const SURFACE = 3;
const UNCERTAIN_M = 50; // an interval longer than this is shown as uncertain
const GLIDE_MS = 1000; // a dot glides to its new place over one update period

export class TagStore {
  constructor(geometry, capacity = 1024) {
    this.geo = geometry;
    this.index = new Map();
    this.ids = [];
    this.rows = [];
    this.paths = [];
    this.alarmTags = new Set();
    this.n = 0;
    this.alloc(capacity);
  }

  alloc(cap) {
    const grow = (Old, old) => { const a = new Old(cap); if (old) a.set(old); return a; };
    this.x0 = grow(Float64Array, this.x0); this.y0 = grow(Float64Array, this.y0);
    this.x1 = grow(Float64Array, this.x1); this.y1 = grow(Float64Array, this.y1);
    this.t0 = grow(Float64Array, this.t0);
    this.level = grow(Int16Array, this.level);
    this.code = grow(Uint8Array, this.code);
    this.present = grow(Uint8Array, this.present);
    this.spread = grow(Float32Array, this.spread);
    this.cap = cap;
  }

  slot(tag) {
    let i = this.index.get(tag);
    if (i === undefined) {
      if (this.n === this.cap) this.alloc(this.cap * 2);
      i = this.n++;
      this.index.set(tag, i);
      this.ids[i] = tag;
    }
    return i;
  }

  classify(row) {
    if (row.status === "sos" || this.alarmTags.has(row.tag)) return ALARM;
    if (row.status === "surface") return SURFACE;
    if (row.status === "lost" || (row.uncertainty_m ?? 0) > UNCERTAIN_M) return STALE;
    return OK;
  }

  // Take rows (CONTRACT positions); `now` is performance.now() when they arrived.
  update(rows, now, replace = false) {
    if (replace) this.present.fill(0);
    for (const row of rows) {
      if (!row.xyz) continue;
      const i = this.slot(row.tag);
      const fresh = !this.present[i];
      const [cx, cy] = fresh ? [row.xyz[0], row.xyz[1]] : this.at(i, now);
      this.x0[i] = cx; this.y0[i] = cy;
      this.x1[i] = row.xyz[0]; this.y1[i] = row.xyz[1];
      this.t0[i] = now;
      this.level[i] = this.geo.levelIndex.get(row.level) ?? -1;
      this.code[i] = this.classify(row);
      this.present[i] = 1;
      this.rows[i] = row;
      this.paths[i] = this.intervalPath(row);
      this.spread[i] = row.uncertainty_m ?? 0;
    }
  }

  intervalPath(row) {
    const spans = row.interval || [];
    const out = [];
    for (const s of spans) {
      const p = this.geo.spanPath(s.tunnel, s.from_m, s.to_m);
      if (p) out.push(p);
    }
    return out;
  }

  // The alarm set changed: recolour the tags it names (and those it no longer names).
  setAlarmTags(tags) {
    const before = this.alarmTags;
    this.alarmTags = new Set(tags);
    for (const tag of new Set([...before, ...this.alarmTags])) {
      const i = this.index.get(tag);
      if (i !== undefined && this.rows[i]) this.code[i] = this.classify(this.rows[i]);
    }
  }

  at(i, now) {
    const f = Math.min(1, Math.max(0, (now - this.t0[i]) / GLIDE_MS));
    return [this.x0[i] + (this.x1[i] - this.x0[i]) * f, this.y0[i] + (this.y1[i] - this.y0[i]) * f];
  }

  moving(now) {
    for (let i = 0; i < this.n; i++) {
      if (this.present[i] && now - this.t0[i] < GLIDE_MS
          && (this.x0[i] !== this.x1[i] || this.y0[i] !== this.y1[i])) return true;
    }
    return false;
  }

  row(tag) {
    const i = this.index.get(tag);
    return i === undefined || !this.present[i] ? null : this.rows[i];
  }
}
