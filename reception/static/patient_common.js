// What the patient pages share: risk flags as words, and forms that point
// at the field a refusal names while keeping everything typed.
"use strict";

window.Navbat = window.Navbat || {};

// A risk flag is a word on a colour, never a colour alone.
Navbat.riskList = function (codes, names) {
  return codes.map((code) => {
    const span = document.createElement("span");
    span.className = "risk";
    span.textContent = names[code] || code;
    return span;
  });
};

// Show a refusal in the form's alert line and focus the field it names.
Navbat.formError = function (form, err) {
  for (const node of form.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
  }
  const alert = form.querySelector('[role="alert"]');
  alert.textContent = err.message;
  alert.hidden = false;
  const field = err.field && form.querySelector(`[name="${err.field}"]`);
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", alert.id || "");
    field.focus();
  }
};

Navbat.clearFormError = function (form) {
  for (const node of form.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
  }
  const alert = form.querySelector('[role="alert"]');
  alert.hidden = true;
};

// A stored date (1990-03-21) the way the clinic writes it (21.03.1990).
Navbat.clinicDate = function (iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return `${d}.${m}.${y}`;
};
