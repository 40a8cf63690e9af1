// Words of the emergency view in ru, kk and en; the language is the console's (same choice).

const KEY = "minepos.lang";
const LANGS = ["ru", "kk", "en"];

const WORDS = {
  en: {
    "title.none": "No emergency declared", "title.active": "EMERGENCY: {kind}", "title.ended": "Ended: {kind}",
    "detail": "{place} · declared {t} UTC by {who}", "back": "Console",
    "declare.title": "Declare an emergency", "declare.kind": "Kind", "declare.tunnel": "Tunnel",
    "declare.at": "At (m)", "declare.note": "Note", "declare.submit": "DECLARE EMERGENCY",
    "acc.title": "Accounting", "evac.title": "Evacuation order", "evac.all": "Evacuate everyone",
    "evac.zone": "Evacuate zone", "evac.person": "Evacuate person", "evac.person.ph": "person or tag",
    "evac.sent": "order {id} sent to {n} tags at {t}",
    "blocked.title": "Blocked", "block": "Block", "unblock": "Unblock", "none": "none",
    "replay.title": "Replay", "replay.live": "Back to live", "report": "Emergency report",
    "replay.loaded": "{n} minutes recorded; move the slider to replay",
    "replay.frame": "minute {m} ({t} UTC): unaccounted {u}, refuge {r}, out {o}, not acknowledged {a}, blocked {b}",
    "sheet.html": "Rescue sheet (print)", "sheet.pdf": "Rescue sheet PDF", "end": "End emergency",
    "end.confirm": "End the emergency?",
    "legend.noexit": "no open exit route", "legend.stale": "stale or uncertain",
    "legend.open": "unaccounted, route open", "legend.safe": "in refuge or out", "legend.blocked": "blocked",
    "list.unaccounted": "Unaccounted", "list.noexit": "No open exit route", "list.unacked": "Not acknowledged",
    "c.involved": "involved", "c.unaccounted": "unaccounted", "c.refuge": "in refuge", "c.out": "out",
    "c.no_exit_route": "no open exit route", "c.no_route": "no route at all", "c.stale": "stale",
    "c.uncertain": "uncertain", "c.unacknowledged": "not acknowledged",
    "h.person": "person", "h.place": "last place", "h.seen": "seen", "h.route": "route out",
    "h.refuge": "refuge", "h.order": "order", "h.sent": "sent", "h.zones": "zones", "h.level": "level",
    "h.underground": "underground", "h.status": "status",
    "route.none": "NO OPEN ROUTE", "route.via": "via", "noexit": "NO EXIT · refuge: {r}",
    "never": "never", "never.placed": "never placed", "sec": "s", "min": "min",
    "f.stale": "stale", "f.uncertain": "uncertain", "f.lost": "lost", "f.sos": "SOS", "f.motionless": "motionless",
    "k.fire": "fire", "k.explosion": "explosion", "k.collapse": "collapse", "k.gas": "gas", "k.flood": "flood",
    "k.other": "other", "k.smoke": "smoke", "k.water": "water", "k.cage": "cage",
  },
  ru: {
    "title.none": "Авария не объявлена", "title.active": "АВАРИЯ: {kind}", "title.ended": "Завершена: {kind}",
    "detail": "{place} · объявлена {t} UTC, {who}", "back": "Консоль",
    "declare.title": "Объявить аварию", "declare.kind": "Вид", "declare.tunnel": "Выработка",
    "declare.at": "Место (м)", "declare.note": "Примечание", "declare.submit": "ОБЪЯВИТЬ АВАРИЮ",
    "acc.title": "Учёт людей", "evac.title": "Приказ на эвакуацию", "evac.all": "Эвакуировать всех",
    "evac.zone": "Эвакуировать зону", "evac.person": "Эвакуировать человека", "evac.person.ph": "человек или метка",
    "evac.sent": "приказ {id} отправлен на {n} меток в {t}",
    "blocked.title": "Перекрыто", "block": "Перекрыть", "unblock": "Открыть", "none": "нет",
    "replay.title": "Воспроизведение", "replay.live": "К текущему", "report": "Отчёт об аварии",
    "replay.loaded": "записано минут: {n}; двигайте ползунок",
    "replay.frame": "минута {m} ({t} UTC): не учтены {u}, в убежище {r}, вышли {o}, не подтвердили {a}, перекрыто {b}",
    "sheet.html": "Лист горноспасателей (печать)", "sheet.pdf": "Лист горноспасателей PDF",
    "end": "Завершить аварию", "end.confirm": "Завершить аварию?",
    "legend.noexit": "нет пути к выходу", "legend.stale": "устарело или неточно",
    "legend.open": "не учтён, путь открыт", "legend.safe": "в убежище или вышел", "legend.blocked": "перекрыто",
    "list.unaccounted": "Не учтены", "list.noexit": "Нет открытого пути к выходу", "list.unacked": "Не подтвердили",
    "c.involved": "всего", "c.unaccounted": "не учтены", "c.refuge": "в убежище", "c.out": "вышли",
    "c.no_exit_route": "нет пути к выходу", "c.no_route": "нет пути вообще", "c.stale": "устарело",
    "c.uncertain": "неточно", "c.unacknowledged": "не подтвердили",
    "h.person": "человек", "h.place": "последнее место", "h.seen": "видели", "h.route": "путь выхода",
    "h.refuge": "убежище", "h.order": "приказ", "h.sent": "отправлен", "h.zones": "зоны", "h.level": "горизонт",
    "h.underground": "под землёй", "h.status": "состояние",
    "route.none": "НЕТ ОТКРЫТОГО ПУТИ", "route.via": "через", "noexit": "НЕТ ВЫХОДА · убежище: {r}",
    "never": "никогда", "never.placed": "место неизвестно", "sec": "с", "min": "мин",
    "f.stale": "устарело", "f.uncertain": "неточно", "f.lost": "потерян", "f.sos": "SOS", "f.motionless": "неподвижен",
    "k.fire": "пожар", "k.explosion": "взрыв", "k.collapse": "обрушение", "k.gas": "газ", "k.flood": "затопление",
    "k.other": "другое", "k.smoke": "дым", "k.water": "вода", "k.cage": "клеть",
  },
  kk: {
    "title.none": "Апат жарияланбаған", "title.active": "АПАТ: {kind}", "title.ended": "Аяқталды: {kind}",
    "detail": "{place} · жарияланды {t} UTC, {who}", "back": "Консоль",
    "declare.title": "Апат жариялау", "declare.kind": "Түрі", "declare.tunnel": "Қазба",
    "declare.at": "Орны (м)", "declare.note": "Ескертпе", "declare.submit": "АПАТТЫ ЖАРИЯЛАУ",
    "acc.title": "Адамдарды есепке алу", "evac.title": "Эвакуация бұйрығы", "evac.all": "Барлығын эвакуациялау",
    "evac.zone": "Аймақты эвакуациялау", "evac.person": "Адамды эвакуациялау", "evac.person.ph": "адам немесе белгі",
    "evac.sent": "{id} бұйрығы {n} белгіге {t} жіберілді",
    "blocked.title": "Жабық", "block": "Жабу", "unblock": "Ашу", "none": "жоқ",
    "replay.title": "Қайта ойнату", "replay.live": "Ағымдағыға оралу", "report": "Апат туралы есеп",
    "replay.loaded": "жазылған минуттар: {n}; жүгірткіні жылжытыңыз",
    "replay.frame": "{m}-минут ({t} UTC): есепке алынбаған {u}, паналауда {r}, шықты {o}, растамаған {a}, жабық {b}",
    "sheet.html": "Құтқарушылар парағы (басып шығару)", "sheet.pdf": "Құтқарушылар парағы PDF",
    "end": "Апатты аяқтау", "end.confirm": "Апатты аяқтау керек пе?",
    "legend.noexit": "шығуға жол жоқ", "legend.stale": "ескірген немесе анық емес",
    "legend.open": "есепке алынбаған, жол ашық", "legend.safe": "паналауда немесе шықты", "legend.blocked": "жабық",
    "list.unaccounted": "Есепке алынбағандар", "list.noexit": "Шығуға ашық жол жоқ", "list.unacked": "Растамағандар",
    "c.involved": "барлығы", "c.unaccounted": "есепке алынбаған", "c.refuge": "паналауда", "c.out": "шықты",
    "c.no_exit_route": "шығуға жол жоқ", "c.no_route": "мүлде жол жоқ", "c.stale": "ескірген",
    "c.uncertain": "анық емес", "c.unacknowledged": "растамаған",
    "h.person": "адам", "h.place": "соңғы орны", "h.seen": "көрінді", "h.route": "шығу жолы",
    "h.refuge": "паналау орны", "h.order": "бұйрық", "h.sent": "жіберілді", "h.zones": "аймақтар",
    "h.level": "горизонт", "h.underground": "жер астында", "h.status": "күйі",
    "route.none": "АШЫҚ ЖОЛ ЖОҚ", "route.via": "арқылы", "noexit": "ШЫҒУ ЖОҚ · паналау: {r}",
    "never": "ешқашан", "never.placed": "орны белгісіз", "sec": "с", "min": "мин",
    "f.stale": "ескірген", "f.uncertain": "анық емес", "f.lost": "жоғалған", "f.sos": "SOS", "f.motionless": "қозғалыссыз",
    "k.fire": "өрт", "k.explosion": "жарылыс", "k.collapse": "опырылу", "k.gas": "газ", "k.flood": "су басу",
    "k.other": "басқа", "k.smoke": "түтін", "k.water": "су", "k.cage": "клеть",
  },
};

let lang = "en";

export function pickLanguage() {
  const saved = localStorage.getItem(KEY);
  if (LANGS.includes(saved)) return saved;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

export function setLanguage(next) {
  lang = LANGS.includes(next) ? next : "en";
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

export function language() { return lang; }

// w("evac.sent", {id, n, t}): the words in the current language (English where one is missing).
export function w(key, vars) {
  let s = WORDS[lang][key] ?? WORDS.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

// Static text: elements with data-w (text), data-w-ph (placeholder), option values (kinds).
export function applyWords(root) {
  for (const el of root.querySelectorAll("[data-w]")) el.textContent = w(el.dataset.w);
  for (const el of root.querySelectorAll("[data-w-ph]")) el.placeholder = w(el.dataset.wPh);
  for (const el of root.querySelectorAll("option[data-k]")) el.textContent = w(`k.${el.value}`);
}

export function renderLanguageSwitch(box, onChange) {
  box.replaceChildren(...LANGS.map((l) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = l;
    b.setAttribute("aria-pressed", String(l === lang));
    b.addEventListener("click", () => { setLanguage(l); onChange(l); renderLanguageSwitch(box, onChange); });
    return b;
  }));
}
