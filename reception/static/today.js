// Reception's day view: printers and today's tickets, live.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const api = Navbat.api;
  const el = {
    alerts: document.getElementById("alerts"),
    printers: document.getElementById("printers"),
    tickets: document.getElementById("tickets"),
    empty: document.getElementById("empty"),
    notice: document.getElementById("notice"),
    dot: document.getElementById("dot"),
  };
  const printers = {};
  let refreshTimer = null;

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function renderPrinters() {
    const rows = Object.values(printers).map((printer) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(printer.id),
        cell(t("reception." + printer.state), "printer-" + printer.state),
        cell(String(printer.jobs_waiting)),
        cell(String(printer.jobs_failed)),
        cell(printer.last_error),
      );
      return tr;
    });
    el.printers.replaceChildren(...rows);
    const alerts = Object.values(printers)
      .filter((printer) => printer.state === "offline")
      .map((printer) => {
        const p = document.createElement("p");
        p.className = "notice notice-error";
        p.textContent = t("reception.printer_alert", {
          printer: printer.id,
          error: printer.last_error,
        });
        return p;
      });
    el.alerts.replaceChildren(...alerts);
  }

  // Times in the clinic's own zone, 24 h, whatever the desk computer's zone.
  const clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: data.timezone,
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });

  function timeOf(iso) {
    return clock.format(new Date(iso));
  }

  function renderTickets(tickets) {
    el.empty.hidden = tickets.length > 0;
    const rows = tickets.map((ticket) => {
      const tr = document.createElement("tr");
      const state = document.createElement("span");
      state.className = "state state-" + ticket.state;
      state.textContent = t("state." + ticket.state);
      const stateCell = cell("");
      stateCell.append(state);
      const actions = cell("");
      const reprint = document.createElement("button");
      reprint.type = "button";
      reprint.className = "btn";
      reprint.textContent = t("reception.reprint");
      reprint.addEventListener("click", () => doReprint(ticket));
      const history = document.createElement("button");
      history.type = "button";
      history.className = "btn";
      history.textContent = t("reception.history");
      history.addEventListener("click", () => showHistory(ticket, actions));
      actions.append(reprint, " ", history);
      tr.append(
        cell(ticket.label),
        cell(data.services[ticket.service] || ticket.service),
        stateCell,
        cell(ticket.room ? data.rooms[ticket.room] || ticket.room : ""),
        cell(timeOf(ticket.issued_at)),
        actions,
      );
      return tr;
    });
    el.tickets.replaceChildren(...rows);
  }

  async function doReprint(ticket) {
    try {
      await api("POST", `/tickets/${ticket.id}/reprint`);
      el.notice.textContent = t("reception.reprinted", { ticket: ticket.label });
      el.notice.className = "notice";
    } catch (err) {
      el.notice.textContent = err.message;
      el.notice.className = "notice notice-error";
    }
    el.notice.hidden = false;
  }

  async function showHistory(ticket, where) {
    const json = await api("GET", `/tickets/${ticket.id}/history`);
    const list = document.createElement("div");
    list.className = "history";
    list.textContent = json.events
      .map((e) => `${timeOf(e.at)} ${t("state." + e.to_state)} (${e.actor})`)
      .join(" · ");
    where.querySelector(".history")?.remove();
    where.append(list);
  }

  async function refreshTickets() {
    renderTickets((await api("GET", "/today")).tickets);
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshTickets, 150);
  }

  document.getElementById("sign-out").addEventListener("click", async () => {
    await api("POST", "/staff/logout");
    location.reload();
  });

  Navbat.live({
    auth: { audience: "staff" },
    dot: el.dot,
    onSnapshot: (snapshot) => {
      for (const printer of snapshot.printers) printers[printer.id] = printer;
      renderPrinters();
      refreshTickets();
    },
    handlers: {
      queue: refreshSoon,
      printer: (message) => {
        printers[message.id] = Object.assign(printers[message.id] || {}, message);
        renderPrinters();
      },
    },
  });
})();
