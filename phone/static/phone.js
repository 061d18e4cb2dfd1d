// The phone page: live position and wait, leaving the queue, then a
// full-screen "your turn".
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const el = {
    main: document.getElementById("main"),
    service: document.getElementById("service"),
    position: document.getElementById("position"),
    wait: document.getElementById("wait"),
    closed: document.getElementById("closed"),
    hint: document.getElementById("hint"),
    leave: document.getElementById("leave"),
    leaveStart: document.getElementById("leave-start"),
    leaveConfirm: document.getElementById("leave-confirm"),
    leaveYes: document.getElementById("leave-yes"),
    leaveNo: document.getElementById("leave-no"),
    leaveError: document.getElementById("leave-error"),
    turn: document.getElementById("turn"),
    turnRoom: document.getElementById("turn-room"),
    dot: document.getElementById("dot"),
  };
  let ticket = null;
  let vibrated = null;

  const CLOSED = {
    done: "phone.served",
    no_show: "phone.no_show",
    cancelled: "phone.cancelled",
  };

  function positionText(ahead) {
    if (ahead === 0) return t("phone.next");
    if (ahead === 1) return t("phone.ahead_one");
    return t("phone.ahead", { count: ahead });
  }

  function render() {
    el.main.dataset.state = ticket.state;
    el.service.textContent = data.services[ticket.service] || ticket.service;
    const waiting = ticket.state === "waiting";
    el.position.hidden = !waiting;
    el.closed.hidden = waiting;
    if (waiting) el.position.textContent = positionText(ticket.ahead);
    else el.closed.textContent = t(CLOSED[ticket.state] || "phone.closed");
    el.wait.hidden = !(waiting && ticket.wait);
    if (!el.wait.hidden) {
      el.wait.textContent = t("phone.wait", { band: Navbat.waitBand(data.strings, ticket.wait) });
    }
    const open = waiting || ticket.state === "called" || ticket.state === "serving";
    el.hint.hidden = !open;
    el.leave.hidden = !waiting;
    if (!waiting) showLeaveStep(false);

    const called = ticket.state === "called";
    el.turn.hidden = !called;
    if (called) {
      el.turnRoom.textContent = data.rooms[ticket.room] || ticket.room;
      const key = `${ticket.called_at}:${ticket.recalls}`;
      if (vibrated !== key && navigator.vibrate) navigator.vibrate([400, 200, 400]);
      vibrated = key;
    }
  }

  // Find this ticket in its service's line: its place and its wait band.
  function onLine(message) {
    if (ticket.state !== "waiting" || message.service !== ticket.service) return;
    const index = message.waiting.indexOf(ticket.label);
    ticket.ahead = Math.max(index, 0);
    if (index >= 0 && message.waits) ticket.wait = message.waits[index];
    render();
  }

  // Leaving takes two taps: the button, then "Yes, leave".
  function showLeaveStep(confirming) {
    el.leaveStart.hidden = confirming;
    el.leaveConfirm.hidden = !confirming;
    el.leaveError.hidden = true;
  }

  async function leave() {
    el.leaveYes.disabled = true;
    el.leaveNo.disabled = true;
    try {
      const answer = await Navbat.api("POST", `/tickets/${data.token}/cancel`, {
        lang: data.lang,
      });
      ticket = Object.assign({}, ticket, answer.ticket);
      render();
    } catch (err) {
      el.leaveError.textContent = err.message;
      el.leaveError.hidden = false;
    }
    el.leaveYes.disabled = false;
    el.leaveNo.disabled = false;
  }

  el.leaveStart.addEventListener("click", () => {
    showLeaveStep(true);
    el.leaveNo.focus();
  });
  el.leaveNo.addEventListener("click", () => showLeaveStep(false));
  el.leaveYes.addEventListener("click", leave);

  function onTicket(message) {
    const moved = message.service !== ticket.service;
    ticket = Object.assign({}, ticket, message);
    render();
    // A transfer puts the ticket in another service's line; the hub joins a
    // phone to its line when it connects, so connect again to follow it.
    if (moved) {
      socket.disconnect();
      socket.connect();
    }
  }

  const socket = Navbat.live({
    auth: { audience: "ticket", token: data.token },
    dot: el.dot,
    onSnapshot: (snapshot) => {
      ticket = snapshot.ticket;
      render();
    },
    handlers: { ticket: onTicket, line: onLine },
  });
})();
