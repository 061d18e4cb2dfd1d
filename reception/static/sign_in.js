// Staff sign-in: send the form to the API, keep what was typed on failure.
"use strict";

(function () {
  const data = Navbat.pageData();
  const form = document.getElementById("sign-in");
  const error = document.getElementById("error");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const fields = Object.fromEntries(new FormData(form));
    let response;
    try {
      response = await fetch("/api/v1/staff/login?lang=" + data.lang, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(fields),
      });
    } catch (err) {
      error.textContent = data.strings["common.reconnecting"];
      error.hidden = false;
      return;
    }
    if (response.ok) {
      // Back to the staff page that asked for a sign-in, if it was one.
      const next = new URLSearchParams(location.search).get("next");
      if (next && next.startsWith("/reception/")) location.assign(next);
      else location.reload();
      return;
    }
    const json = await response.json();
    error.textContent = json.error.message;
    error.hidden = false;
    form.elements[json.error.field || "password"]?.focus();
  });
})();
