// In the console: the EMERGENCY button, and the switch to the emergency view once one is declared.

import { t } from "../js/i18n.js";

const PREFIX = "/api/v1";
const POLL_MS = 3000;

async function active(token) {
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  const mines = await fetch(`${PREFIX}/mines`, { headers });
  if (!mines.ok) return null;
  const [mine] = await mines.json();
  const res = await fetch(`${PREFIX}/mines/${encodeURIComponent(mine.id)}/emergency`, { headers });
  return res.ok ? res.json() : null;
}

// the key stays on the button, so a change of language relabels it
function label(button, key) {
  button.dataset.i18n = key;
  button.textContent = t(key);
}

async function watch() {
  const token = sessionStorage.getItem("minepos.token");
  const panel = document.getElementById("console");
  if (!token || !panel || panel.hidden) return;
  try {
    const state = await active(token);
    const button = document.getElementById("emergency-open");
    if (state && state.active) {
      if (button) label(button, "top.emergency_active");
      // switch once per emergency: a dispatcher who comes back to the console stays there
      const seen = sessionStorage.getItem("minepos.emergency.seen");
      if (seen !== state.emergency.id) {
        sessionStorage.setItem("minepos.emergency.seen", state.emergency.id);
        location.href = "/emergency.html";
      }
    } else if (button) {
      label(button, "top.emergency");
    }
  } catch { /* the next poll retries */ }
}

setInterval(watch, POLL_MS);
watch();
