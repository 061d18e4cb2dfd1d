// The kiosk page: service tiles, one ticket per tap, the result screen.
"use strict";

(function () {
  const data = Navbat.pageData();
  const RESULT_SECONDS = 10;
  const ERROR_SECONDS = 8;
  const PAPER_CHECKS = 8;
  const PAPER_CHECK_MS = 600;

  const el = {
    start: document.getElementById("start"),
    result: document.getElementById("result"),
    greeting: document.getElementById("greeting"),
    choose: document.getElementById("choose"),
    tiles: document.getElementById("tiles"),
    error: document.getElementById("error"),
    dot: document.getElementById("dot"),
    langs: document.querySelectorAll(".kiosk-lang"),
    tileTemplate: document.getElementById("tile-template"),
    label: document.getElementById("result-label"),
    number: document.getElementById("result-number"),
    service: document.getElementById("result-service"),
    ahead: document.getElementById("result-ahead"),
    qr: document.getElementById("result-qr"),
    qrHint: document.getElementById("result-qr-hint"),
    printer: document.getElementById("result-printer"),
    ok: document.getElementById("result-ok"),
    closes: document.getElementById("result-closes"),
  };

  let lang = data.default_language;
  let waiting = {};
  let busy = false;
  let countdown = null;
  let errorTimer = null;
  const tiles = {};

  function t(key, params) {
    return Navbat.t(data.strings[lang], key, params);
  }

  function buildTiles() {
    for (const service of data.services) {
      const tile = el.tileTemplate.content.firstElementChild.cloneNode(true);
      tile.dataset.service = service.id;
      tile.querySelector(".kiosk-tile-prefix").textContent = service.prefix;
      tile.addEventListener("click", () => takeTicket(service, tile));
      el.tiles.appendChild(tile);
      tiles[service.id] = tile;
    }
  }

  function render() {
    document.documentElement.lang = lang;
    el.greeting.textContent = t("kiosk.greeting");
    el.choose.textContent = t("kiosk.choose_service");
    el.dot.querySelector(".live-label").textContent = t("common.reconnecting");
    for (const button of el.langs) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    }
    for (const service of data.services) {
      const tile = tiles[service.id];
      tile.querySelector(".kiosk-tile-name").textContent = service.name[lang];
      tile.querySelector(".kiosk-tile-count").textContent = t("kiosk.waiting_count", {
        count: waiting[service.id] || 0,
      });
    }
  }

  function lock(activeTile) {
    busy = true;
    for (const tile of Object.values(tiles)) tile.disabled = true;
    activeTile.setAttribute("aria-busy", "true");
    activeTile.querySelector(".kiosk-tile-count").textContent = t("kiosk.please_wait");
  }

  function unlock() {
    busy = false;
    for (const tile of Object.values(tiles)) {
      tile.disabled = false;
      tile.removeAttribute("aria-busy");
    }
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

  async function takeTicket(service, tile) {
    if (busy) return;
    lock(tile);
    hideError();
    const body = { service: service.id, kiosk: data.kiosk, lang, request_key: requestKey() };
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
      showResult(service, answer.json);
    } else {
      showError((answer.json.error && answer.json.error.message) || t("kiosk.error_issue"));
    }
    unlock();
  }

  function showResult(service, answer) {
    el.label.textContent = t("kiosk.your_number");
    el.number.textContent = answer.ticket.label;
    el.service.textContent = service.name[lang];
    el.ahead.textContent =
      answer.ahead > 0 ? t("kiosk.ahead", { count: answer.ahead }) : t("kiosk.ahead_none");
    el.qr.src = answer.qr;
    el.qr.alt = answer.url;
    el.qrHint.textContent = t("kiosk.qr_hint");
    el.ok.textContent = t("kiosk.done");
    el.start.hidden = true;
    el.result.hidden = false;
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
    el.result.hidden = true;
    el.start.hidden = false;
    lang = data.default_language;
    render();
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

  for (const button of el.langs) {
    button.addEventListener("click", () => {
      lang = button.dataset.lang;
      render();
    });
  }
  el.ok.addEventListener("click", backToStart);
  el.result.addEventListener("click", (event) => {
    if (event.target === el.result) backToStart();
  });
  document.addEventListener("contextmenu", (event) => event.preventDefault());
  document.addEventListener("dblclick", (event) => event.preventDefault());

  buildTiles();
  render();

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
    },
  });
})();
