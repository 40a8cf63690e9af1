// The console's only link to the server: the public REST API and the live WebSocket.

const PREFIX = "/api/v1";
const TOKEN_KEY = "minepos.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

export class Api {
  constructor() {
    this.token = sessionStorage.getItem(TOKEN_KEY);
    this.onUnauthorized = () => {};
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(PREFIX + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401 && this.token) this.onUnauthorized();
    if (!res.ok) {
      let detail = res.statusText;
      try { detail = (await res.json()).detail; } catch { /* not JSON */ }
      throw new ApiError(res.status, detail);
    }
    return res.status === 204 ? null : res.json();
  }

  get(path) { return this.request("GET", path); }
  post(path, body) { return this.request("POST", path, body); }

  async login(name, password) {
    const out = await this.post("/auth/login", { name, password });
    this.token = out.token;
    sessionStorage.setItem(TOKEN_KEY, out.token);
    return out;
  }

  async logout() {
    try { await this.post("/auth/logout"); } catch { /* already gone */ }
    this.forget();
  }

  forget() {
    this.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
  }

  // Connects and reconnects (with back-off) until stop() is called.
  live(mine, handlers) {
    let ws = null;
    let stopped = false;
    let delay = 500;
    const open = () => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      ws = new WebSocket(`${scheme}://${location.host}${PREFIX}/mines/${encodeURIComponent(mine)}/live`);
      ws.onopen = () => { ws.send(JSON.stringify({ token: this.token })); };
      ws.onmessage = (ev) => {
        delay = 500;
        handlers.message(JSON.parse(ev.data), performance.now());
      };
      ws.onclose = (ev) => {
        handlers.state(false);
        if (ev.code === 4401) { this.onUnauthorized(); return; }
        if (!stopped) setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
      ws.addEventListener("message", () => handlers.state(true), { once: true });
    };
    open();
    return { stop() { stopped = true; if (ws) ws.close(); } };
  }
}
