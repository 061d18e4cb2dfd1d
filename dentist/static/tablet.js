// The dentist's tablet: current patient, the buttons, the waiting list.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const api = Navbat.api;

  const el = {
    name: document.getElementById("dentist-name"),
    room: document.getElementById("room"),
    current: document.getElementById("current"),
    number: document.getElementById("current-number"),
    service: document.getElementById("current-service"),
    state: document.getElementById("current-state"),
    recalls: document.getElementById("current-recalls"),
    waiting: document.getElementById("waiting"),
    waitingCount: document.getElementById("waiting-count"),
    waitingEmpty: document.getElementById("waiting-empty"),
    error: document.getElementById("error"),
    dot: document.getElementById("dot"),
    signOut: document.getElementById("sign-out"),
    buttons: document.querySelectorAll("[data-action]"),
  };

  // Which buttons make sense for the current ticket's state.
  const ENABLED = {
    none: ["call-next"],
    called: ["recall", "start", "done", "no-show"],
    serving: ["done"],
  };

  let refreshTimer = null;
  let acting = false;

  function minutesSince(iso) {
    return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  }

  function render(state) {
    el.name.textContent = state.dentist.name;
    el.room.textContent = t("dentist.room", { room: data.rooms[state.dentist.room] });
    const current = state.current;
    el.current.dataset.state = current ? current.state : "none";
    if (current) {
      el.number.textContent = current.label;
      el.service.textContent = data.services[current.service] || current.service;
      el.state.textContent = t("state." + current.state);
      el.state.className = "state state-" + current.state;
      el.recalls.textContent = current.recalls
        ? t("dentist.recalls", { count: current.recalls })
        : "";
    }
    const allowed = ENABLED[current ? current.state : "none"] || [];
    for (const button of el.buttons) {
      button.disabled = acting || !allowed.includes(button.dataset.action);
    }
    renderWaiting(state.waiting);
  }

  function renderWaiting(waiting) {
    el.waitingCount.textContent = `(${waiting.length})`;
    el.waitingEmpty.hidden = waiting.length > 0;
    const items = waiting.map((ticket) => {
      const li = document.createElement("li");
      const number = document.createElement("span");
      number.className = "waiting-number";
      number.textContent = ticket.label;
      const service = document.createElement("span");
      service.textContent = data.services[ticket.service] || ticket.service;
      const since = document.createElement("span");
      since.className = "waiting-since";
      since.textContent = t("dentist.waited", { minutes: minutesSince(ticket.issued_at) });
      li.append(number, service, since);
      return li;
    });
    el.waiting.replaceChildren(...items);
  }

  async function refresh() {
    try {
      render(await api("GET", "/dentist/state"));
    } catch (err) {
      showError(err.message);
    }
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 100);
  }

  function showError(message) {
    el.error.textContent = message;
    el.error.hidden = false;
  }

  async function act(button) {
    if (acting) return;
    acting = true;
    el.error.hidden = true;
    button.setAttribute("aria-busy", "true");
    for (const other of el.buttons) other.disabled = true;
    try {
      await api("POST", "/dentist/" + button.dataset.action);
    } catch (err) {
      showError(err.message);
    }
    acting = false;
    button.removeAttribute("aria-busy");
    await refresh();
  }

  for (const button of el.buttons) {
    button.addEventListener("click", () => act(button));
  }
  el.signOut.addEventListener("click", async () => {
    await api("POST", "/dentist/logout");
    location.reload();
  });
  setInterval(refresh, 60000); // keeps the "waiting N min" lines current

  refresh();
  Navbat.live({
    auth: { audience: "staff" },
    dot: el.dot,
    onSnapshot: refreshSoon,
    handlers: { queue: refreshSoon },
  });
})();
