// Tunnel polylines: points at an offset along a tunnel and the piece of tunnel between offsets.

export class Geometry {
  constructor(plan) {
    this.levels = plan.levels.map((l) => l.id);
    this.levelIndex = new Map(this.levels.map((id, i) => [id, i]));
    this.tunnels = new Map();
    for (const t of plan.tunnels) {
      const n = t.points.length;
      const xs = new Float64Array(n);
      const ys = new Float64Array(n);
      const cum = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const [x, y, z] = t.points[i];
        xs[i] = x; ys[i] = y;
        if (i > 0) {
          const [px, py, pz] = t.points[i - 1];
          cum[i] = cum[i - 1] + Math.hypot(x - px, y - py, z - pz);
        }
      }
      // a shaft is (nearly) one point in plan: drawn as a marker, not a line
      const extent = Math.hypot(xs[n - 1] - xs[0], ys[n - 1] - ys[0]);
      this.tunnels.set(t.id, { ...t, xs, ys, cum, vertical: extent < 1 && cum[n - 1] > 1 });
    }
  }

  // [x, y] of the point `offset` metres along the tunnel.
  pointAt(tunnel, offset) {
    const t = this.tunnels.get(tunnel);
    if (!t) return null;
    const { xs, ys, cum } = t;
    const n = cum.length;
    const s = Math.min(Math.max(offset, 0), cum[n - 1]);
    let i = 1;
    while (i < n - 1 && cum[i] < s) i++;
    const seg = cum[i] - cum[i - 1] || 1;
    const f = (s - cum[i - 1]) / seg;
    return [xs[i - 1] + (xs[i] - xs[i - 1]) * f, ys[i - 1] + (ys[i] - ys[i - 1]) * f];
  }

  // Flat [x0, y0, x1, y1, ...] of the tunnel between two offsets, bends included.
  spanPath(tunnel, from, to) {
    const t = this.tunnels.get(tunnel);
    if (!t) return null;
    const a = Math.min(from, to);
    const b = Math.max(from, to);
    const out = [...this.pointAt(tunnel, a)];
    for (let i = 1; i < t.cum.length - 1; i++) {
      if (t.cum[i] > a && t.cum[i] < b) out.push(t.xs[i], t.ys[i]);
    }
    out.push(...this.pointAt(tunnel, b));
    return out;
  }

  onLevel(tunnel, level) {
    const t = this.tunnels.get(tunnel);
    return !!t && t.levels.includes(level);
  }

  levelBounds(level) {
    let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
    for (const t of this.tunnels.values()) {
      if (!t.levels.includes(level)) continue;
      for (let i = 0; i < t.xs.length; i++) {
        x0 = Math.min(x0, t.xs[i]); x1 = Math.max(x1, t.xs[i]);
        y0 = Math.min(y0, t.ys[i]); y1 = Math.max(y1, t.ys[i]);
      }
    }
    return Number.isFinite(x0) ? [x0, y0, x1, y1] : [-100, -100, 100, 100];
  }
}
