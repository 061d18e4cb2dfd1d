// The kiosk's optional phone step: after a ticket, the patient may type their
// phone so the visit lands on their card. Whatever they type, the screen only
// says thank you: it never tells whether this clinic knows the number.
"use strict";

(function () {
  const data = Navbat.pageData();
  const MAX_DIGITS = 9; // an Uzbek number after +998
  const THANKS_SECONDS = 2;
  const el = {
    slot: document.getElementById("phone-slot"),
    offerTemplate: document.getElementById("phone-offer-template"),
    step: document.getElementById("phone-step"),
    title: document.getElementById("phone-title"),
    hint: document.getElementById("phone-hint"),
    number: document.getElementById("phone-number"),
    error: document.getElementById("phone-error"),
    thanks: document.getElementById("phone-thanks"),
    pad: document.getElementById("phone-pad"),
    clear: document.getElementById("phone-clear"),
    skip: document.getElementById("phone-skip"),
    send: document.getElementById("phone-send"),
  };
  let ticket = null; // {token, lang} of the ticket on screen
  let digits = "";
  let sending = false;

  function t(key) {
    return Navbat.t(data.strings[ticket ? ticket.lang : data.default_language], key);
  }

  function shown() {
    // +998 90 123 45 67, filled in as the patient types.
    const parts = [digits.slice(0, 2), digits.slice(2, 5), digits.slice(5, 7), digits.slice(7, 9)];
    return ["+998", ...parts.filter(Boolean)].join(" ");
  }

  function render() {
    el.number.textContent = shown();
    el.send.disabled = sending || digits.length !== MAX_DIGITS;
  }

  function offer(detail) {
    ticket = detail;
    const button = el.offerTemplate.content.firstElementChild.cloneNode(true);
    button.textContent = t("kiosk.phone_offer");
    button.addEventListener("click", open);
    el.slot.replaceChildren(button);
  }

  function open() {
    document.dispatchEvent(new CustomEvent("navbat:hold"));
    digits = "";
    el.title.textContent = t("kiosk.phone_title");
    el.hint.textContent = t("kiosk.phone_hint");
    el.clear.textContent = t("kiosk.phone_clear");
    el.skip.textContent = t("kiosk.phone_skip");
    el.send.textContent = t("kiosk.phone_send");
    el.error.hidden = true;
    el.thanks.hidden = true;
    el.pad.hidden = false;
    render();
    el.step.hidden = false;
  }

  function close() {
    el.step.hidden = true;
    el.slot.replaceChildren();
    digits = "";
    document.dispatchEvent(new CustomEvent("navbat:release"));
  }

  async function send() {
    if (sending || !ticket) return;
    sending = true;
    el.error.hidden = true;
    render();
    try {
      const response = await fetch(`/api/v1/tickets/${ticket.token}/phone`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ phone: "+998" + digits, lang: ticket.lang }),
      });
      if (response.status === 400) {
        const json = await response.json();
        el.error.textContent = json.error.message;
        el.error.hidden = false;
        return;
      }
    } catch (err) {
      // No connection: the ticket is valid anyway; reception can link it.
    } finally {
      sending = false;
      render();
    }
    if (!el.error.hidden) return;
    el.pad.hidden = true;
    el.thanks.textContent = t("kiosk.phone_thanks");
    el.thanks.hidden = false;
    el.send.disabled = true;
    setTimeout(close, THANKS_SECONDS * 1000);
  }

  el.pad.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.digit && digits.length < MAX_DIGITS) digits += button.dataset.digit;
    else if (button.dataset.key === "back") digits = digits.slice(0, -1);
    else if (button.dataset.key === "clear") digits = "";
    el.error.hidden = true;
    render();
  });
  el.skip.addEventListener("click", close);
  el.send.addEventListener("click", send);
  document.addEventListener("navbat:ticket", (event) => offer(event.detail));
  document.addEventListener("navbat:start", () => {
    el.step.hidden = true;
    el.slot.replaceChildren();
    ticket = null;
  });
})();
