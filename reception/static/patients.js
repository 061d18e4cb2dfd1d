// The patient list: search as you type by number, phone or name, open with
// the keyboard; the admin also sees today's takings.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const el = {
    form: document.getElementById("search-form"),
    q: document.getElementById("q"),
    table: document.getElementById("results-table"),
    results: document.getElementById("results"),
    empty: document.getElementById("empty"),
    error: document.getElementById("error"),
    takings: document.getElementById("takings"),
    newCard: document.getElementById("new"),
  };
  const SEARCH_DELAY_MS = 200;
  let found = [];
  let chosen = -1;
  let timer = null;
  let asked = 0;
  let searched = null; // the query the list shows

  function cardUrl(number) {
    return `/reception/patients/${encodeURIComponent(number)}`;
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function bornText(patient) {
    if (!patient.birth_date) return "";
    const [y, m, d] = patient.birth_date.split("-");
    return `${d}.${m}.${y} (${t("patients.age", { age: patient.age })})`;
  }

  function render() {
    el.table.hidden = found.length === 0;
    el.results.replaceChildren(
      ...found.map((patient, index) => {
        const tr = document.createElement("tr");
        tr.className = "patient-row";
        tr.setAttribute("aria-selected", String(index === chosen));
        const link = document.createElement("a");
        link.href = cardUrl(patient.number);
        link.textContent = patient.number;
        const number = cell("");
        number.append(link);
        const flags = cell("");
        flags.append(...Navbat.riskList(patient.flags, data.flags));
        tr.append(
          number,
          cell(`${patient.last_name} ${patient.first_name}`),
          cell(bornText(patient)),
          cell(patient.phone_display),
          flags,
        );
        tr.addEventListener("click", (event) => {
          if (event.target.tagName !== "A") location.assign(cardUrl(patient.number));
        });
        return tr;
      }),
    );
  }

  async function search() {
    const query = el.q.value.trim();
    const mine = ++asked;
    el.error.hidden = true;
    if (query.length < 2 && !/\d/.test(query)) {
      found = [];
      searched = null;
      el.empty.textContent = t("patients.search_start");
      el.empty.hidden = false;
      render();
      return;
    }
    try {
      const answer = await Navbat.api("GET", `/patients?q=${encodeURIComponent(query)}`);
      if (mine !== asked) return; // an older answer arriving late
      found = answer.patients;
      searched = query;
      chosen = found.length ? 0 : -1;
      el.empty.textContent = t("patients.no_results");
      el.empty.hidden = found.length > 0;
      render();
    } catch (err) {
      el.error.textContent = err.message;
      el.error.hidden = false;
    }
  }

  function move(step) {
    if (!found.length) return;
    chosen = (chosen + step + found.length) % found.length;
    render();
  }

  el.q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, SEARCH_DELAY_MS);
  });
  el.q.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") move(1);
    else if (event.key === "ArrowUp") move(-1);
    else return;
    event.preventDefault();
  });
  // Enter opens the chosen card once the list shows what was typed;
  // before that it searches, and opens the card if only one was found.
  el.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    if (searched === el.q.value.trim() && found[chosen]) {
      location.assign(cardUrl(found[chosen].number));
      return;
    }
    await search();
    if (found.length === 1) location.assign(cardUrl(found[0].number));
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      el.q.focus();
      el.q.select();
    } else if ((event.key === "n" || event.key === "N") && !typing && el.newCard) {
      event.preventDefault();
      location.assign(el.newCard.href);
    }
  });

  async function loadTakings() {
    if (!el.takings) return;
    try {
      const answer = await Navbat.api("GET", "/payments/takings");
      const money = (amount) => t("patients.som", { amount: amount.toLocaleString("ru-RU") });
      const rows = Object.entries(answer.methods).map(([method, sum]) => {
        const tr = document.createElement("tr");
        tr.append(cell(t("patients.method_" + method)), cell(money(sum.amount)), cell(String(sum.count)));
        return tr;
      });
      const total = document.createElement("tr");
      total.className = "takings-total";
      total.append(cell(t("patients.takings_total")), cell(money(answer.total)), cell(""));
      el.takings.replaceChildren(...rows, total);
    } catch (err) {
      el.error.textContent = err.message;
      el.error.hidden = false;
    }
  }

  // The admin adds a risk flag of the clinic's own, named in each language.
  const flagForm = document.getElementById("flag-form");
  if (flagForm) {
    flagForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      Navbat.clearFormError(flagForm);
      const f = flagForm.elements;
      try {
        const answer = await Navbat.api("POST", "/patients/flags", {
          flag_code: f.flag_code.value.trim(),
          names: { uz: f.name_uz.value, ru: f.name_ru.value, en: f.name_en.value },
        });
        const li = document.createElement("li");
        li.append(...Navbat.riskList([answer.flag.code], { [answer.flag.code]: answer.flag.name[data.lang] }));
        document.getElementById("clinic-flags").append(li);
        flagForm.reset();
        const notice = document.getElementById("flag-notice");
        notice.textContent = t("patients.flag_added", { flag: answer.flag.name[data.lang] });
        notice.hidden = false;
      } catch (err) {
        Navbat.formError(flagForm, err);
      }
    });
  }

  if (el.q.value.trim()) search();
  loadTakings();
})();
