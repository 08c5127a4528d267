// The header's badge (templates/base.html): unread @mentions, and the rooms with
// unread messages listed at the top of the user menu the badge sits on.
// The read marks live on the server (discussions/reading.py), so this is the same on every device.
(function () {
  "use strict";
  const badge = document.getElementById("mention-badge");
  if (!badge) return;
  const menu = badge.closest("details");
  const items = menu && (menu.querySelector(".menu-items") || menu);

  function showRooms(rooms) {
    let box = document.getElementById("unread-rooms");
    if (!items) return;
    if (!rooms.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "unread-rooms";
      box.className = "unread-rooms";
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", "Rooms with unread messages");
      items.prepend(box);
    }
    box.replaceChildren(...rooms.map((r) => {
      const a = document.createElement("a");
      a.href = r.url;
      a.className = "unread-room";
      a.dataset.room = r.room;
      const parts = [];
      if (r.unread) parts.push(r.unread + " new");
      if (r.mentions) parts.push(r.mentions + " @");
      a.textContent = r.room + " ";
      const count = document.createElement("span");
      count.className = "badge";
      count.textContent = parts.join(" · ");
      a.append(count);
      return a;
    }));
  }

  function refresh() {
    fetch("/api/mentions/unread", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((d) => {
        if (!d) return;
        const rooms = d.rooms || [];
        const withNews = rooms.filter((r) => r.unread > 0).length;
        // Mentions are counted; rooms with news and no mention show a dot.
        badge.textContent = d.unread > 0 ? String(d.unread) : withNews > 0 ? "•" : "";
        badge.hidden = !(d.unread > 0 || withNews > 0);
        badge.title = d.unread + " unread mention" + (d.unread === 1 ? "" : "s") + ", " + withNews + " room" + (withNews === 1 ? "" : "s") + " with new messages";
        badge.setAttribute("aria-label", badge.title);
        showRooms(rooms);
      })
      .catch(() => {});
  }
  // The room page calls this after it moved the read mark.
  window.hubUnread = { refresh: refresh };
  refresh();
  setInterval(refresh, 60000);
})();
