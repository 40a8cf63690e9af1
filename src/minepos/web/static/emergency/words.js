// Words of the emergency view: the console's dictionaries (/i18n/<lang>.json, keys "em.*") and
// its language choice (js/i18n.js), so both views speak the same language with one mechanism.

import { apply, detectLanguage, language, setLanguage as setConsoleLanguage, t } from "../js/i18n.js";

export { language };

export function pickLanguage() { return detectLanguage(); }

// Loads the dictionary; call before the first w().
export async function setLanguage(next) { await setConsoleLanguage(next); }

// w("evac.sent", {id, n, t}): the words in the current language (English where one is missing).
export function w(key, vars) { return t(`em.${key}`, vars); }

// Static text: elements with data-w (text), data-w-ph (placeholder), option values (kinds), and
// the console's own data-i18n words.
export function applyWords(root) {
  apply(root);
  for (const el of root.querySelectorAll("[data-w]")) el.textContent = w(el.dataset.w);
  for (const el of root.querySelectorAll("[data-w-ph]")) el.placeholder = w(el.dataset.wPh);
  for (const el of root.querySelectorAll("option[data-k]")) el.textContent = w(`k.${el.value}`);
}

export function renderLanguageSwitch(box, onChange) {
  box.replaceChildren(...["ru", "kk", "en"].map((l) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = l;
    b.setAttribute("aria-pressed", String(l === language()));
    b.addEventListener("click", async () => {
      await setLanguage(l);
      onChange(l);
      renderLanguageSwitch(box, onChange);
    });
    return b;
  }));
}
