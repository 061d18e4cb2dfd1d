// The phone page: live position, then a full-screen "your turn".
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const el = {
    main: document.getElementById("main"),
    service: document.getElementById("service"),
    position: document.getElementById("position"),
    closed: document.getElementById("closed"),
    turn: document.getElementById("turn"),
    turnRoom: document.getElementById("turn-room"),
    dot: document.getElementById("dot"),
  };
  let ticket = null;
  let vibrated = null;

  const CLOSED = { done: "phone.served", no_show: "phone.no_show" };

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

    const called = ticket.state === "called";
    el.turn.hidden = !called;
    if (called) {
      el.turnRoom.textContent = data.rooms[ticket.room] || ticket.room;
      const key = `${ticket.called_at}:${ticket.recalls}`;
      if (vibrated !== key && navigator.vibrate) navigator.vibrate([400, 200, 400]);
      vibrated = key;
    }
  }

  function aheadFrom(labels) {
    const index = labels.indexOf(ticket.label);
    return index < 0 ? 0 : index;
  }

  Navbat.live({
    auth: { audience: "ticket", token: data.token },
    dot: el.dot,
    onSnapshot: (snapshot) => {
      ticket = snapshot.ticket;
      render();
    },
    handlers: {
      ticket: (message) => {
        ticket = Object.assign({}, ticket, message);
        render();
      },
      line: (message) => {
        if (ticket.state !== "waiting") return;
        ticket.ahead = aheadFrom(message.waiting);
        render();
      },
    },
  });
})();
