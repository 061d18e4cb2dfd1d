// Reception's schedule: a day (every dentist) or a week (one dentist), free
// times to book, appointments to move, cancel and check in, and the plans.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const api = Navbat.api;
  const dentists = Object.fromEntries(data.dentists.map((d) => [d.id, d]));
  const CONFIRM_SECONDS = 5;

  const el = {
    grid: document.getElementById("grid"),
    day: document.getElementById("day"),
    dentist: document.getElementById("dentist"),
    service: document.getElementById("service"),
    notice: document.getElementById("notice"),
    counts: document.getElementById("counts"),
    viewDay: document.getElementById("view-day"),
    viewWeek: document.getElementById("view-week"),
    firstFree: document.getElementById("first-free"),
    dialog: document.getElementById("book-dialog"),
    bookForm: document.getElementById("book-form"),
    bookTitle: document.getElementById("book-title"),
    bookService: document.getElementById("book-service"),
    dot: document.getElementById("dot"),
  };

  let view = "day";
  let day = null; // "YYYY-MM-DD", the shown day (or the week's first)
  let today = null;
  let chosen = null; // the free slot being booked
  let moving = null; // the appointment being moved
  let confirming = null;
  let confirmTimer = null;
  let refreshTimer = null;

  // Times in the clinic's zone, 24 h, whatever the desk computer's zone.
  const clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: data.timezone,
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });
  const timeOf = (iso) => clock.format(new Date(iso));
  const localStart = (iso) => iso.slice(0, 16); // "2026-12-04T10:30" as the hub sent it

  function dayLabel(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    const weekday = data.weekdays[(new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7];
    return `${t("schedule." + weekday)} ${String(d).padStart(2, "0")}.${String(m).padStart(2, "0")}.${y}`;
  }

  function shift(iso, days) {
    const [y, m, d] = iso.split("-").map(Number);
    const date = new Date(Date.UTC(y, m - 1, d + days));
    return date.toISOString().slice(0, 10);
  }

  function node(tag, className, text) {
    const n = document.createElement(tag);
    if (className) n.className = className;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function button(text, onClick, className) {
    const b = node("button", className || "btn btn-small", text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function tell(text) {
    el.notice.textContent = text;
    el.notice.hidden = !text;
  }

  // -- loading ----------------------------------------------------------------

  async function refresh() {
    const service = el.service.value;
    try {
      if (view === "day") {
        const query = new URLSearchParams({ day: day || "" });
        if (service) query.set("service", service);
        const answer = await api("GET", "/schedule/day?" + query);
        today = answer.today;
        day = answer.day;
        renderDay(answer);
      } else {
        const dentist = el.dentist.value || data.own_dentist || data.dentists[0].id;
        const query = new URLSearchParams({ start: day || "", dentist });
        if (service) query.set("service", service);
        const answer = await api("GET", "/schedule/week?" + query);
        today = answer.today;
        day = answer.days[0].day;
        renderWeek(answer);
      }
      el.day.value = day;
    } catch (error) {
      tell(error.message);
    }
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 150);
  }

  // -- rendering ----------------------------------------------------------------

  function renderDay(answer) {
    el.grid.dataset.view = "day";
    const shown = el.dentist.value
      ? answer.dentists.filter((d) => d.id === el.dentist.value)
      : answer.dentists;
    el.grid.replaceChildren(
      ...shown.map((d) => column(d.name, d.plan, d.appointments, d.free, d.id)),
    );
    const c = answer.counts;
    el.counts.textContent = t("schedule.counts", {
      booked: c.booked || 0,
      checked_in: c.checked_in || 0,
      missed: c.missed || 0,
      cancelled: c.cancelled || 0,
    });
  }

  function renderWeek(answer) {
    el.grid.dataset.view = "week";
    el.grid.replaceChildren(
      ...answer.days.map((d) =>
        column(dayLabel(d.day), d.plan, d.appointments, d.free, answer.dentist),
      ),
    );
    el.counts.textContent = dentists[answer.dentist].name;
  }

  function column(title, plan, appointments, free, dentistId) {
    const section = node("section", "sched-col");
    section.dataset.dentist = dentistId;
    section.append(node("h3", "sched-col-title", title));
    if (!plan) {
      section.append(node("p", "sched-off", t("schedule.no_work")));
    } else {
      const room = data.rooms[plan.room] || plan.room;
      section.append(
        node("p", "sched-hours", `${timeOf(plan.starts)}–${timeOf(plan.ends)} · ${room}`),
      );
    }
    const items = [];
    for (const a of appointments) items.push({ at: a.starts, kind: "appointment", a });
    for (const s of free) items.push({ at: s.start, kind: "free", s });
    for (const b of plan ? plan.breaks : []) items.push({ at: b[0], kind: "break", b });
    for (const e of plan ? plan.emergency : []) items.push({ at: e[0], kind: "emergency", e });
    const order = { break: 0, emergency: 1, appointment: 2, free: 3 };
    items.sort((x, y) => x.at.localeCompare(y.at) || order[x.kind] - order[y.kind]);
    const list = node("ol", "sched-list");
    for (const item of items) list.append(renderItem(item));
    section.append(list);
    if (plan && appointments.length === 0) {
      section.append(node("p", "sched-empty", t("schedule.empty_day")));
    }
    return section;
  }

  function renderItem(item) {
    const li = node("li", "sched-item sched-" + (item.kind === "free" ? "slot" : item.kind));
    if (item.kind === "break") {
      li.textContent = `${timeOf(item.b[0])}–${timeOf(item.b[1])} ${t("schedule.break")}`;
    } else if (item.kind === "emergency") {
      li.textContent = `${timeOf(item.e[0])}–${timeOf(item.e[1])} ${t("schedule.emergency")}`;
    } else if (item.kind === "free") {
      li.append(freeButton(item.s));
    } else {
      renderAppointment(li, item.a);
    }
    return li;
  }

  function freeButton(slot) {
    const label = `${timeOf(slot.start)} ${t("schedule.free")}`;
    const b = button(label, () => chooseSlot(slot), "sched-free");
    b.dataset.start = localStart(slot.start);
    b.dataset.dentist = slot.dentist;
    if (slot.emergency) b.dataset.emergency = "true";
    b.disabled = !data.can_edit;
    return b;
  }

  function renderAppointment(li, a) {
    li.dataset.state = a.state;
    li.dataset.code = a.code;
    const head = node("div", "sched-appt-head");
    head.append(
      node("strong", "", `${timeOf(a.starts)}–${timeOf(a.ends)}`),
      node("span", "sched-service", data.services[a.service].name),
      node("span", "sched-state", t("booking.state_" + a.state)),
    );
    const who = node("div", "sched-who");
    who.append(
      node("span", "", a.patient_name),
      node("span", "sched-phone", a.phone_display),
      node("code", "sched-code", a.code),
    );
    if (a.ticket) who.append(node("span", "sched-ticket", a.ticket));
    li.append(head, who);
    if (data.can_edit && a.state === "booked") {
      const tools = node("div", "desk-actions");
      tools.append(
        button(t("schedule.check_in"), () => checkIn(a)),
        button(t("schedule.move"), () => startMove(a)),
        cancelButton(a),
      );
      li.append(tools);
    }
  }

  function cancelButton(a) {
    const armed = confirming === a.id;
    const b = button(
      t(armed ? "schedule.cancel_confirm" : "schedule.cancel"),
      async () => {
        if (confirming !== a.id) {
          confirming = a.id;
          clearTimeout(confirmTimer);
          confirmTimer = setTimeout(() => {
            confirming = null;
            refresh();
          }, CONFIRM_SECONDS * 1000);
          refresh();
          return;
        }
        confirming = null;
        await act(async () => {
          await api("POST", `/appointments/${a.id}/cancel`);
          tell(t("schedule.cancelled", { code: a.code }));
        });
      },
      armed ? "btn btn-small btn-confirm" : "btn btn-small btn-danger",
    );
    return b;
  }

  async function act(work) {
    try {
      await work();
    } catch (error) {
      tell(error.message);
    }
    refresh();
  }

  // -- booking, moving, checking in ---------------------------------------------

  function chooseSlot(slot) {
    if (moving) {
      const a = moving;
      moving = null;
      act(async () => {
        const answer = await api("POST", `/appointments/${a.id}/move`, {
          start: localStart(slot.start),
          dentist: slot.dentist,
        });
        tell(t("schedule.moved", { code: a.code, time: timeOf(answer.appointment.starts) }));
      });
      return;
    }
    chosen = slot;
    const dentist = dentists[slot.dentist];
    el.bookTitle.textContent = t("schedule.book_title", {
      time: `${dentistDay(slot)} ${timeOf(slot.start)}`,
      dentist: dentist.name,
    });
    el.bookService.replaceChildren(
      ...dentist.services.map((id) => {
        const option = node("option", "", data.services[id].name);
        option.value = id;
        return option;
      }),
    );
    if (el.service.value && dentist.services.includes(el.service.value)) {
      el.bookService.value = el.service.value;
    }
    el.bookForm.elements.urgent.checked = Boolean(slot.emergency);
    showFormError(el.bookForm, null);
    el.dialog.showModal();
    el.bookForm.elements.patient_name.focus();
  }

  function dentistDay(slot) {
    return dayLabel(localStart(slot.start).slice(0, 10));
  }

  el.bookForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = el.bookForm.elements;
    const submit = document.getElementById("book-submit");
    submit.disabled = true;
    try {
      const answer = await api("POST", "/appointments", {
        service: form.service.value,
        start: localStart(chosen.start),
        dentist: chosen.dentist,
        patient_name: form.patient_name.value,
        phone: form.phone.value,
        urgent: form.urgent.checked,
        lang: data.lang,
      });
      el.dialog.close();
      el.bookForm.reset();
      const a = answer.appointment;
      tell(t("schedule.booked", { code: a.code, time: timeOf(a.starts) }));
      refresh();
    } catch (error) {
      showFormError(el.bookForm, error);
    }
    submit.disabled = false;
  });

  document.getElementById("book-close").addEventListener("click", () => el.dialog.close());

  function showFormError(form, error) {
    const box = form.querySelector("[data-error]");
    for (const input of form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
    }
    box.hidden = !error;
    if (!error) return;
    box.textContent = error.message;
    const field = error.field && form.elements[error.field];
    if (field && field.focus) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  function startMove(a) {
    moving = a;
    tell(t("schedule.moving", { code: a.code }));
  }

  function checkIn(a) {
    act(async () => {
      const answer = await api("POST", `/appointments/${a.id}/check-in`);
      tell(t("schedule.checked_in", { code: a.code, ticket: answer.ticket.label }));
    });
  }

  async function firstFree() {
    const service = el.service.value || data.dentists[0].services[0];
    const query = new URLSearchParams({ service });
    if (el.dentist.value) query.set("dentist", el.dentist.value);
    try {
      const answer = await api("GET", "/schedule/first-free?" + query);
      if (!answer.slot) {
        tell(t("schedule.none_free"));
        return;
      }
      const slot = answer.slot;
      el.service.value = service;
      view = "day";
      day = localStart(slot.start).slice(0, 10);
      await refresh();
      setView("day");
      tell(
        t("schedule.first_free_found", {
          time: `${dentistDay(slot)} ${timeOf(slot.start)}`,
          dentist: dentists[slot.dentist].name,
        }),
      );
      const target = el.grid.querySelector(
        `.sched-free[data-start="${localStart(slot.start)}"][data-dentist="${slot.dentist}"]`,
      );
      if (target) target.focus();
    } catch (error) {
      tell(error.message);
    }
  }

  // -- the plans ---------------------------------------------------------------

  function formBody(form) {
    const body = {};
    for (const [name, value] of new FormData(form)) body[name] = value;
    return body;
  }

  function wireForm(id, path, after) {
    const form = document.getElementById(id);
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const answer = await api("POST", path, after ? after(formBody(form)) : formBody(form));
        showFormError(form, null);
        // Appointments already booked on a new day off stay: reception calls them.
        tell(
          answer.affected
            ? t("schedule.affected", { count: answer.affected })
            : t("schedule.saved"),
        );
        loadPlans();
        refresh();
      } catch (error) {
        showFormError(form, error);
      }
    });
    return form;
  }

  function itemList(id, rows, text, kind) {
    const list = document.getElementById(id);
    list.replaceChildren(
      ...rows.map((row) => {
        const li = node("li", "", text(row) + " ");
        li.append(
          button(t("schedule.delete"), () =>
            act(async () => {
              await api("POST", `/schedule/${kind}/${row.id}/delete`);
              loadPlans();
            }),
          ),
        );
        return li;
      }),
    );
  }

  async function loadPlans() {
    if (!data.can_edit) return;
    let answer;
    try {
      answer = await api("GET", "/schedule/plans");
    } catch (error) {
      tell(error.message);
      return;
    }
    const byDentist = {};
    for (const p of answer.plans) (byDentist[p.dentist] ||= {})[p.weekday] = p;
    document.getElementById("plans").replaceChildren(
      ...data.dentists.map((d) => {
        const tr = node("tr");
        tr.append(node("th", "", d.name));
        for (let weekday = 0; weekday < 7; weekday++) {
          const p = (byDentist[d.id] || {})[weekday];
          const text = p
            ? `${p.starts}–${p.ends} · ${data.rooms[p.room] || p.room}${p.breaks ? " · " + p.breaks : ""}`
            : "—";
          tr.append(node("td", p ? "" : "sched-off", text));
        }
        return tr;
      }),
    );
    const name = (id) => (dentists[id] ? dentists[id].name : id);
    itemList(
      "exceptions",
      answer.exceptions,
      (e) =>
        `${name(e.dentist)}: ${e.first_day}${e.last_day !== e.first_day ? " – " + e.last_day : ""} · ` +
        (e.kind === "off"
          ? t("schedule.kind_off")
          : `${e.starts}–${e.ends}${e.room ? " · " + (data.rooms[e.room] || e.room) : ""}`) +
        (e.note ? ` · ${e.note}` : ""),
      "exceptions",
    );
    itemList("holidays", answer.holidays, (h) => `${h.day} ${h.name}`, "holidays");
    itemList(
      "blocks",
      answer.blocks,
      (b) =>
        `${name(b.dentist)}: ${b.day || t("schedule." + data.weekdays[b.weekday])} ${b.starts}–${b.ends}`,
      "blocks",
    );
  }

  if (data.can_edit) {
    const planForm = wireForm("plan-form", "/schedule/plans");
    document.getElementById("clear-day").addEventListener("click", async () => {
      const body = formBody(planForm);
      try {
        await api("POST", "/schedule/plans", { dentist: body.dentist, weekday: body.weekday });
        showFormError(planForm, null);
        loadPlans();
        refresh();
      } catch (error) {
        showFormError(planForm, error);
      }
    });
    wireForm("exception-form", "/schedule/exceptions");
    wireForm("holiday-form", "/schedule/holidays");
    wireForm("block-form", "/schedule/blocks");
  }

  // -- controls and keys --------------------------------------------------------

  function setView(next) {
    view = next;
    el.viewDay.setAttribute("aria-pressed", String(view === "day"));
    el.viewWeek.setAttribute("aria-pressed", String(view === "week"));
  }

  el.viewDay.addEventListener("click", () => {
    setView("day");
    refresh();
  });
  el.viewWeek.addEventListener("click", () => {
    setView("week");
    refresh();
  });
  const step = (days) => {
    day = shift(day || today, view === "week" ? days * 7 : days);
    refresh();
  };
  document.getElementById("previous").addEventListener("click", () => step(-1));
  document.getElementById("next").addEventListener("click", () => step(1));
  document.getElementById("today").addEventListener("click", () => {
    day = today;
    refresh();
  });
  el.day.addEventListener("change", () => {
    day = el.day.value;
    refresh();
  });
  el.dentist.addEventListener("change", refresh);
  el.service.addEventListener("change", refresh);
  if (el.firstFree) el.firstFree.addEventListener("click", firstFree);

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea, dialog")) {
      return;
    }
    if (event.key === "ArrowLeft") step(-1);
    else if (event.key === "ArrowRight") step(1);
    else if (event.key === "t" || event.key === "T") {
      day = today;
      refresh();
    } else if ((event.key === "f" || event.key === "F") && el.firstFree) firstFree();
    else if (event.key === "Escape" && moving) {
      moving = null;
      tell("");
    }
  });

  refresh();
  loadPlans();
  Navbat.live({
    auth: { audience: "staff" },
    dot: el.dot,
    onSnapshot: refreshSoon,
    handlers: {
      appointments: refreshSoon,
      queue: refreshSoon,
      rooms: () => {},
      printer: () => {}, // printers show on the Today page
    },
  });
})();
