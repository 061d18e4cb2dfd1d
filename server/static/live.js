// Live updates from the hub over Socket.IO, for every page.
//
// Each message names its stream and carries the hub's epoch and a sequence
// number. A gap, a new epoch (the hub restarted) or a reconnect makes the
// page ask for a fresh snapshot, so it never keeps showing stale state.
"use strict";

window.Navbat = window.Navbat || {};

Navbat.pageData = function () {
  return JSON.parse(document.getElementById("page-data").textContent);
};

Navbat.t = function (strings, key, params) {
  let text = strings[key] || key;
  for (const [name, value] of Object.entries(params || {})) {
    text = text.split("{" + name + "}").join(String(value));
  }
  return text;
};

// Connect as an audience; call onSnapshot(snapshot) and handlers[name](msg).
Navbat.live = function ({ auth, onSnapshot, handlers, dot }) {
  const socket = io({ auth, reconnectionDelayMax: 3000 });
  let epoch = null;
  let seqs = {};
  let downTimer = null;

  function setDot(state) {
    if (dot) dot.dataset.state = state;
  }

  function resync() {
    socket.emit("resync", auth);
  }

  socket.on("connect", () => {
    clearTimeout(downTimer);
    setDot("up");
  });
  socket.on("disconnect", () => {
    // A blink of Wi-Fi is not worth alarming anyone; two seconds is.
    downTimer = setTimeout(() => setDot("down"), 2000);
  });
  socket.on("connect_error", () => setDot("down"));

  socket.on("snapshot", (snapshot) => {
    epoch = snapshot.epoch;
    seqs = snapshot.seqs || { [snapshot.stream]: snapshot.seq };
    onSnapshot(snapshot);
  });

  for (const [name, handle] of Object.entries(handlers || {})) {
    socket.on(name, (message) => {
      if (epoch === null) return;
      const last = seqs[message.stream] || 0;
      if (message.epoch !== epoch || message.seq > last + 1) {
        resync();
        return;
      }
      if (message.seq <= last) return;
      seqs[message.stream] = message.seq;
      handle(message);
    });
  }
  return socket;
};
