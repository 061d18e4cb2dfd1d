// One patient's card: details, risk flags, visits, payments, complaints,
// merge, export and delete (a dentist sees the clinical part only).
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const number = data.number;
  const path = `/patients/${encodeURIComponent(number)}`;
  const el = {
    notice: document.getElementById("notice"),
    number: document.getElementById("number"),
    name: document.getElementById("name"),
    meta: document.getElementById("meta"),
    deleted: document.getElementById("deleted"),
    risks: document.getElementById("risks"),
    facts: document.getElementById("facts"),
    visits: document.getElementById("visits"),
    noVisits: document.getElementById("no-visits"),
    payments: document.getElementById("payments"),
    noPayments: document.getElementById("no-payments"),
    complaints: document.getElementById("complaints"),
    noComplaints: document.getElementById("no-complaints"),
    audit: document.getElementById("audit"),
    del: document.getElementById("delete"),
    paymentForm: document.getElementById("payment-form"),
    complaintForm: document.getElementById("complaint-form"),
    mergeForm: document.getElementById("merge-form"),
    merge: document.getElementById("merge"),
  };
  const CONFIRM_SECONDS = 5;
  const when = new Intl.DateTimeFormat("ru-RU", {
    timeZone: data.timezone,
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
  let confirming = null; // "delete" or a card number to merge, once pressed
  let confirmTimer = null;

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    return td;
  }

  function row(...texts) {
    const tr = document.createElement("tr");
    tr.append(...texts.map(cell));
    return tr;
  }

  function money(amount) {
    return t("patients.som", { amount: amount.toLocaleString("ru-RU") });
  }

  function notify(message, failed) {
    el.notice.textContent = message;
    el.notice.className = failed ? "notice notice-error" : "notice";
    el.notice.hidden = false;
  }

  function fact(label, value) {
    if (!value) return [];
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    return [dt, dd];
  }

  function renderCard(p) {
    document.title = `${p.number} · ${document.title.split(" · ").pop()}`;
    el.number.textContent = p.number;
    el.name.textContent = `${p.last_name} ${p.first_name}`.trim();
    const born = p.birth_date
      ? `${Navbat.clinicDate(p.birth_date)} · ${t("patients.age", { age: p.age })}`
      : "";
    el.meta.textContent = [born, t("patients.category_" + p.category)]
      .filter(Boolean)
      .join(" · ");
    el.deleted.hidden = !p.deleted;
    el.risks.replaceChildren(
      ...Navbat.riskList(p.flags, data.flags).map((span) => {
        const li = document.createElement("li");
        li.append(span);
        return li;
      }),
    );
    el.facts.replaceChildren(
      ...fact(t("patients.phone"), p.phone_display),
      ...fact(t("patients.email"), p.email),
      ...fact(t("patients.lang"), { uz: "Oʻzbekcha", ru: "Русский", en: "English" }[p.lang]),
      ...fact(t("patients.condition"), p.condition),
      ...fact(t("patients.notes"), p.notes),
    );
    if (el.del) el.del.disabled = p.deleted;
  }

  function renderHistory(p) {
    el.noVisits.hidden = p.visits.length > 0;
    el.visits.replaceChildren(
      ...p.visits.map((v) => {
        const tr = row(
          Navbat.clinicDate(v.day),
          v.label,
          data.services[v.service] || v.service,
          t("state." + v.state),
          data.dentists[v.dentist] || "",
          [t(v.source === "kiosk" ? "patients.visit_kiosk" : "patients.visit_staff"), v.note]
            .filter(Boolean)
            .join(" · "),
        );
        const tools = cell("");
        if (!p.deleted) tools.append(noteButton(v, tr));
        tr.append(tools);
        return tr;
      }),
    );
    if (el.payments) {
      el.noPayments.hidden = p.payments.length > 0;
      el.payments.replaceChildren(
        ...p.payments.map((pay) =>
          row(Navbat.clinicDate(pay.day), money(pay.amount), t("patients.method_" + pay.method), pay.note, pay.who),
        ),
      );
    }
    el.noComplaints.hidden = p.complaints.length > 0;
    el.complaints.replaceChildren(
      ...p.complaints.map((c) => {
        const li = document.createElement("li");
        const text = document.createElement("p");
        text.textContent = c.text;
        const meta = document.createElement("small");
        meta.textContent = `${when.format(new Date(c.at))} · ${c.who}`;
        li.append(text, meta);
        return li;
      }),
    );
    if (el.audit) {
      el.audit.replaceChildren(
        ...p.audit.map((a) =>
          row(when.format(new Date(a.at)), a.who, t("patients.action_" + a.action, { detail: detail(a) })),
        ),
      );
    }
  }

  // The audit line names fields and methods by code: say them in words.
  function detail(line) {
    if (line.action === "updated") {
      return line.detail
        .split(", ")
        .map((field) => t("patients." + field))
        .join(", ");
    }
    if (line.action === "payment_added") return t("patients.method_" + line.detail);
    return line.detail;
  }

  // The dentist's (or reception's) note on one visit, written in place.
  function noteButton(visit, tr) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn";
    button.textContent = t("patients.write_note");
    button.addEventListener("click", () => {
      const form = document.createElement("form");
      form.className = "visit-note";
      form.noValidate = true;
      form.innerHTML = '<textarea name="note" rows="2" maxlength="2000"></textarea>' +
        '<p class="notice notice-error" role="alert" hidden></p>' +
        '<button class="btn btn-primary" type="submit"></button>';
      form.elements.note.value = visit.note;
      form.elements.note.setAttribute("aria-label", t("patients.write_note"));
      form.querySelector("button").textContent = t("patients.save_note");
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await Navbat.api("POST", `${path}/visits/${visit.ticket_id}/note`, {
            note: form.elements.note.value,
          });
          notify(t("patients.note_saved", { ticket: visit.label }), false);
          await load();
        } catch (err) {
          Navbat.formError(form, err);
        }
      });
      const holder = document.createElement("td");
      holder.colSpan = tr.children.length;
      holder.append(form);
      const editor = document.createElement("tr");
      editor.append(holder);
      tr.after(editor);
      button.disabled = true;
      form.elements.note.focus();
    });
    return button;
  }

  async function load() {
    try {
      const answer = await Navbat.api("GET", path);
      renderCard(answer.patient);
      renderHistory(answer.patient);
    } catch (err) {
      notify(err.message, true);
    }
  }

  // A form sends its fields; on success it is cleared and the card reloads.
  function handle(form, send) {
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      Navbat.clearFormError(form);
      try {
        const message = await send(form.elements);
        form.reset();
        notify(message, false);
        await load();
      } catch (err) {
        Navbat.formError(form, err);
      }
    });
  }

  handle(el.paymentForm, async (f) => {
    const amount = f.amount.value.replace(/[\s\u00a0]/g, "");
    await Navbat.api("POST", `${path}/payments`, {
      amount: /^\d+$/.test(amount) ? Number(amount) : f.amount.value,
      method: f.method.value,
      note: f.note.value,
    });
    return t("patients.payment_added", { amount: Number(amount).toLocaleString("ru-RU") });
  });

  handle(el.complaintForm, async (f) => {
    await Navbat.api("POST", `${path}/complaints`, { text: f.text.value });
    return t("patients.complaint_added");
  });

  // Merging and deleting cannot be undone: each takes a second press.
  function armed(what, button, label) {
    clearTimeout(confirmTimer);
    if (confirming === what) {
      confirming = null;
      return true;
    }
    confirming = what;
    const original = button.textContent;
    button.textContent = label;
    button.classList.add("btn-confirm");
    confirmTimer = setTimeout(() => {
      confirming = null;
      button.textContent = original;
      button.classList.remove("btn-confirm");
    }, CONFIRM_SECONDS * 1000);
    return false;
  }

  if (el.mergeForm) {
    el.mergeForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      Navbat.clearFormError(el.mergeForm);
      const drop = el.mergeForm.elements.drop.value.trim();
      if (!armed(`merge:${drop}`, el.merge, t("patients.merge_confirm", { number: drop }))) return;
      try {
        await Navbat.api("POST", "/patients/merge", { keep: number, drop });
        el.mergeForm.reset();
        notify(t("patients.merged", { number: drop }), false);
        await load();
      } catch (err) {
        Navbat.formError(el.mergeForm, err);
      }
    });
  }

  if (el.del) {
    el.del.addEventListener("click", async () => {
      if (!armed("delete", el.del, t("patients.delete_confirm"))) return;
      try {
        await Navbat.api("DELETE", path);
        await load();
      } catch (err) {
        notify(err.message, true);
      }
    });
  }

  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
    const edit = document.getElementById("edit");
    if ((event.key === "e" || event.key === "E") && !typing && edit) {
      event.preventDefault();
      location.assign(edit.href);
    }
  });

  load();
})();
