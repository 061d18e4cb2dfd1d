// On the day's queue: show which tickets belong to a patient card, and link
// a ticket to a card found by number, phone or name.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const tickets = document.getElementById("tickets");
  const notice = document.getElementById("notice");
  // A patient linking a ticket at the kiosk sends no queue event: look again.
  const REFRESH_MS = 5000;
  let links = {}; // ticket label -> {id, patient}
  let asking = null;
  let linking = null; // the ticket the dialog links

  const dialog = document.createElement("dialog");
  dialog.className = "link-dialog";
  dialog.id = "link-dialog";
  dialog.innerHTML = `
    <form method="dialog" novalidate>
      <h2 id="link-title"></h2>
      <label class="field"><span id="link-label"></span>
        <input name="q" type="search" autocomplete="off" id="link-q"></label>
      <p class="notice notice-error" role="alert" hidden></p>
      <ul id="link-results"></ul>
      <div class="desk-form-actions"><button class="btn" value="close" id="link-close"></button></div>
    </form>`;
  document.body.append(dialog);
  const form = dialog.querySelector("form");
  const query = dialog.querySelector("#link-q");
  const results = dialog.querySelector("#link-results");
  dialog.querySelector("#link-label").textContent = t("patients.search_label");
  dialog.querySelector("#link-close").textContent = t("patients.close");
  query.placeholder = t("patients.search_hint");

  function decorate() {
    for (const tr of tickets.querySelectorAll("tr[data-ticket]")) {
      const label = tr.dataset.ticket;
      const link = links[label];
      const bar = tr.querySelector(".desk-actions");
      if (!link || !bar) continue;
      const wanted = link.patient ? link.patient.number : "";
      const shown = bar.querySelector(".patient-link");
      if (shown && shown.dataset.number === wanted) continue;
      if (shown) shown.remove();
      let node;
      if (link.patient) {
        node = document.createElement("a");
        node.href = `/reception/patients/${encodeURIComponent(link.patient.number)}`;
        node.textContent = `${link.patient.number} · ${link.patient.name}`;
        node.className = "patient-link";
      } else {
        node = document.createElement("button");
        node.type = "button";
        node.className = "btn patient-link";
        node.textContent = t("patients.link");
        node.addEventListener("click", () => open(label, link.id));
      }
      node.dataset.number = wanted;
      bar.prepend(node);
    }
  }

  async function refresh() {
    try {
      links = (await Navbat.api("GET", "/patients/tickets/today")).tickets;
    } catch (err) {
      return; // the day's list still works; links come with the next change
    }
    decorate();
  }

  function refreshSoon() {
    clearTimeout(asking);
    asking = setTimeout(refresh, 200);
  }

  function open(label, id) {
    linking = { label, id };
    dialog.querySelector("#link-title").textContent = t("patients.link_title", { ticket: label });
    Navbat.clearFormError(form);
    results.replaceChildren();
    query.value = "";
    dialog.showModal();
    query.focus();
  }

  async function search() {
    Navbat.clearFormError(form);
    const text = query.value.trim();
    if (!text) return;
    try {
      const answer = await Navbat.api("GET", `/patients?q=${encodeURIComponent(text)}`);
      results.replaceChildren(...answer.patients.map(choice));
      if (!answer.patients.length) {
        const li = document.createElement("li");
        li.textContent = t("patients.no_results");
        results.append(li);
      }
    } catch (err) {
      Navbat.formError(form, err);
    }
  }

  function choice(patient) {
    const li = document.createElement("li");
    const who = document.createElement("span");
    const born = patient.birth_date ? ` · ${Navbat.clinicDate(patient.birth_date)}` : "";
    who.textContent = `${patient.number} · ${patient.last_name} ${patient.first_name}${born} · ${patient.phone_display}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-primary";
    button.textContent = t("patients.link_choose");
    button.addEventListener("click", () => link(patient.number));
    li.append(who, button);
    return li;
  }

  async function link(number) {
    try {
      await Navbat.api("POST", `/patients/${encodeURIComponent(number)}/visits`, {
        ticket: linking.id,
      });
      dialog.close();
      notice.textContent = t("patients.linked", { ticket: linking.label, number });
      notice.className = "notice";
      notice.hidden = false;
      await refresh();
    } catch (err) {
      Navbat.formError(form, err);
    }
  }

  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.value === "close") return;
    event.preventDefault();
    search();
  });
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      search();
    }
  });
  new MutationObserver(() => {
    decorate();
    refreshSoon();
  }).observe(tickets, { childList: true });
  refresh();
  setInterval(() => {
    if (!document.hidden) refresh();
  }, REFRESH_MS);
})();
