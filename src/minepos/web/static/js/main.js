// The console's start: log in, load the mine and the people, open the live stream, wire the panels.

import { Api, ApiError } from "./api.js";
import { apply, detectLanguage, onLanguage, setLanguage, t } from "./i18n.js";
import { Geometry } from "./geometry.js";
import { TagStore } from "./tags.js";
import { MapView } from "./map.js";
import { AlarmPanel, Formatter, Search, renderHeadcount, renderHealth } from "./panels.js";
import { PersonCard } from "./card.js";

const $ = (id) => document.getElementById(id);
const api = new Api();
let live = null;

function showLogin(message = "") {
  if (live) { live.stop(); live = null; }
  $("console").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-name").focus();
}

async function onLogin(e) {
  e.preventDefault();
  $("login-error").textContent = "";
  try {
    await api.login($("login-name").value.trim(), $("login-password").value);
    $("login-password").value = "";
    await start();
  } catch (err) {
    const key = err instanceof ApiError && err.status === 429 ? "login.too_many" : "login.failed";
    $("login-error").textContent = t(key);
  }
}

async function start() {
  const me = await api.get("/auth/me");
  const [mine] = await api.get("/mines");
  const [plan, people] = await Promise.all([
    api.get(`/mines/${mine.id}/plan`), api.get("/people"),
  ]);
  $("login").hidden = true;
  $("console").hidden = false;
  $("mine-name").textContent = mine.name;
  $("who").textContent = `${me.name} (${t(`role.${me.role}`)})`;
  const fmt = new Formatter(mine.timezone);
  const byId = new Map(people.map((p) => [p.id, p]));
  const byTag = new Map(people.filter((p) => p.tag).map((p) => [p.tag, p]));
  const geo = new Geometry(plan);
  const tags = new TagStore(geo, Math.max(1024, people.length));
  const map = new MapView($("map"), geo, tags, plan);
  const card = new PersonCard({ api, map, tags, people: byId, plan, fmt });
  const zoneNames = new Map(plan.zones.map((z) => [z.id, z.name]));
  let headcount = { underground: 0, by_level: {}, by_zone: {}, unaccounted: [] };

  const levels = () => {
    $("levels").replaceChildren(...plan.levels.map((lv) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = lv.name;
      b.dataset.level = lv.id;
      b.setAttribute("aria-pressed", String(lv.id === map.level));
      b.addEventListener("click", () => { map.setLevel(lv.id); levels(); });
      return b;
    }));
  };
  levels();

  const focusPerson = (personId) => {
    const p = byId.get(personId);
    if (!p) return;
    const row = p.tag ? tags.row(p.tag) : null;
    if (row && row.level) {
      map.setLevel(row.level);
      levels();
      const i = tags.index.get(p.tag);
      map.centreOn(...tags.at(i, performance.now()));
    }
    card.open(personId);
  };
  map.onPick = (tag) => { const p = byTag.get(tag); if (p) focusPerson(p.id); };

  const describe = {
    fmt,
    subject(a) {
      const p = (a.person && byId.get(a.person)) || (a.tag && byTag.get(a.tag));
      const parts = [p ? p.name : a.tag || a.anchor || ""];
      if (a.zone) parts.push(zoneNames.get(a.zone) ?? a.zone);
      return parts.filter(Boolean).join(" · ");
    },
  };
  const alarms = new AlarmPanel({
    canAck: () => me.role !== "viewer",
    describe,
    onAck: async (a) => {
      try {
        alarms.change(await api.post(`/alarms/${encodeURIComponent(a.id)}/ack`, { comment: "" }));
      } catch (err) { alert(err.message); }
    },
    onSelect: (a) => {
      const p = (a.person && byId.get(a.person)) || (a.tag && byTag.get(a.tag));
      if (p) focusPerson(p.id);
    },
  });
  const syncAlarmTags = () => tags.setAlarmTags(alarms.active().map((a) => a.tag).filter(Boolean));
  new Search(people, focusPerson);

  live = api.live(mine.id, {
    state(up) {
      $("conn").textContent = t(up ? "conn.live" : "conn.down");
      $("conn").classList.toggle("down", !up);
    },
    message(msg, arrived) {
      if (msg.type === "positions") {
        tags.update(msg.rows, arrived);
        map.updated(arrived);
      } else if (msg.type === "alarm") {
        alarms.change(msg.alarm);
        syncAlarmTags();
        map.markDirty();
      } else if (msg.type === "headcount") {
        headcount = msg;
        renderHeadcount(headcount, plan);
      } else if (msg.type === "snapshot") {
        alarms.set(msg.alarms);
        syncAlarmTags();
        tags.update(msg.positions, arrived, true);
        headcount = msg.headcount;
        renderHeadcount(headcount, plan);
        map.updated(arrived);
      }
    },
  });

  const tick = () => { $("clock").textContent = fmt.time(Date.now() / 1000); };
  tick();
  setInterval(tick, 1000);
  const health = async () => {
    try { renderHealth(await api.get(`/mines/${mine.id}/system`)); } catch { /* retried */ }
  };
  health();
  setInterval(health, 5000);
  setInterval(() => {
    const s = map.stats;
    $("fps").textContent = `${s.frames} fps · ${s.drawMs.toFixed(1)} ms`;
    s.fps = s.frames;
    s.frames = 0;
  }, 1000);

  onLanguage(() => {
    $("who").textContent = `${me.name} (${t(`role.${me.role}`)})`;
    alarms.render();
    renderHeadcount(headcount, plan);
    card.refresh();
    health();
  });
  window.minepos = { api, map, tags, alarms, card, plan };
}

async function boot() {
  await setLanguage(detectLanguage());
  apply(document);
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", async () => { await api.logout(); location.reload(); });
  api.onUnauthorized = () => { api.forget(); showLogin(t("login.expired")); };
  if (!api.token) { showLogin(); return; }
  try { await start(); } catch { api.forget(); showLogin(); }
}

boot();
