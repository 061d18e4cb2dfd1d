// The admin's staff page: accounts, roles, new passwords and tablet PINs.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const api = Navbat.api;
  const el = {
    users: document.getElementById("users"),
    dentists: document.getElementById("dentists"),
    notice: document.getElementById("notice"),
    form: document.getElementById("user-form"),
    formTitle: document.getElementById("form-title"),
    formError: document.getElementById("form-error"),
    dentistField: document.getElementById("dentist-field"),
    cancelEdit: document.getElementById("cancel-edit"),
  };

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-small";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  // A new password or PIN is shown once, in the notice, until dismissed.
  function tell(text, secret) {
    el.notice.replaceChildren(document.createTextNode(text));
    if (secret) {
      const code = document.createElement("code");
      code.className = "desk-secret";
      code.textContent = secret;
      el.notice.append(" ", code);
    }
    el.notice.hidden = false;
    el.notice.scrollIntoView({ block: "nearest" });
  }

  async function act(work) {
    try {
      await work();
    } catch (error) {
      tell(error.message);
    }
  }

  function renderUsers(users) {
    el.users.replaceChildren(
      ...users.map((user) => {
        const tr = document.createElement("tr");
        if (!user.active) tr.className = "desk-muted";
        const tools = document.createElement("td");
        tools.className = "desk-actions";
        tools.append(
          button(t("staff.edit"), () => startEdit(user)),
          button(t("staff.new_password"), () =>
            act(async () => {
              const answer = await api("POST", `/staff/users/${user.id}/password`);
              tell(t("staff.password_for", { user: user.username }), answer.password);
            }),
          ),
          // Nobody deactivates themselves; the hub refuses it too.
          ...(user.id === data.me ? [] : [button(user.active ? t("staff.deactivate") : t("staff.activate"), () =>
            act(async () => {
              const action = user.active ? "deactivate" : "activate";
              await api("POST", `/staff/users/${user.id}/${action}`);
              tell(t(user.active ? "staff.deactivated" : "staff.activated", { user: user.username }));
              await refresh();
            }),
          )]),
        );
        tr.append(
          cell(user.username),
          cell(user.full_name),
          cell(t("staff.role_" + user.role)),
          cell(user.dentist ? data.dentists[user.dentist] || user.dentist : ""),
          cell(user.active ? t("staff.active") : t("staff.inactive")),
          tools,
        );
        return tr;
      }),
    );
  }

  function renderDentists(dentists) {
    el.dentists.replaceChildren(
      ...dentists.map((dentist) => {
        const tr = document.createElement("tr");
        const tools = document.createElement("td");
        tools.append(
          button(t("staff.new_pin"), () =>
            act(async () => {
              const answer = await api("POST", `/staff/dentists/${dentist.id}/pin`);
              tell(t("staff.pin_for", { dentist: dentist.name }), answer.pin);
              await refresh();
            }),
          ),
        );
        const state = dentist.locked ? "staff.pin_locked" : dentist.has_pin ? "staff.pin_set" : "staff.pin_none";
        tr.append(cell(dentist.name), cell(t(state)), tools);
        return tr;
      }),
    );
  }

  function showDentistField() {
    el.dentistField.hidden = el.form.elements.role.value !== "dentist";
  }

  function startEdit(user) {
    const f = el.form.elements;
    f.id.value = user.id;
    f.username.value = user.username;
    f.username.disabled = true;
    f.full_name.value = user.full_name;
    f.role.value = user.role;
    f.dentist.value = user.dentist || "";
    el.formTitle.textContent = t("staff.edit_user", { user: user.username });
    el.cancelEdit.hidden = false;
    showDentistField();
    f.full_name.focus();
  }

  function resetForm() {
    el.form.reset();
    el.form.elements.id.value = "";
    el.form.elements.username.disabled = false;
    el.formTitle.textContent = t("staff.add_user");
    el.cancelEdit.hidden = true;
    el.formError.hidden = true;
    showDentistField();
  }

  el.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = el.form.elements;
    const body = { full_name: f.full_name.value, role: f.role.value, dentist: f.dentist.value };
    for (const input of el.form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    try {
      if (f.id.value) {
        await api("POST", `/staff/users/${f.id.value}`, body);
        tell(t("staff.saved", { user: f.username.value }));
      } else {
        body.username = f.username.value;
        const answer = await api("POST", "/staff/users", body);
        tell(t("staff.password_for", { user: answer.user.username }), answer.password);
      }
      resetForm();
      await refresh();
    } catch (error) {
      // Keep what was typed; point at the field the hub named.
      el.formError.textContent = error.message;
      el.formError.hidden = false;
      const field = error.field && f[error.field];
      if (field) {
        field.setAttribute("aria-invalid", "true");
        field.focus();
      }
    }
  });
  el.form.elements.role.addEventListener("change", showDentistField);
  el.cancelEdit.addEventListener("click", resetForm);

  async function refresh() {
    renderUsers((await api("GET", "/staff/users")).users);
    renderDentists((await api("GET", "/staff/dentists")).dentists);
  }

  showDentistField();
  act(refresh);
})();
