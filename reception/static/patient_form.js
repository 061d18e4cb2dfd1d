// Register a patient (warning about possible duplicates first) or change a
// card. A refusal points at its field; nothing typed is ever cleared.
"use strict";

(function () {
  const data = Navbat.pageData();
  const form = document.getElementById("patient-form");
  const el = {
    duplicates: document.getElementById("duplicates"),
    candidates: document.getElementById("candidates"),
    anyway: document.getElementById("register-anyway"),
    save: document.getElementById("save"),
  };
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const TEXT_FIELDS = ["first_name", "last_name", "birth_date", "phone", "email",
    "lang", "category", "condition", "notes"];
  let busy = false;

  function values() {
    const card = {};
    for (const name of TEXT_FIELDS) card[name] = form.elements[name].value;
    card.flags = [...form.querySelectorAll('input[name="flags"]:checked')].map((box) => box.value);
    card.sms_consent = form.elements.sms_consent.checked;
    card.email_consent = form.elements.email_consent.checked;
    return card;
  }

  function fill(card) {
    for (const name of TEXT_FIELDS) form.elements[name].value = card[name] || "";
    form.elements.birth_date.value = Navbat.clinicDate(card.birth_date);
    form.elements.phone.value = card.phone_display;
    for (const box of form.querySelectorAll('input[name="flags"]')) {
      box.checked = card.flags.includes(box.value);
    }
    form.elements.sms_consent.checked = card.sms_consent;
    form.elements.email_consent.checked = card.email_consent;
  }

  function openCard(number) {
    location.assign(`/reception/patients/${encodeURIComponent(number)}`);
  }

  function showCandidates(candidates) {
    el.candidates.replaceChildren(
      ...candidates.map((c) => {
        const li = document.createElement("li");
        const link = document.createElement("a");
        link.href = `/reception/patients/${encodeURIComponent(c.number)}`;
        link.textContent = `${c.number} · ${c.last_name} ${c.first_name}`;
        const born = c.birth_date ? ` · ${Navbat.clinicDate(c.birth_date)}` : "";
        li.append(link, `${born} · ${c.phone} (${t("patients.reason_" + c.reason)})`);
        return li;
      }),
    );
    el.duplicates.hidden = false;
    el.anyway.focus();
  }

  async function save(confirmNew) {
    if (busy) return;
    busy = true;
    el.save.disabled = true;
    Navbat.clearFormError(form);
    const card = values();
    try {
      if (data.number) {
        await Navbat.api("PATCH", `/patients/${encodeURIComponent(data.number)}`, card);
        openCard(data.number);
        return;
      }
      if (!confirmNew) {
        const check = await Navbat.api("POST", "/patients/duplicates", card);
        if (check.candidates.length) {
          showCandidates(check.candidates);
          return;
        }
      }
      const answer = await Navbat.api("POST", "/patients", { ...card, confirm_new: true });
      openCard(answer.patient.number);
    } catch (err) {
      el.duplicates.hidden = true;
      Navbat.formError(form, err);
    } finally {
      busy = false;
      el.save.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(false);
  });
  el.anyway.addEventListener("click", () => save(true));
  // A changed name or phone asks the duplicate question again.
  form.addEventListener("input", () => {
    el.duplicates.hidden = true;
  });

  if (data.number) {
    Navbat.api("GET", `/patients/${encodeURIComponent(data.number)}`)
      .then((answer) => fill(answer.patient))
      .catch((err) => Navbat.formError(form, err));
  }
})();
