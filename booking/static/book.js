// The public booking page: pick a service, a dentist (or any) and a free time,
// confirm with name and phone, get a code; later move or cancel with it.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const $ = (id) => document.getElementById(id);
  const el = {
    pick: $("pick"),
    pickTitle: $("pick-title"),
    intro: $("intro"),
    service: $("service"),
    dentist: $("dentist"),
    day: $("day"),
    slots: $("slots"),
    slotsStatus: $("slots-status"),
    confirm: $("confirm"),
    confirmForm: $("confirm-form"),
    confirmError: $("confirm-error"),
    chosen: $("chosen"),
    done: $("done"),
    doneTitle: $("done-title"),
    code: $("code"),
    doneWhen: $("done-when"),
    doneWho: $("done-who"),
    doneState: $("done-state"),
    doneError: $("done-error"),
    manage: $("manage"),
    cancelConfirm: $("cancel-confirm"),
    lookup: $("lookup"),
    lookupForm: $("lookup-form"),
    lookupError: $("lookup-error"),
  };

  let options = null;
  let chosen = null; // the slot picked
  let mine = null; // the appointment shown (after booking or a lookup)
  let moving = false;
  let asked = 0;

  const timeFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: data.timezone,
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });
  const timeOf = (iso) => timeFormat.format(new Date(iso));
  const dayOf = (iso) => iso.slice(8, 10) + "." + iso.slice(5, 7) + "." + iso.slice(0, 4);

  async function call(method, path, body) {
    const response = await fetch(`/api/v1${path}${path.includes("?") ? "&" : "?"}lang=${data.lang}`, {
      method,
      headers: { "Content-Type": "application/json" },
      body: method === "GET" ? undefined : JSON.stringify(body || {}),
    });
    const json = await response.json();
    if (!response.ok) {
      const error = new Error(json.error ? json.error.message : response.statusText);
      error.field = json.error && json.error.field;
      throw error;
    }
    return json;
  }

  function show(section) {
    for (const part of [el.pick, el.confirm, el.done]) part.hidden = part !== section;
    el.lookup.hidden = section !== el.pick || moving;
    window.scrollTo(0, 0);
  }

  function fail(box, error) {
    box.textContent = error.message === "Failed to fetch" ? t("booking.offline") : error.message;
    box.hidden = false;
  }

  function option(value, text) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  }

  // -- picking a time ---------------------------------------------------------

  async function start() {
    try {
      options = await call("GET", "/booking/options");
    } catch (error) {
      el.slotsStatus.textContent = error.message;
      return;
    }
    el.service.replaceChildren(...options.services.map((s) => option(s.id, s.name[data.lang])));
    el.day.min = options.today;
    const last = new Date(options.today + "T00:00:00Z");
    last.setUTCDate(last.getUTCDate() + options.days_ahead);
    el.day.max = last.toISOString().slice(0, 10);
    el.day.value = options.today;
    fillDentists();
    loadSlots();
  }

  function fillDentists() {
    const service = options.services.find((s) => s.id === el.service.value);
    const names = Object.fromEntries(options.dentists.map((d) => [d.id, d.name]));
    el.dentist.replaceChildren(
      option("", t("booking.any_dentist")),
      ...service.dentists.map((id) => option(id, names[id])),
    );
  }

  async function loadSlots() {
    const mark = ++asked;
    el.slots.replaceChildren();
    el.slotsStatus.textContent = t("booking.loading");
    const query = new URLSearchParams({ service: el.service.value, day: el.day.value });
    if (el.dentist.value) query.set("dentist", el.dentist.value);
    let answer;
    try {
      answer = await call("GET", "/booking/slots?" + query);
    } catch (error) {
      if (mark === asked) el.slotsStatus.textContent = error.message;
      return;
    }
    if (mark !== asked) return;
    // With "any dentist", one button per time: the hub picks who is free.
    const seen = new Set();
    const slots = answer.slots.filter((slot) => {
      const key = el.dentist.value ? slot.start + slot.dentist : slot.start;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    el.slotsStatus.textContent = slots.length ? "" : t("booking.no_slots");
    el.slots.replaceChildren(
      ...slots.map((slot) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "btn book-slot";
        b.textContent = timeOf(slot.start);
        b.addEventListener("click", () => choose(slot));
        return b;
      }),
    );
  }

  function choose(slot) {
    chosen = { ...slot, dentist: el.dentist.value || null, service: el.service.value };
    if (moving) {
      moveTo(chosen);
      return;
    }
    const service = options.services.find((s) => s.id === chosen.service);
    el.chosen.textContent =
      service.name[data.lang] + " · " + t("booking.chosen", { day: dayOf(slot.start), time: timeOf(slot.start) });
    el.confirmError.hidden = true;
    show(el.confirm);
    el.confirmForm.elements.patient_name.focus();
  }

  el.service.addEventListener("change", () => {
    fillDentists();
    loadSlots();
  });
  el.dentist.addEventListener("change", loadSlots);
  el.day.addEventListener("change", loadSlots);
  $("confirm-back").addEventListener("click", () => show(el.pick));

  // -- booking ---------------------------------------------------------------

  el.confirmForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = el.confirmForm.elements;
    const submit = $("confirm-submit");
    submit.disabled = true;
    el.confirmError.hidden = true;
    try {
      const answer = await call("POST", "/booking", {
        service: chosen.service,
        dentist: chosen.dentist,
        start: chosen.start.slice(0, 16),
        patient_name: form.patient_name.value,
        phone: form.phone.value,
      });
      showMine(answer.appointment, t("booking.booked_title"));
    } catch (error) {
      fail(el.confirmError, error);
      const field = error.field && form[error.field];
      if (field) field.focus();
      if (!error.field) loadSlots();
    }
    submit.disabled = false;
  });

  function showMine(appointment, title) {
    mine = appointment;
    moving = false;
    el.pickTitle.textContent = t("booking.title");
    el.intro.hidden = false;
    el.doneTitle.textContent = title;
    el.code.textContent = appointment.code;
    el.doneWhen.textContent = t("booking.chosen", {
      day: dayOf(appointment.starts),
      time: timeOf(appointment.starts),
    });
    const dentist = options.dentists.find((d) => d.id === appointment.dentist);
    const room = options.rooms[appointment.room];
    el.doneWho.textContent = t("booking.with_dentist", {
      dentist: dentist ? dentist.name : "",
      room: room ? room[data.lang] : "",
    });
    el.doneState.textContent = t("booking.state_" + appointment.state);
    el.manage.hidden = appointment.state !== "booked";
    el.cancelConfirm.hidden = true;
    el.doneError.hidden = true;
    show(el.done);
  }

  // -- moving and cancelling with the code -----------------------------------------

  el.lookupForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    el.lookupError.hidden = true;
    const code = el.lookupForm.elements.code.value.trim();
    if (!code) return;
    try {
      const answer = await call("GET", "/booking/" + encodeURIComponent(code));
      showMine(answer.appointment, t("booking.your_code"));
    } catch (error) {
      fail(el.lookupError, error);
    }
  });

  $("move").addEventListener("click", () => {
    moving = true;
    el.service.value = mine.service;
    fillDentists();
    el.dentist.value = mine.dentist;
    el.pickTitle.textContent = t("booking.move");
    el.intro.hidden = true;
    show(el.pick);
    loadSlots();
  });

  async function moveTo(slot) {
    try {
      const answer = await call("POST", `/booking/${encodeURIComponent(mine.code)}/move`, {
        start: slot.start.slice(0, 16),
        dentist: slot.dentist || mine.dentist,
      });
      showMine(answer.appointment, t("booking.moved"));
    } catch (error) {
      moving = false;
      showMine(mine, t("booking.your_code"));
      fail(el.doneError, error);
    }
  }

  $("cancel").addEventListener("click", () => {
    el.cancelConfirm.hidden = false;
    el.manage.hidden = true;
  });
  $("cancel-no").addEventListener("click", () => {
    el.cancelConfirm.hidden = true;
    el.manage.hidden = false;
  });
  $("cancel-yes").addEventListener("click", async () => {
    try {
      const answer = await call("POST", `/booking/${encodeURIComponent(mine.code)}/cancel`);
      showMine(answer.appointment, t("booking.cancelled"));
    } catch (error) {
      el.cancelConfirm.hidden = true;
      fail(el.doneError, error);
    }
  });
  $("again").addEventListener("click", () => {
    el.confirmForm.reset();
    show(el.pick);
    loadSlots();
  });

  start();
})();
