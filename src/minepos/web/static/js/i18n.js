// Language: ru, kk or en; the default follows the browser, the choice is remembered.

const LANGS = ["ru", "kk", "en"];
const KEY = "minepos.lang";
let dict = {};
let fallback = {};
let current = "en";
const listeners = [];

export function detectLanguage() {
  const saved = localStorage.getItem(KEY);
  if (LANGS.includes(saved)) return saved;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

async function load(lang) {
  const res = await fetch(`/i18n/${lang}.json`);
  return res.json();
}

export async function setLanguage(lang) {
  if (!LANGS.includes(lang)) lang = "en";
  if (!Object.keys(fallback).length) fallback = await load("en");
  dict = lang === "en" ? fallback : await load(lang);
  current = lang;
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
  apply(document);
  renderSwitches();
  for (const fn of listeners) fn(lang);
}

export function language() { return current; }
export function onLanguage(fn) { listeners.push(fn); }

// t("alarms.kind.sos") or t("card.ago", {n: 5}): the word in the current language.
export function t(key, vars) {
  let s = dict[key] ?? fallback[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, v);
  return s;
}

export function apply(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

function renderSwitches() {
  for (const box of document.querySelectorAll("[data-langs]")) {
    box.replaceChildren(...LANGS.map((lang) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = lang;
      b.dataset.lang = lang;
      b.setAttribute("aria-pressed", String(lang === current));
      b.addEventListener("click", () => setLanguage(lang));
      return b;
    }));
  }
}
