// The dentist's tablet: current patient, the buttons, the waiting list, the
// transfer dialog and the break.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const api = Navbat.api;

  const el = {
    name: document.getElementById("dentist-name"),
    room: document.getElementById("room"),
    onBreak: document.getElementById("break"),
    current: document.getElementById("current"),
    number: document.getElementById("current-number"),
    service: document.getElementById("current-service"),
    state: document.getElementById("current-state"),
    priority: document.getElementById("current-priority"),
    recalls: document.getElementById("current-recalls"),
    waiting: document.getElementById("waiting"),
    waitingCount: document.getElementById("waiting-count"),
    waitingEmpty: document.getElementById("waiting-empty"),
    error: document.getElementById("error"),
    notice: document.getElementById("notice"),
    dot: document.getElementById("dot"),
    signOut: document.getElementById("sign-out"),
    buttons: document.querySelectorAll("[data-action]"),
    pause: document.getElementById("pause"),
    transfer: document.getElementById("transfer"),
    reprint: document.getElementById("reprint"),
    dialog: document.getElementById("transfer-dialog"),
    dialogTitle: document.getElementById("transfer-title"),
    transferServices: document.getElementById("transfer-services"),
    transferDentists: document.getElementById("transfer-dentists"),
    transferError: document.getElementById("transfer-error"),
    transferCancel: document.getElementById("transfer-cancel"),
    transferSubmit: document.getElementById("transfer-submit"),
    agendaHours: document.getElementById("agenda-hours"),
    agendaWalkIns: document.getElementById("agenda-walk-ins"),
    agendaList: document.getElementById("agenda-list"),
  };

  // Which buttons make sense now; "pause" is the Pause/Resume button.
  const ENABLED = {
    none: ["call-next", "pause"],
    called: ["recall", "start", "done", "no-show", "transfer"],
    serving: ["done", "transfer"],
    paused: ["pause"],
  };

  let state = null; // the last answer of GET /dentist/state
  let selected = null; // the waiting ticket the dentist tapped
  let choice = { service: null, dentist: null }; // the transfer dialog's
  let refreshTimer = null;
  let acting = false;

  function minutesSince(iso) {
    return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  }

  function serviceName(id) {
    return data.services[id] || id;
  }

  // A priority is a word on a colour: colour alone is never the only signal.
  function showPriority(node, priority) {
    const marked = priority && priority !== "normal";
    node.hidden = !marked;
    node.className = "priority priority-" + priority;
    node.textContent = marked ? t("priority." + priority) : "";
  }

  function situation() {
    if (state.paused) return "paused";
    return state.current ? state.current.state : "none";
  }

  function allowed(action) {
    const current = state.current;
    if (action === "recall" && current && current.recalls >= state.recall_limit) {
      return false;
    }
    return (ENABLED[situation()] || []).includes(action);
  }

  function render() {
    el.name.textContent = state.dentist.name;
    el.room.textContent = t("dentist.room", { room: data.rooms[state.dentist.room] });
    el.onBreak.hidden = !state.paused;
    el.pause.dataset.action = state.paused ? "resume" : "pause";
    el.pause.textContent = t(state.paused ? "dentist.resume" : "dentist.pause");
    el.pause.setAttribute("aria-pressed", String(state.paused));

    const current = state.current;
    el.current.dataset.state = current ? current.state : "none";
    if (current) {
      el.number.textContent = current.label;
      el.service.textContent = serviceName(current.service);
      el.state.textContent = t("state." + current.state);
      el.state.className = "state state-" + current.state;
      showPriority(el.priority, current.priority);
      el.recalls.textContent =
        current.state === "called"
          ? t("dentist.recalls", { count: current.recalls, limit: state.recall_limit })
          : "";
    }
    for (const button of el.buttons) {
      const action = button === el.pause ? "pause" : button.dataset.action;
      button.disabled = acting || !allowed(action);
    }
    el.transfer.disabled = acting || !allowed("transfer");
    el.reprint.disabled = acting || !(state && state.current);
    renderWaiting();
    // The current patient's card, if linked (current_patient.js).
    document.dispatchEvent(new CustomEvent("navbat:current", { detail: current }));
  }

  function renderWaiting() {
    const waiting = state.waiting;
    el.waitingCount.textContent = `(${waiting.length})`;
    el.waitingEmpty.hidden = waiting.length > 0;
    if (!waiting.some((ticket) => ticket.id === selected)) selected = null;
    const canCall = !acting && situation() === "none";
    el.waiting.replaceChildren(...waiting.map((ticket) => waitingItem(ticket, canCall)));
  }

  function waitingItem(ticket, canCall) {
    const li = document.createElement("li");
    const open = ticket.id === selected;
    const item = document.createElement("button");
    item.type = "button";
    item.className = "waiting-item";
    item.dataset.priority = ticket.priority;
    item.setAttribute("aria-expanded", String(open));
    const number = document.createElement("span");
    number.className = "waiting-number";
    number.textContent = ticket.label;
    const service = document.createElement("span");
    service.className = "waiting-service";
    service.textContent = serviceName(ticket.service);
    const priority = document.createElement("span");
    showPriority(priority, ticket.priority);
    const since = document.createElement("span");
    since.className = "waiting-since";
    const minutes = minutesSince(ticket.issued_at);
    since.textContent =
      minutes < 1 ? t("dentist.waited_now") : t("dentist.waited", { minutes });
    item.append(number, service, priority, since);
    item.addEventListener("click", () => {
      selected = open ? null : ticket.id;
      renderWaiting();
    });
    li.append(item);
    if (open) {
      const call = document.createElement("button");
      call.type = "button";
      call.className = "btn btn-primary waiting-call";
      call.textContent = t("dentist.call_this");
      call.disabled = !canCall;
      call.addEventListener("click", () => run(call, `/dentist/call/${ticket.id}`));
      li.append(call);
    }
    return li;
  }

  async function refresh() {
    try {
      state = await api("GET", "/dentist/state");
      render();
    } catch (err) {
      showError(err.message);
    }
    refreshAgenda();
  }

  // -- today's plan, appointments and walk-ins: a compact panel ---------------

  const clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: data.timezone,
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });
  const timeOf = (iso) => clock.format(new Date(iso));

  async function refreshAgenda() {
    let today;
    try {
      today = await api("GET", "/dentist/today");
    } catch (err) {
      return; // the main panel already says what went wrong
    }
    const plan = today.plan;
    el.agendaHours.textContent = plan
      ? t("agenda.hours", {
          starts: timeOf(plan.starts),
          ends: timeOf(plan.ends),
          room: data.rooms[plan.room] || plan.room,
        }) +
        plan.breaks
          .map((b) => ", " + t("agenda.break", { starts: timeOf(b[0]), ends: timeOf(b[1]) }))
          .join("")
      : t("agenda.off");
    el.agendaWalkIns.textContent = t("agenda.walk_ins", { count: today.walk_ins });
    const items = today.appointments.map((a) => {
      const li = document.createElement("li");
      li.className = "agenda-item";
      li.dataset.state = a.state;
      const when = document.createElement("strong");
      when.textContent = timeOf(a.starts);
      const what = document.createElement("span");
      what.textContent = `${serviceName(a.service)} · ${a.patient_name}`;
      const status = document.createElement("span");
      status.className = "agenda-state";
      status.textContent = a.ticket
        ? `${t("booking.state_" + a.state)} · ${a.ticket}`
        : t("booking.state_" + a.state);
      li.append(when, what, status);
      return li;
    });
    if (items.length === 0) {
      const li = document.createElement("li");
      li.className = "agenda-none";
      li.textContent = t("agenda.none");
      items.push(li);
    }
    el.agendaList.replaceChildren(...items);
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 100);
  }

  function showError(message) {
    el.error.textContent = message;
    el.error.hidden = false;
  }

  function showNotice(message) {
    el.notice.textContent = message;
    el.notice.hidden = false;
  }

  function lockButtons(button) {
    acting = true;
    el.error.hidden = true;
    el.notice.hidden = true;
    button.setAttribute("aria-busy", "true");
    for (const other of el.buttons) other.disabled = true;
    el.transfer.disabled = true;
  }

  async function unlockButtons(button) {
    acting = false;
    button.removeAttribute("aria-busy");
    await refresh();
  }

  // One tap, one request; a refusal says why in one line.
  async function run(button, path) {
    if (acting) return;
    lockButtons(button);
    try {
      await api("POST", path);
    } catch (err) {
      showError(err.message);
    }
    await unlockButtons(button);
  }

  // -- the transfer dialog: a service, then (if wanted) a dentist for it ------

  function option(text, pressed, onChoose) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn transfer-option";
    button.textContent = text;
    button.setAttribute("aria-pressed", String(pressed));
    button.addEventListener("click", onChoose);
    return button;
  }

  function renderTransfer() {
    const targets = state.transfer_to;
    // Only services someone provides: a ticket nobody can call would be lost.
    const provided = new Set(state.services);
    for (const dentist of targets.dentists) {
      for (const id of dentist.services) provided.add(id);
    }
    el.transferServices.replaceChildren(
      ...targets.services.filter((id) => provided.has(id)).map((id) =>
        option(serviceName(id), choice.service === id, () => {
          choice = { service: id, dentist: null };
          renderTransfer();
        }),
      ),
    );
    if (choice.service === null) {
      const hint = document.createElement("p");
      hint.className = "transfer-hint";
      hint.textContent = t("dentist.transfer_pick_service");
      el.transferDentists.replaceChildren(hint);
    } else {
      const providers = targets.dentists.filter((d) => d.services.includes(choice.service));
      const pick = (id) => () => {
        choice.dentist = id;
        renderTransfer();
      };
      el.transferDentists.replaceChildren(
        option(t("dentist.any_dentist"), choice.dentist === null, pick(null)),
        ...providers.map((d) => option(d.name, choice.dentist === d.id, pick(d.id))),
      );
    }
    el.transferSubmit.disabled = acting || choice.service === null;
  }

  function openTransfer() {
    if (!state || !state.current) return;
    choice = { service: null, dentist: null };
    el.dialogTitle.textContent = t("dentist.transfer_title", { ticket: state.current.label });
    el.transferError.hidden = true;
    renderTransfer();
    el.dialog.showModal();
  }

  async function submitTransfer() {
    if (acting || choice.service === null) return;
    const body = { service: choice.service };
    if (choice.dentist) body.dentist = choice.dentist;
    const chosen = state.transfer_to.dentists.find((d) => d.id === choice.dentist);
    lockButtons(el.transferSubmit);
    el.transferSubmit.disabled = true;
    el.transferError.hidden = true;
    try {
      const answer = await api("POST", "/dentist/transfer", body);
      el.dialog.close();
      showNotice(
        t(chosen ? "dentist.transferred_to" : "dentist.transferred", {
          ticket: answer.ticket.label,
          service: serviceName(choice.service),
          dentist: chosen ? chosen.name : "",
        }),
      );
    } catch (err) {
      el.transferError.textContent = err.message;
      el.transferError.hidden = false;
    }
    await unlockButtons(el.transferSubmit);
    if (el.dialog.open) renderTransfer();
  }

  for (const button of el.buttons) {
    button.addEventListener("click", () => run(button, "/dentist/" + button.dataset.action));
  }
  el.transfer.addEventListener("click", openTransfer);
  // The patient's paper jammed or got lost: print their ticket again.
  el.reprint.addEventListener("click", async () => {
    const current = state && state.current;
    if (!current) return;
    try {
      await api("POST", `/tickets/${current.id}/reprint`);
      showNotice(t("dentist.reprinted", { ticket: current.label }));
    } catch (err) {
      showError(err.message);
    }
  });
  el.transferCancel.addEventListener("click", () => el.dialog.close());
  el.transferSubmit.addEventListener("click", submitTransfer);
  el.signOut.addEventListener("click", async () => {
    await api("POST", "/dentist/logout");
    location.reload();
  });
  setInterval(refresh, 60000); // keeps the "waiting N min" lines current

  // Untouched for the clinic's lock time, the tablet goes back to the PIN pad,
  // so nobody passing by reads a patient's details. The hub keeps the same
  // clock: a touch tells it (at most every 30 s) that someone is here.
  const lockMs = data.lock_minutes * 60000;
  let lastTouch = Date.now();
  let lastAwake = Date.now();
  document.addEventListener(
    "pointerdown",
    () => {
      lastTouch = Date.now();
      if (lastTouch - lastAwake > 30000) {
        lastAwake = lastTouch;
        api("POST", "/dentist/awake").catch(() => {});
      }
    },
    true,
  );
  if (lockMs) {
    setInterval(() => {
      if (Date.now() - lastTouch >= lockMs) location.reload();
    }, 5000);
  }

  refresh();
  Navbat.live({
    auth: { audience: "staff" },
    dot: el.dot,
    onSnapshot: refreshSoon,
    handlers: { queue: refreshSoon, rooms: refreshSoon, appointments: refreshSoon },
  });
})();
