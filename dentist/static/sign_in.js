// The tablet's sign-in: tap your name, type your PIN.
"use strict";

(function () {
  const data = Navbat.pageData();
  const el = {
    names: document.getElementById("names"),
    nameList: document.getElementById("name-list"),
    pinStep: document.getElementById("pin-step"),
    pinName: document.getElementById("pin-name"),
    dots: document.getElementById("pin-dots"),
    error: document.getElementById("pin-error"),
    submit: document.getElementById("pin-submit"),
  };
  let dentist = null;
  let pin = "";

  function showError(message) {
    el.error.textContent = message;
    el.error.className = "notice notice-error";
    el.error.hidden = false;
    pin = "";
    showPin();
  }

  function showPin() {
    el.dots.textContent = "•".repeat(pin.length);
  }

  function askPin(person) {
    dentist = person.id;
    pin = "";
    showPin();
    el.pinName.textContent = person.name;
    el.names.hidden = true;
    el.pinStep.hidden = false;
    el.error.hidden = true;
  }

  for (const person of data.dentists) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn";
    button.textContent = person.name;
    button.addEventListener("click", () => askPin(person));
    el.nameList.appendChild(button);
  }

  // Locked after a quiet while: the same dentist only types the PIN again.
  const locked = data.dentists.find((person) => person.id === data.locked);
  if (locked) {
    askPin(locked);
    el.error.textContent = data.strings["dentist.locked_idle"];
    el.error.className = "notice";
    el.error.hidden = false;
  }

  for (const key of document.querySelectorAll("[data-digit]")) {
    key.addEventListener("click", () => {
      if (pin.length < 12) pin += key.dataset.digit;
      showPin();
    });
  }
  document.getElementById("pin-clear").addEventListener("click", () => {
    pin = "";
    showPin();
  });
  document.getElementById("pin-back").addEventListener("click", () => {
    el.pinStep.hidden = true;
    el.names.hidden = false;
  });

  el.submit.addEventListener("click", async () => {
    el.submit.disabled = true;
    el.error.hidden = true;
    try {
      const response = await fetch("/api/v1/dentist/login?lang=" + data.lang, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ dentist, pin }),
      });
      if (response.ok) {
        location.reload();
        return;
      }
      const json = await response.json();
      showError(json.error.message);
    } catch (err) {
      showError(data.strings["common.reconnecting"]);
    } finally {
      el.submit.disabled = false;
    }
  });
})();
