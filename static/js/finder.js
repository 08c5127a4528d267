// A running search reloads its page as rows are scored (the page is rendered by the server;
// polling the API every 1.5 s is enough for a table that changes a few times a minute).
(function () {
  "use strict";
  var root = document.getElementById("find");
  if (!root || root.dataset.active !== "true") return;
  var last = null;
  function tick() {
    fetch(root.dataset.api, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        var state = JSON.stringify([body.status, body.scored, body.confirmation,
          body.rows.map(function (r) { return [r.status, r.confirm_status, r.measured_accuracy]; })]);
        if (last !== null && state !== last) { location.reload(); return; }
        last = state;
      })
      .catch(function () {})
      .then(function () { setTimeout(tick, 1500); });
  }
  tick();
})();
