// Reception's day view: printers and today's tickets, live, with the
// actions each ticket's state allows.
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
  const PRIORITIES = ["normal", "priority", "appointment", "emergency"];
  const CONFIRM_SECONDS = 5;
  let refreshTimer = null;
  // The ticket whose Cancel was pressed once: a second press cancels it.
  let confirming = null;
  let confirmTimer = null;

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  // The problem in the reader's words, with the transport's detail after it.
  function problemText(printer) {
    if (!printer.problem) return printer.last_error || "";
    const text = t("reception.problem_" + printer.problem);
    return printer.last_error ? `${text} (${printer.last_error})` : text;
  }

  function renderPrinters() {
    const rows = Object.values(printers).map((printer) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(printer.id),
        cell(t("reception." + printer.state), "printer-" + printer.state),
        cell(String(printer.jobs_waiting)),
        cell(String(printer.jobs_failed)),
        cell(problemText(printer)),
      );
      return tr;
    });
    el.printers.replaceChildren(...rows);
    const alerts = Object.values(printers)
      .filter((printer) => ["offline", "paper_out", "paper_low"].includes(printer.state))
      .map((printer) => {
        const p = document.createElement("p");
        p.className = "notice notice-error";
        p.textContent = t("reception.printer_alert", {
          printer: printer.id,
          error: problemText(printer),
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

  function button(text, onClick, className) {
    const node = document.createElement("button");
    node.type = "button";
    node.className = className || "btn";
    node.textContent = text;
    node.addEventListener("click", onClick);
    return node;
  }

  function select(label, options, value, onChange) {
    const node = document.createElement("select");
    node.setAttribute("aria-label", label);
    for (const [optionValue, text, disabled] of options) {
      const option = document.createElement("option");
      option.value = optionValue;
      option.textContent = text;
      option.disabled = Boolean(disabled);
      node.append(option);
    }
    node.value = value;
    node.addEventListener("change", () => onChange(node.value));
    return node;
  }

  function badge(className, text) {
    const span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    const td = cell("");
    td.append(span);
    return td;
  }

  // Only what makes sense for the ticket's state: a closed ticket can only be
  // reprinted or looked up, a no-show put back in line.
  function ticketActions(ticket, where) {
    const open = ["waiting", "called", "serving"].includes(ticket.state);
    const actions = [];
    if (ticket.state === "waiting") {
      const options = PRIORITIES.map((p) => [p, t("priority." + p)]);
      actions.push(
        select(t("reception.change_priority"), options, ticket.priority, (value) =>
          setPriority(ticket, value),
        ),
      );
    }
    if (open) {
      const services = Object.entries(data.services).filter(([id]) => id !== ticket.service);
      actions.push(
        select(
          t("reception.transfer"),
          [["", t("reception.transfer_to"), true], ...services],
          "",
          (value) => transfer(ticket, value),
        ),
      );
    }
    if (ticket.state === "waiting" || ticket.state === "called") {
      const sure = confirming === ticket.id;
      actions.push(
        button(
          t(sure ? "reception.cancel_confirm" : "reception.cancel"),
          () => cancel(ticket),
          sure ? "btn btn-danger btn-confirm" : "btn btn-danger",
        ),
      );
    }
    if (ticket.state === "no_show") {
      actions.push(button(t("reception.reinstate"), () => reinstate(ticket)));
    }
    // Paper only helps a patient who is still in line or being seen.
    if (["waiting", "called", "serving"].includes(ticket.state)) {
      actions.push(button(t("reception.reprint"), () => doReprint(ticket)));
    }
    actions.push(button(t("reception.history"), () => showHistory(ticket, where)));
    const bar = document.createElement("div");
    bar.className = "desk-actions";
    bar.append(...actions);
    return bar;
  }

  function renderTickets(tickets) {
    el.empty.hidden = tickets.length > 0;
    const rows = tickets.map((ticket) => {
      const tr = document.createElement("tr");
      tr.dataset.ticket = ticket.label;
      const actions = cell("");
      actions.append(ticketActions(ticket, actions));
      tr.append(
        cell(ticket.label),
        cell(data.services[ticket.service] || ticket.service),
        badge("priority priority-" + ticket.priority, t("priority." + ticket.priority)),
        badge("state state-" + ticket.state, t("state." + ticket.state)),
        cell(ticket.room ? data.rooms[ticket.room] || ticket.room : "", "desk-nowrap"),
        cell(timeOf(ticket.issued_at), "desk-nowrap"),
        actions,
      );
      return tr;
    });
    el.tickets.replaceChildren(...rows);
  }

  function notify(message, failed) {
    el.notice.textContent = message;
    el.notice.className = failed ? "notice notice-error" : "notice";
    el.notice.hidden = false;
  }

  // Send one staff action; say what happened in the notice line.
  async function staffAction(path, body, success) {
    try {
      await api("POST", path, body);
      notify(success, false);
    } catch (err) {
      notify(err.message, true);
    }
    await refreshTickets();
  }

  function cancel(ticket) {
    clearTimeout(confirmTimer);
    if (confirming !== ticket.id) {
      confirming = ticket.id;
      confirmTimer = setTimeout(() => {
        confirming = null;
        refreshTickets();
      }, CONFIRM_SECONDS * 1000);
      refreshTickets();
      return;
    }
    confirming = null;
    staffAction(
      `/tickets/${ticket.id}/cancel`,
      {},
      t("reception.cancelled", { ticket: ticket.label }),
    );
  }

  function reinstate(ticket) {
    staffAction(
      `/tickets/${ticket.id}/reinstate`,
      {},
      t("reception.reinstated", { ticket: ticket.label }),
    );
  }

  function setPriority(ticket, priority) {
    staffAction(
      `/tickets/${ticket.id}/priority`,
      { priority },
      t("reception.priority_set", {
        ticket: ticket.label,
        priority: t("priority." + priority),
      }),
    );
  }

  function transfer(ticket, service) {
    staffAction(
      `/tickets/${ticket.id}/transfer`,
      { service },
      t("reception.transferred", {
        ticket: ticket.label,
        service: data.services[service] || service,
      }),
    );
  }

  async function doReprint(ticket) {
    try {
      await api("POST", `/tickets/${ticket.id}/reprint`);
      notify(t("reception.reprinted", { ticket: ticket.label }), false);
    } catch (err) {
      notify(err.message, true);
    }
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
      rooms: () => {}, // breaks show on the tablets and the display
      appointments: () => {}, // the schedule page shows them
      printer: (message) => {
        printers[message.id] = Object.assign(printers[message.id] || {}, message);
        renderPrinters();
      },
    },
  });
})();
