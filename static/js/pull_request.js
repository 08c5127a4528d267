// A pull request's page: while its validation is pending, fetch the live part (the validation
// diff and the merge controls, rendered by the server) every few seconds and swap it in, so the
// verdict appears without a reload. The banner is a live region: the swap is announced.
(function () {
  "use strict";
  var live = document.getElementById("pr-live");
  if (!live || !live.dataset.fragment) return;
  var delay = 3000;

  function pending() {
    var section = live.querySelector("#pr-validation");
    return section && section.dataset.state === "pending";
  }

  function poll() {
    if (!pending()) return;
    fetch(live.dataset.fragment, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        // Keep the controls as they are while someone is using them.
        if (html !== null && !live.contains(document.activeElement)) live.innerHTML = html;
        delay = 3000;
      })
      .catch(function () { delay = Math.min(delay * 2, 30000); })
      .then(function () { if (pending()) setTimeout(poll, delay); });
  }

  if (pending()) setTimeout(poll, delay);
})();
