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

// A wait band [low, high] in minutes as a person reads it ("~10–20 min").
Navbat.waitBand = function (strings, band) {
  if (!band) return "";
  if (band[0] === 0) return Navbat.t(strings, "common.wait_under", { high: band[1] });
  return Navbat.t(strings, "common.wait_band", { low: band[0], high: band[1] });
};

// Call the hub's JSON API with the page's CSRF token; a 401 means the
// session ended, so the page reloads into its sign-in form.
Navbat.api = async function (method, path, body) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const response = await fetch("/api/v1" + path, {
    method,
    headers: {
      "Content-Type": "application/json",
      "X-CSRF-Token": meta ? meta.content : "",
    },
    body: method === "GET" ? undefined : JSON.stringify(body || {}),
  });
  if (response.status === 401) {
    location.reload();
    throw new Error("signed out");
  }
  if (response.status === 204) return null;
  const json = await response.json();
  if (!response.ok) {
    // Forms point at the field named by the refusal.
    const error = new Error(json.error ? json.error.message : response.statusText);
    error.code = json.error && json.error.code;
    error.field = json.error && json.error.field;
    error.status = response.status;
    throw error;
  }
  return json;
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
