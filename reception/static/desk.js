// What every staff page shares: signing out.
"use strict";

(function () {
  document.getElementById("sign-out").addEventListener("click", async () => {
    await Navbat.api("POST", "/staff/logout");
    location.assign("/reception/");
  });
})();
