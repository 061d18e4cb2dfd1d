// The called patient's name and risk flags on the tablet, when the ticket is
// linked to a card. Each flag is a word on a colour, never a colour alone.
"use strict";

(function () {
  const data = Navbat.pageData();
  const t = (key, params) => Navbat.t(data.strings, key, params);
  const el = {
    box: document.getElementById("current-patient"),
    name: document.getElementById("patient-name"),
    card: document.getElementById("patient-card"),
    risks: document.getElementById("patient-risks"),
    noRisks: document.getElementById("patient-no-risks"),
  };
  let shownFor = null; // the ticket whose patient is on screen (or was asked)

  function show(patient) {
    el.box.hidden = !patient;
    if (!patient) return;
    el.name.textContent = `${patient.last_name} ${patient.first_name}`;
    el.card.textContent = t("dentist.patient_card", { number: patient.number, age: patient.age });
    el.risks.replaceChildren(
      ...patient.flags.map((flag) => {
        const li = document.createElement("li");
        const word = document.createElement("span");
        word.className = "risk";
        word.dataset.flag = flag.code;
        word.textContent = flag.label;
        li.append(word);
        return li;
      }),
    );
    el.noRisks.hidden = patient.flags.length > 0;
  }

  // Asked once per called ticket: each ask is a view in the card's audit log.
  async function follow(current) {
    const ticket = current ? current.id : null;
    if (ticket === shownFor) return;
    shownFor = ticket;
    if (ticket === null) {
      show(null);
      return;
    }
    try {
      const answer = await Navbat.api("GET", `/dentist/patient?lang=${data.lang}`);
      if (shownFor === ticket) show(answer.patient);
    } catch (err) {
      shownFor = null; // ask again on the next refresh
    }
  }

  document.addEventListener("navbat:current", (event) => follow(event.detail));
})();
