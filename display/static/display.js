// The waiting-room display: the current call, recent calls, waiting counts
// and, quietly, the rooms closed for a break.
"use strict";

(function () {
  const data = Navbat.pageData();
  const SHOW_SECONDS = 6;
  const RECENT_SHOWN = 6;

  const el = {
    call: document.getElementById("call"),
    number: document.getElementById("call-number"),
    room: document.getElementById("call-room"),
    recent: document.getElementById("recent"),
    waiting: document.getElementById("waiting"),
    closed: document.getElementById("closed"),
    clock: document.getElementById("clock"),
    date: document.getElementById("date"),
    sound: document.getElementById("sound"),
    dot: document.getElementById("dot"),
  };

  const chime = new Navbat.Chime();
  let recent = [];
  // The newest call the screen knows of: a call the last snapshot already
  // showed is never announced a second time.
  let lastCallId = 0;
  const announcements = [];
  let announcing = false;

  function roomName(roomId) {
    return data.rooms[roomId] || roomId || "";
  }

  function showCall(call, isNew) {
    if (!call) {
      el.call.dataset.state = "idle";
      return;
    }
    el.number.textContent = call.label;
    el.room.textContent = roomName(call.room);
    // Restart the pulse even when the same element pulses again.
    el.call.dataset.state = "shown";
    if (isNew) {
      void el.call.offsetWidth;
      el.call.dataset.state = "new";
    }
  }

  function renderRecent() {
    const items = recent.slice(1, RECENT_SHOWN + 1).map((call) => {
      const li = document.createElement("li");
      const number = document.createElement("span");
      number.className = "recent-number";
      number.textContent = call.label;
      const room = document.createElement("span");
      room.className = "recent-room";
      room.textContent = roomName(call.room);
      li.append(number, room);
      return li;
    });
    el.recent.replaceChildren(...items);
  }

  function renderWaiting(counts) {
    const items = data.services.map((service) => {
      const li = document.createElement("li");
      li.textContent = `${service.prefix} · ${service.name}`;
      const count = document.createElement("b");
      count.textContent = counts[service.id] || 0;
      li.append(count);
      return li;
    });
    el.waiting.replaceChildren(...items);
  }

  function renderClosed(rooms) {
    el.closed.hidden = rooms.length === 0;
    const items = rooms.map((roomId) => {
      const li = document.createElement("li");
      li.textContent = Navbat.t(data.strings, "display.room_closed", {
        room: roomName(roomId),
      });
      return li;
    });
    el.closed.replaceChildren(...items);
  }

  // Calls that arrive together are shown and announced one after another.
  function announce(call) {
    announcements.push(call);
    if (!announcing) nextAnnouncement();
  }

  function nextAnnouncement() {
    const call = announcements.shift();
    if (!call) {
      announcing = false;
      return;
    }
    announcing = true;
    recent = [call, ...recent.filter((c) => c.event_id !== call.event_id)].slice(0, 12);
    showCall(call, true);
    renderRecent();
    chime.play();
    setTimeout(nextAnnouncement, SHOW_SECONDS * 1000);
  }

  function onSnapshot(snapshot) {
    announcements.length = 0;
    recent = snapshot.recent;
    lastCallId = Math.max(0, ...recent.map((call) => call.event_id));
    showCall(recent[0], false);
    renderRecent();
    renderWaiting(snapshot.waiting);
    renderClosed(snapshot.paused || []);
  }

  function onQueue(message) {
    renderWaiting(message.waiting);
    const isCall = message.action === "called" || message.action === "recalled";
    if (isCall && message.event_id > lastCallId) {
      lastCallId = message.event_id;
      announce({
        event_id: message.event_id,
        label: message.ticket.label,
        room: message.ticket.room,
        recall: message.action === "recalled",
      });
    }
  }

  // The clock and date in the clinic's zone: 24 h, dd.MM.yyyy.
  const clockFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: data.timezone,
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });
  const dateFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: data.timezone,
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
  });

  function tick() {
    const now = new Date();
    el.clock.textContent = clockFormat.format(now);
    el.date.textContent = dateFormat.format(now).split("/").join(".");
  }

  function updateSoundButton() {
    el.sound.hidden = !chime.blocked;
  }

  document.addEventListener("click", () => chime.unlock().then(updateSoundButton));
  if (localStorage.getItem("navbat.sound") === "on") {
    chime.unlock().then(updateSoundButton);
  }
  setTimeout(updateSoundButton, 500);

  tick();
  setInterval(tick, 1000);

  Navbat.live({
    auth: { audience: "display" },
    dot: el.dot,
    onSnapshot,
    handlers: { queue: onQueue, rooms: (message) => renderClosed(message.paused) },
  });
})();
