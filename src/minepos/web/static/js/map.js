// The mine plan of one level on a canvas: tunnels, zones, anchors, people and their intervals.
// One requestAnimationFrame loop draws only when something changed; every class of thing is one
// path and one stroke or fill, so 5,000+ moving dots stay well inside a frame.

import { OK, ALARM, STALE, SURFACE } from "./tags.js";

const COLOURS = {
  [OK]: "#e6e9ec", [ALARM]: "#ff4d4f", [STALE]: "#f5a524", [SURFACE]: "#7b828a",
};
const ORDER = [SURFACE, OK, STALE, ALARM]; // alarms drawn last, on top
const DOT_PX = 3.5;
const INTERVAL_PX = 6;
const ROUND_DOTS_UP_TO = 2000; // more dots on screen than this are drawn as squares (cheaper)

export class MapView {
  constructor(canvas, geometry, tags, plan) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.geo = geometry;
    this.tags = tags;
    this.plan = plan;
    this.level = plan.levels.length > 1 ? plan.levels[1].id : plan.levels[0].id;
    this.scale = 1; this.tx = 0; this.ty = 0;
    this.dirty = true;
    this.selected = null;
    this.track = null;
    this.replayIndex = -1;
    this.onPick = () => {};
    this.stats = { frames: 0, total: 0, drawMs: 0, latencies: [], pendingSince: null, fps: 0 };
    this.layers = new Map();
    this.buildLayers();
    this.resize();
    this.bind();
    new ResizeObserver(() => this.resize()).observe(canvas);
    requestAnimationFrame((t) => this.frame(t));
  }

  // Path2D per level, in world coordinates, built once.
  buildLayers() {
    for (const { id } of this.plan.levels) {
      const tunnels = new Path2D();
      const shafts = [];
      for (const t of this.geo.tunnels.values()) {
        if (!t.levels.includes(id)) continue;
        if (t.vertical) { shafts.push([t.xs[0], t.ys[0]]); continue; }
        tunnels.moveTo(t.xs[0], t.ys[0]);
        for (let i = 1; i < t.xs.length; i++) tunnels.lineTo(t.xs[i], t.ys[i]);
      }
      const zones = new Path2D();
      const danger = new Path2D();
      for (const z of this.plan.zones) {
        if (!z.levels.includes(id)) continue;
        const target = z.kind === "restricted" ? danger : zones;
        for (const s of z.spans) {
          const p = this.geo.spanPath(s.tunnel, s.from_m, s.to_m);
          if (!p) continue;
          target.moveTo(p[0], p[1]);
          for (let i = 2; i < p.length; i += 2) target.lineTo(p[i], p[i + 1]);
        }
      }
      const anchors = this.plan.anchors.filter((a) => a.level === id).map((a) => [a.xyz[0], a.xyz[1]]);
      this.layers.set(id, { tunnels, shafts, zones, danger, anchors });
    }
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const { clientWidth: w, clientHeight: h } = this.canvas;
    if (!w || !h) return;
    const first = !this.width;
    this.width = w; this.height = h; this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    if (first) this.fit();
    this.dirty = true;
  }

  setLevel(level) {
    if (level === this.level) return;
    this.level = level;
    this.fit();
  }

  fit() {
    const [x0, y0, x1, y1] = this.geo.levelBounds(this.level);
    const w = this.width || 800; const h = this.height || 600;
    this.scale = 0.9 * Math.min(w / Math.max(x1 - x0, 1), h / Math.max(y1 - y0, 1));
    this.tx = w / 2 - this.scale * (x0 + x1) / 2;
    this.ty = h / 2 + this.scale * (y0 + y1) / 2;
    this.dirty = true;
  }

  centreOn(x, y, minScale = 1.5) {
    this.scale = Math.max(this.scale, minScale);
    this.tx = this.width / 2 - this.scale * x;
    this.ty = this.height / 2 + this.scale * y;
    this.dirty = true;
  }

  zoomAt(factor, sx, sy) {
    const s = Math.min(Math.max(this.scale * factor, 0.005), 200);
    const wx = (sx - this.tx) / this.scale; const wy = (this.ty - sy) / this.scale;
    this.scale = s;
    this.tx = sx - s * wx; this.ty = sy + s * wy;
    this.dirty = true;
  }

  toScreen(x, y) { return [this.tx + this.scale * x, this.ty - this.scale * y]; }

  bind() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      this.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    c.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x; const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; c.classList.add("dragging"); }
      this.tx = drag.tx + dx; this.ty = drag.ty + dy;
      this.dirty = true;
    });
    c.addEventListener("pointerup", (e) => {
      if (drag && !drag.moved) {
        const r = c.getBoundingClientRect();
        const tag = this.pick(e.clientX - r.left, e.clientY - r.top);
        if (tag) this.onPick(tag);
      }
      drag = null;
      c.classList.remove("dragging");
    });
    c.addEventListener("keydown", (e) => {
      const step = 60;
      const keys = {
        "+": () => this.zoomAt(1.25, this.width / 2, this.height / 2),
        "=": () => this.zoomAt(1.25, this.width / 2, this.height / 2),
        "-": () => this.zoomAt(0.8, this.width / 2, this.height / 2),
        ArrowLeft: () => { this.tx += step; }, ArrowRight: () => { this.tx -= step; },
        ArrowUp: () => { this.ty += step; }, ArrowDown: () => { this.ty -= step; },
        0: () => this.fit(),
      };
      if (keys[e.key]) { keys[e.key](); this.dirty = true; e.preventDefault(); }
    });
  }

  // The nearest person on this level within 10 px of a screen point.
  pick(sx, sy) {
    const tags = this.tags;
    const lvl = this.geo.levelIndex.get(this.level);
    const now = performance.now();
    let best = null; let bestD = 100;
    for (let i = 0; i < tags.n; i++) {
      if (!tags.present[i] || tags.level[i] !== lvl) continue;
      const [x, y] = tags.at(i, now);
      const [px, py] = this.toScreen(x, y);
      const d = (px - sx) ** 2 + (py - sy) ** 2;
      if (d < bestD) { bestD = d; best = tags.ids[i]; }
    }
    return best;
  }

  markDirty() { this.dirty = true; }

  // A WebSocket message changed the tags at `arrived` (performance.now()).
  updated(arrived) {
    if (this.stats.pendingSince === null) this.stats.pendingSince = arrived;
    this.dirty = true;
  }

  frame(now) {
    requestAnimationFrame((t) => this.frame(t));
    if (!this.width) return;
    if (!this.dirty && !this.tags.moving(now)) return;
    const t0 = performance.now();
    this.draw(now);
    const t1 = performance.now();
    this.dirty = false;
    const s = this.stats;
    s.frames += 1;
    s.total += 1;
    s.drawMs = t1 - t0;
    if (s.pendingSince !== null) {
      s.latencies.push(t1 - s.pendingSince);
      if (s.latencies.length > 1000) s.latencies.shift();
      s.pendingSince = null;
    }
  }

  draw(now) {
    const { ctx, dpr, scale } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#0b0e10";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr * scale, 0, 0, -dpr * scale, dpr * this.tx, dpr * this.ty);
    const px = 1 / scale; // one screen pixel in world units
    const layer = this.layers.get(this.level);
    ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.strokeStyle = "rgba(160, 170, 180, 0.16)"; ctx.lineWidth = 12 * px; ctx.stroke(layer.zones);
    ctx.strokeStyle = "rgba(255, 77, 79, 0.16)"; ctx.stroke(layer.danger);
    ctx.strokeStyle = "#46505a"; ctx.lineWidth = 3 * px; ctx.stroke(layer.tunnels);
    ctx.fillStyle = "#5d6872";
    for (const [x, y] of layer.shafts) ctx.fillRect(x - 5 * px, y - 5 * px, 10 * px, 10 * px);
    ctx.fillStyle = "#6b7682";
    for (const [x, y] of layer.anchors) ctx.fillRect(x - 1.5 * px, y - 1.5 * px, 3 * px, 3 * px);
    this.drawTrack(px);
    this.drawTags(now, px);
  }

  drawTags(now, px) {
    const { ctx, tags } = this;
    const lvl = this.geo.levelIndex.get(this.level);
    const n = tags.n;
    ctx.globalAlpha = 0.35;
    ctx.lineWidth = INTERVAL_PX * px;
    // an interval shorter than the dot is hidden under it: not drawn (most of them, zoomed out)
    const minSpread = 2 * DOT_PX * px;
    let shown = 0;
    for (const code of ORDER) {
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        if (!tags.present[i] || tags.level[i] !== lvl || tags.code[i] !== code) continue;
        shown++;
        if (tags.spread[i] < minSpread) continue;
        for (const p of tags.paths[i]) {
          ctx.moveTo(p[0], p[1]);
          for (let k = 2; k < p.length; k += 2) ctx.lineTo(p[k], p[k + 1]);
        }
      }
      ctx.strokeStyle = COLOURS[code];
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    const r = DOT_PX * px;
    const round = shown <= ROUND_DOTS_UP_TO;
    const { x0, y0, x1, y1, t0 } = tags;
    for (const code of ORDER) {
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        if (!tags.present[i] || tags.level[i] !== lvl || tags.code[i] !== code) continue;
        const f = Math.min(1, (now - t0[i]) / 1000);
        const x = x0[i] + (x1[i] - x0[i]) * f; const y = y0[i] + (y1[i] - y0[i]) * f;
        if (round) { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 6.2832); } else ctx.rect(x - r, y - r, 2 * r, 2 * r);
      }
      ctx.fillStyle = COLOURS[code];
      ctx.fill();
    }
    if (this.selected) {
      const i = tags.index.get(this.selected);
      if (i !== undefined && tags.present[i] && tags.level[i] === lvl) {
        const [x, y] = tags.at(i, now);
        ctx.beginPath(); ctx.arc(x, y, 9 * px, 0, 6.2832);
        ctx.strokeStyle = "#d0d7de"; ctx.lineWidth = 2 * px; ctx.stroke();
      }
    }
  }

  drawTrack(px) {
    const pts = this.track;
    if (!pts || !pts.length) return;
    const { ctx } = this;
    ctx.beginPath();
    let started = false;
    for (const p of pts) {
      if (!this.geo.onLevel(p.tunnel, this.level)) { started = false; continue; }
      if (started) ctx.lineTo(p.xyz[0], p.xyz[1]); else ctx.moveTo(p.xyz[0], p.xyz[1]);
      started = true;
    }
    ctx.setLineDash([6 * px, 4 * px]);
    ctx.strokeStyle = "#d0d7de"; ctx.lineWidth = 2 * px; ctx.stroke();
    ctx.setLineDash([]);
    // the replayed moment: a hollow ring, only while the slider is not at "now"
    const p = pts[this.replayIndex];
    if (p && this.replayIndex < pts.length - 1 && this.geo.onLevel(p.tunnel, this.level)) {
      ctx.beginPath(); ctx.arc(p.xyz[0], p.xyz[1], 7 * px, 0, 6.2832);
      ctx.strokeStyle = "#d0d7de"; ctx.lineWidth = 3 * px; ctx.stroke();
    }
  }

  setTrack(points) { this.track = points; this.replayIndex = points.length - 1; this.dirty = true; }
  setReplay(i) { this.replayIndex = i; this.dirty = true; }
}
