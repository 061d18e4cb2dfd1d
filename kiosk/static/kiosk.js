// The kiosk page: service tiles with their waits, the urgent tile, the
// priority toggle, one ticket per tap, the result screen.
"use strict";

(function () {
  const data = Navbat.pageData();
  const RESULT_SECONDS = 10;
  const ERROR_SECONDS = 8;
  const PAPER_CHECKS = 8;
  const PAPER_CHECK_MS = 600;
  const SERVICES_REFRESH_MS = 30000;
  // A pressed priority toggle nobody used is for the previous patient.
  const PRIORITY_IDLE_SECONDS = 30;

  const el = {
    start: document.getElementById("start"),
    result: document.getElementById("result"),
    greeting: document.getElementById("greeting"),
    printerNotice: document.getElementById("printer-notice"),
    choose: document.getElementById("choose"),
    tiles: document.getElementById("tiles"),
    error: document.getElementById("error"),
    dot: document.getElementById("dot"),
    langs: document.querySelectorAll(".kiosk-lang"),
    tileTemplate: document.getElementById("tile-template"),
    urgentTemplate: document.getElementById("urgent-template"),
    priority: document.getElementById("priority"),
    priorityTitle: document.getElementById("priority-title"),
    priorityHint: document.getElementById("priority-hint"),
    label: document.getElementById("result-label"),
    number: document.getElementById("result-number"),
    service: document.getElementById("result-service"),
    ahead: document.getElementById("result-ahead"),
    wait: document.getElementById("result-wait"),
    qr: document.getElementById("result-qr"),
    qrHint: document.getElementById("result-qr-hint"),
    printer: document.getElementById("result-printer"),
    ok: document.getElementById("result-ok"),
    closes: document.getElementById("result-closes"),
    resultPriority: document.getElementById("result-priority"),
    resultMessage: document.getElementById("result-message"),
    checkin: document.getElementById("checkin"),
    checkinTitle: document.getElementById("checkin-title"),
    checkinPrompt: document.getElementById("checkin-prompt"),
    checkinCode: document.getElementById("checkin-code"),
    keypad: document.getElementById("keypad"),
    checkinError: document.getElementById("checkin-error"),
    checkinBack: document.getElementById("checkin-back"),
    checkinSubmit: document.getElementById("checkin-submit"),
    checkinTemplate: document.getElementById("checkin-template"),
  };
  // A check-in screen nobody touches goes back to the start.
  const CHECKIN_IDLE_SECONDS = 60;
  const CODE_MAX = 16;

  let lang = data.default_language;
  let waiting = {};
  let busy = false;
  let countdown = null;
  let held = false; // the phone step is open: the result screen stays
  let errorTimer = null;
  let priorityTimer = null;
  let priorityOn = false;
  // Each service's state from GET /services: open, reason message, wait band.
  let states = {};
  let printerDown = false;
  let servicesAsked = 0;
  // Each tile's button and the parts of it that change, looked up once.
  const tiles = {};
  let urgentTile = null;
  let checkinTile = null;
  let typed = "";
  let checkinTimer = null;
  const urgentService = data.services.find((s) => s.id === data.emergency_service);

  function t(key, params) {
    return Navbat.t(data.strings[lang], key, params);
  }

  function buildTiles() {
    for (const service of data.services) {
      const button = el.tileTemplate.content.firstElementChild.cloneNode(true);
      button.dataset.service = service.id;
      button.querySelector(".kiosk-tile-prefix").textContent = service.prefix;
      const tile = {
        button,
        name: button.querySelector(".kiosk-tile-name"),
        count: button.querySelector(".kiosk-tile-count"),
        wait: button.querySelector(".kiosk-tile-wait"),
      };
      button.addEventListener("click", () =>
        takeTicket(service, tile, priorityOn ? "priority" : "normal"),
      );
      el.tiles.appendChild(button);
      tiles[service.id] = tile;
    }
    if (urgentService) {
      const button = el.urgentTemplate.content.firstElementChild.cloneNode(true);
      urgentTile = {
        button,
        title: button.querySelector(".kiosk-urgent-title"),
        count: button.querySelector(".kiosk-urgent-hint"),
      };
      button.addEventListener("click", () =>
        takeTicket(urgentService, urgentTile, "emergency"),
      );
      el.tiles.appendChild(button);
    }
    const button = el.checkinTemplate.content.firstElementChild.cloneNode(true);
    checkinTile = {
      button,
      title: button.querySelector(".kiosk-urgent-title"),
      count: button.querySelector(".kiosk-urgent-hint"),
    };
    button.addEventListener("click", openCheckIn);
    el.tiles.appendChild(button);
  }

  function allTiles() {
    const all = Object.values(tiles);
    return urgentTile ? [...all, urgentTile] : all;
  }

  function isClosed(serviceId) {
    const state = states[serviceId];
    return Boolean(state && !state.open);
  }

  // An emergency is seen even when the day's line is full, not when closed.
  function urgentClosed() {
    const state = states[urgentService.id];
    return Boolean(state && !state.open && state.reason !== "full");
  }

  function render() {
    el.printerNotice.hidden = !(data.printer_notice && printerDown);
    el.printerNotice.textContent = t("kiosk.printer_down_notice");
    document.documentElement.lang = lang;
    el.greeting.textContent = t("kiosk.greeting");
    el.choose.textContent = t("kiosk.choose_service");
    el.dot.querySelector(".live-label").textContent = t("common.reconnecting");
    for (const button of el.langs) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    }
    for (const service of data.services) renderTile(service, tiles[service.id]);
    if (urgentTile) {
      const closed = urgentClosed();
      urgentTile.title.textContent = t("kiosk.urgent");
      urgentTile.count.textContent = closed
        ? states[urgentService.id].message
        : t("kiosk.urgent_hint");
      urgentTile.button.dataset.closed = String(closed);
      urgentTile.button.disabled = busy || closed;
    }
    checkinTile.title.textContent = t("checkin.tile");
    checkinTile.count.textContent = t("checkin.tile_hint");
    checkinTile.button.disabled = busy;
    renderPriority();
    renderCheckIn();
  }

  function renderTile(service, tile) {
    const state = states[service.id];
    const closed = isClosed(service.id);
    tile.name.textContent = service.name[lang];
    tile.count.textContent = closed
      ? ""
      : t("kiosk.waiting_count", { count: waiting[service.id] || 0 });
    let wait = "";
    if (closed) wait = state.message;
    else if (state && state.wait) {
      wait = t("kiosk.tile_wait", { band: Navbat.waitBand(data.strings[lang], state.wait) });
    }
    tile.wait.textContent = wait;
    tile.button.dataset.closed = String(closed);
    tile.button.disabled = busy || closed;
  }

  function renderPriority() {
    if (!el.priority) return;
    el.priority.setAttribute("aria-pressed", String(priorityOn));
    el.priority.disabled = busy;
    el.priorityTitle.textContent = t("kiosk.priority");
    el.priorityHint.textContent = t(priorityOn ? "kiosk.priority_on" : "kiosk.priority_off");
  }

  function togglePriority() {
    priorityOn = !priorityOn;
    clearTimeout(priorityTimer);
    if (priorityOn) priorityTimer = setTimeout(resetPriority, PRIORITY_IDLE_SECONDS * 1000);
    renderPriority();
  }

  function resetPriority() {
    clearTimeout(priorityTimer);
    priorityOn = false;
    renderPriority();
  }

  // Which services take tickets now, each one's wait and, when closed, why.
  async function loadServices() {
    const asked = ++servicesAsked;
    let json;
    try {
      const response = await fetch(`/api/v1/services?lang=${lang}&kiosk=${data.kiosk}`);
      if (!response.ok) return;
      json = await response.json();
    } catch (err) {
      return; // the next refresh tries again; the tiles keep their last state
    }
    if (asked !== servicesAsked) return;
    states = Object.fromEntries(json.services.map((state) => [state.id, state]));
    printerDown = json.printer === "offline" || json.printer === "paper_out";
    if (!busy) render();
  }

  function lock(activeTile) {
    busy = true;
    for (const tile of allTiles()) tile.button.disabled = true;
    if (el.priority) el.priority.disabled = true;
    activeTile.button.setAttribute("aria-busy", "true");
    activeTile.count.textContent = t("kiosk.please_wait");
    if (activeTile.wait) activeTile.wait.textContent = "";
  }

  function unlock(activeTile) {
    busy = false;
    activeTile.button.removeAttribute("aria-busy");
    render();
  }

  // A random key per tap: a repeated request (double tap, retry after a
  // dropped answer) gets the same ticket back instead of a second one.
  function requestKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function post(body) {
    const response = await fetch("/api/v1/tickets", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  }

  async function takeTicket(service, tile, priority) {
    if (busy) return;
    lock(tile);
    hideError();
    const body = { service: service.id, kiosk: data.kiosk, lang, request_key: requestKey() };
    if (priority !== "normal") body.priority = priority;
    let answer = null;
    for (let attempt = 0; attempt < 3 && answer === null; attempt++) {
      try {
        answer = await post(body);
      } catch (err) {
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
    }
    if (answer === null) {
      showError(t("kiosk.error_offline"));
    } else if (answer.status === 200 || answer.status === 201) {
      resetPriority();
      showResult(service, answer.json);
    } else {
      showError((answer.json.error && answer.json.error.message) || t("kiosk.error_issue"));
    }
    unlock(tile);
    loadServices();
  }

  function showResult(service, answer) {
    const priority = answer.ticket.priority;
    el.resultPriority.hidden = priority === "normal";
    el.resultPriority.className = "kiosk-result-priority priority priority-" + priority;
    el.resultPriority.textContent = priority === "normal" ? "" : t("priority." + priority);
    el.resultMessage.hidden = !answer.message;
    el.resultMessage.textContent = answer.message || "";
    el.checkin.hidden = true;
    el.label.textContent = t("kiosk.your_number");
    el.number.textContent = answer.ticket.label;
    el.service.textContent = service.name[lang];
    el.ahead.textContent =
      answer.ahead > 0 ? t("kiosk.ahead", { count: answer.ahead }) : t("kiosk.ahead_none");
    el.wait.textContent = answer.wait
      ? t("kiosk.result_wait", { band: Navbat.waitBand(data.strings[lang], answer.wait) })
      : "";
    el.qr.src = answer.qr;
    el.qr.alt = answer.url;
    el.qrHint.textContent = t("kiosk.qr_hint");
    el.ok.textContent = t("kiosk.done");
    el.start.hidden = true;
    el.result.hidden = false;
    // The optional phone step (phone_link.js) offers itself on the result.
    document.dispatchEvent(
      new CustomEvent("navbat:ticket", { detail: { token: answer.ticket.token, lang } }),
    );
    if (answer.printer === "none") {
      el.printer.textContent = "";
      startCountdown(RESULT_SECONDS);
    } else if (answer.printer === "offline") {
      showPaper("failed");
    } else {
      showPaper("printing");
      watchPaper(answer.ticket.token);
    }
  }

  // Say what the paper is doing; a patient with no paper gets more time to
  // photograph the number.
  function showPaper(paper) {
    const failed = paper === "failed";
    el.printer.dataset.down = String(failed);
    el.printer.textContent = t(
      { printing: "kiosk.printing", printed: "kiosk.take_ticket" }[paper] ||
        "kiosk.printer_down",
    );
    startCountdown(failed ? RESULT_SECONDS * 2 : RESULT_SECONDS);
  }

  async function watchPaper(token) {
    const shown = el.number.textContent;
    for (let i = 0; i < PAPER_CHECKS; i++) {
      await new Promise((resolve) => setTimeout(resolve, PAPER_CHECK_MS));
      if (el.result.hidden || el.number.textContent !== shown) return;
      let paper = "printing";
      try {
        paper = (await (await fetch(`/api/v1/tickets/${token}/paper`)).json()).paper;
      } catch (err) {
        continue;
      }
      if (paper !== "printing") {
        showPaper(paper);
        return;
      }
    }
    showPaper("failed");
  }

  function startCountdown(seconds) {
    if (held) return;
    let left = seconds;
    const tick = () => {
      el.closes.textContent = t("kiosk.closes_in", { seconds: left });
      if (left-- <= 0) backToStart();
    };
    clearInterval(countdown);
    countdown = setInterval(tick, 1000);
    tick();
  }

  function backToStart() {
    clearInterval(countdown);
    held = false;
    document.dispatchEvent(new CustomEvent("navbat:start"));
    clearTimeout(checkinTimer);
    el.result.hidden = true;
    el.checkin.hidden = true;
    el.start.hidden = false;
    const switched = lang !== data.default_language;
    lang = data.default_language;
    resetPriority();
    render();
    if (switched) loadServices();
  }

  function showError(message) {
    el.error.textContent = message;
    el.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(hideError, ERROR_SECONDS * 1000);
  }

  function hideError() {
    el.error.hidden = true;
  }

  // -- "I have an appointment": a code or phone on the keypad, then a ticket --

  function buildKeypad() {
    const keys = [..."1234567890", ...data.code_letters];
    for (const key of keys) {
      el.keypad.append(keypadButton(key, key, () => press(key)));
    }
    el.keypad.append(
      keypadButton("⌫", "checkin.delete", () => press(null), "kiosk-key-wide"),
      keypadButton("", "checkin.clear", () => {
        typed = "";
        renderCheckIn();
      }, "kiosk-key-wide"),
    );
  }

  function keypadButton(text, label, onPress, className) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "kiosk-key " + (className || "");
    button.textContent = text;
    button.dataset.label = label;
    button.addEventListener("click", onPress);
    return button;
  }

  function press(key) {
    typed = key === null ? typed.slice(0, -1) : (typed + key).slice(0, CODE_MAX);
    el.checkinError.hidden = true;
    idleCheckIn();
    renderCheckIn();
  }

  function renderCheckIn() {
    el.checkinTitle.textContent = t("checkin.title");
    el.checkinPrompt.textContent = t("checkin.prompt");
    el.checkinCode.textContent = typed;
    el.checkinBack.textContent = t("checkin.back");
    el.checkinSubmit.textContent = t("checkin.submit");
    el.checkinSubmit.disabled = busy || typed.length < 6;
    for (const key of el.keypad.children) {
      const label = key.dataset.label;
      if (label.startsWith("checkin.")) {
        key.setAttribute("aria-label", t(label));
        if (!key.textContent || key.dataset.label === "checkin.clear") key.textContent = t(label);
      }
    }
  }

  function idleCheckIn() {
    clearTimeout(checkinTimer);
    checkinTimer = setTimeout(backToStart, CHECKIN_IDLE_SECONDS * 1000);
  }

  function openCheckIn() {
    if (busy) return;
    typed = "";
    hideError();
    el.checkinError.hidden = true;
    el.start.hidden = true;
    el.checkin.hidden = false;
    idleCheckIn();
    renderCheckIn();
  }

  async function checkIn() {
    if (busy || typed.length < 6) return;
    busy = true;
    renderCheckIn();
    let answer = null;
    try {
      const response = await fetch("/api/v1/checkin", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ kiosk: data.kiosk, code: typed, lang }),
      });
      answer = { status: response.status, json: await response.json() };
    } catch (err) {
      el.checkinError.textContent = t("kiosk.error_offline");
      el.checkinError.hidden = false;
    }
    busy = false;
    if (answer && answer.status === 201) {
      clearTimeout(checkinTimer);
      const service = data.services.find((s) => s.id === answer.json.ticket.service);
      showResult(service, answer.json);
    } else if (answer) {
      el.checkinError.textContent =
        (answer.json.error && answer.json.error.message) || t("kiosk.error_issue");
      el.checkinError.hidden = false;
      idleCheckIn();
    }
    renderCheckIn();
  }

  el.checkinBack.addEventListener("click", backToStart);
  el.checkinSubmit.addEventListener("click", checkIn);

  for (const button of el.langs) {
    button.addEventListener("click", () => {
      lang = button.dataset.lang;
      render();
      loadServices(); // the closed tiles' reasons, in the new language
    });
  }
  if (el.priority) el.priority.addEventListener("click", togglePriority);
  el.ok.addEventListener("click", backToStart);
  // While the patient types their phone, the result screen does not close.
  document.addEventListener("navbat:hold", () => {
    held = true;
    clearInterval(countdown);
  });
  document.addEventListener("navbat:release", () => {
    held = false;
    startCountdown(RESULT_SECONDS);
  });
  el.result.addEventListener("click", (event) => {
    if (event.target === el.result) backToStart();
  });
  document.addEventListener("contextmenu", (event) => event.preventDefault());
  document.addEventListener("dblclick", (event) => event.preventDefault());

  buildTiles();
  buildKeypad();
  render();
  loadServices();
  setInterval(loadServices, SERVICES_REFRESH_MS);

  Navbat.live({
    auth: { audience: "display" },
    dot: el.dot,
    onSnapshot: (snapshot) => {
      waiting = snapshot.waiting;
      if (!busy) render();
    },
    handlers: {
      queue: (message) => {
        waiting = message.waiting;
        if (!busy) render();
      },
      rooms: () => {}, // the display's closed rooms: nothing for the kiosk
    },
  });
})();
