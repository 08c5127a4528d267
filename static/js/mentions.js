// The unread-mentions badge on the user menu (templates/base.html).
(function () {
  "use strict";
  const badge = document.getElementById("mention-badge");
  if (!badge) return;
  function refresh() {
    fetch("/api/mentions/unread", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((d) => {
        if (!d) return;
        badge.textContent = d.unread > 0 ? String(d.unread) : "";
        badge.hidden = !(d.unread > 0);
        badge.title = d.unread + " unread mention" + (d.unread === 1 ? "" : "s");
      })
      .catch(() => {});
  }
  refresh();
  setInterval(refresh, 60000);
})();
