// A model's discussion room: live messages, history on scroll, presence,
// typing, reactions, inline edit, search, preview, the unread marker, and a
// reconnect that asks for what it missed (by message id).
//
// The composer never loses words: a message stays in the box until the
// server broadcasts it back (matched by client_id); a refusal (too long, rate
// limited, banned) answers with the same client_id and its reason is shown
// under the box, which keeps the text.
(function () {
  "use strict";
  const root = document.getElementById("room");
  if (!root) return;
  const me = root.dataset.user || null;
  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const statusEl = $("room-status");
  const onlineEl = $("online");
  const typingEl = $("typing");
  const eventsEl = $("live-events");
  const composer = $("composer");
  const bodyEl = $("composer-body");
  const replyingEl = $("replying");
  const errorEl = $("composer-error");
  const previewEl = $("composer-preview");
  const REACTIONS = ["👍", "❤️", "😄", "🎉", "😕", "👀", "🚀", "👎"];

  const messages = new Map(); // id -> element
  const data = new Map();     // id -> the message as the server last sent it
  let lastId = 0;             // newest id shown: a reconnect asks for what came after it
  let oldestId = null;        // oldest id shown: scrolling up asks for what came before it
  let noOlder = false;
  let loadingOlder = false;
  let moderator = false;
  let canPost = false;
  let sock = null;
  let retry = 0;
  let lastTyping = 0;
  let replyTo = null;
  let replyThread = null;
  let pending = null;         // {client_id, body} of the message sent and not yet accepted or refused
  let unreadAfter = null;     // the read mark before this visit: messages after it are "new"
  let readSent = 0;
  const edits = new Map();    // id -> client_id of an edit sent and not yet answered
  const typers = new Map();

  function setStatus(text, offline) {
    statusEl.textContent = text;
    statusEl.classList.toggle("offline", !!offline);
  }

  function showError(text) {
    if (!errorEl) { setStatus(text, true); return; }
    errorEl.textContent = text;
    errorEl.hidden = !text;
  }

  // The server says what this socket may do (hello, then "access" whenever a ban or setting changes it).
  function applyAccess(f) {
    moderator = !!f.moderator;
    canPost = !!f.can_post;
    if (!composer) return;
    if (bodyEl.dataset.placeholder === undefined) bodyEl.dataset.placeholder = bodyEl.placeholder;
    bodyEl.disabled = !f.can_post;
    bodyEl.placeholder = f.can_post ? bodyEl.dataset.placeholder : "You cannot post in this room.";
  }

  function send(frame) {
    if (sock && sock.readyState === WebSocket.OPEN) { sock.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function newId() { return Math.random().toString(36).slice(2) + Date.now().toString(36); }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function button(label, onClick, cls) {
    const b = el("button", cls || "linklike", label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function head(m, withActions) {
    const h = el("div", "msg-head");
    const author = el(m.author ? "a" : "span", "msg-author", m.author || "TransferHub");
    if (m.author) author.href = "/" + m.author;
    const time = el("time", "msg-time", new Date(m.created).toLocaleString());
    time.dateTime = m.created;
    h.append(author, time);
    if (m.edited && !m.deleted) h.append(el("span", "msg-edited", "(edited)"));
    if (withActions) {
      const actions = el("span", "msg-actions");
      if (me && canPost && !m.deleted && m.kind !== "system") {
        actions.append(button("reply", () => startReply(m)));
        actions.append(button("react", (e) => togglePicker(m.id, e.currentTarget)));
        if (m.author === me) actions.append(button("edit", () => startEdit(m.id)));
      }
      if (me && !m.deleted && m.kind !== "system" && (m.author === me || moderator)) {
        actions.append(button("delete", () => confirmDelete(m.id)));
      }
      if (me && !m.deleted && m.kind !== "system" && m.author !== me) {
        const report = el("a", "linklike msg-report", "report");
        report.href = "/" + root.dataset.room + "/report?message=" + m.id;
        actions.append(report);
      }
      h.append(actions);
    }
    return h;
  }

  function bodyOf(m) {
    const body = el("div", "msg-body markdown");
    if (m.deleted) body.textContent = "This message was deleted.";
    else body.innerHTML = m.html; // sanitised on the server (hub/markdown.py)
    return body;
  }

  function fill(li, m) {
    data.set(m.id, m);
    li.className = "msg" + (m.kind === "system" ? " msg-system" : "") + (m.deleted ? " msg-deleted" : "");
    li.id = "msg-" + m.id;
    li.replaceChildren(head(m, true));
    if (m.reply_to) li.append(el("div", "msg-reply", "↪ reply to #" + m.reply_to));
    if (m.thread) {
      // A discussion's or pull request's message: labelled with its thread, linked to the thread's page.
      const label = el("a", "msg-thread", (m.thread.pull_request ? "PR " : "") + "#" + m.thread.num + " " + m.thread.title);
      label.href = "/" + root.dataset.room + "/discussions/" + m.thread.num;
      li.append(label);
    }
    const body = bodyOf(m);
    li.append(body);
    li.append(reactionsRow(m));
    if (me && !m.deleted && body.querySelector('a.mention[href="/' + me + '"]')) li.classList.add("msg-mention-me");
  }

  // -- reactions ------------------------------------------------------------------
  function reactionsRow(m) {
    const row = el("div", "reactions");
    for (const r of m.reactions || []) {
      const mine = !!me && r.users.includes(me);
      const label = r.emoji + " " + r.count;
      const who = r.users.join(", ");
      if (me && canPost) {
        const b = button("", () => send({ type: "react", id: m.id, emoji: r.emoji }), "reaction");
        b.setAttribute("aria-pressed", String(mine));
        b.setAttribute("aria-label", r.emoji + " " + r.count + ", by " + who + (mine ? " (click to take yours back)" : ""));
        b.title = who;
        b.append(el("span", "reaction-emoji", r.emoji), el("span", "reaction-count", String(r.count)));
        row.append(b);
      } else {
        const s = el("span", "reaction", label);
        s.title = who;
        row.append(s);
      }
    }
    row.hidden = row.childElementCount === 0;
    return row;
  }

  function onReaction(f) {
    const m = data.get(f.id);
    const li = messages.get(f.id);
    if (!m || !li) return;
    m.reactions = f.reactions;
    // Only the row changes: an edit box open on this message keeps its text.
    const old = li.querySelector(":scope > .reactions");
    const row = reactionsRow(m);
    if (old) old.replaceWith(row); else li.append(row);
  }

  function togglePicker(id, anchor) {
    const li = messages.get(id);
    const open = li.querySelector(":scope > .reaction-picker");
    if (open) { open.remove(); return; }
    const picker = el("div", "reaction-picker");
    picker.setAttribute("role", "group");
    picker.setAttribute("aria-label", "Add a reaction");
    for (const e of REACTIONS) {
      const b = button(e, () => { send({ type: "react", id: id, emoji: e }); picker.remove(); anchor.focus(); }, "reaction-choice");
      b.setAttribute("aria-label", "React with " + e);
      picker.append(b);
    }
    const other = el("input", "reaction-code");
    other.type = "text"; other.placeholder = ":shortcode:"; other.maxLength = 40;
    other.setAttribute("aria-label", "React with an emoji or a :shortcode:");
    other.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && other.value.trim()) {
        ev.preventDefault();
        send({ type: "react", id: id, emoji: other.value.trim() });
        picker.remove(); anchor.focus();
      }
      if (ev.key === "Escape") { picker.remove(); anchor.focus(); }
    });
    picker.append(other);
    li.querySelector(":scope > .reactions").before(picker);
    picker.querySelector("button").focus();
  }

  // -- reply, inline edit, delete with confirmation ---------------------------------------
  function startReply(m) {
    replyTo = m.id;
    replyThread = m.thread ? m.thread.num : null; // a reply to a thread's message is a comment of that thread
    replyingEl.hidden = false;
    replyingEl.textContent = "Replying to #" + m.id + (m.thread ? " in discussion #" + m.thread.num : "") + " (Esc cancels)";
    bodyEl.focus();
  }

  function startEdit(id) {
    const m = data.get(id);
    const li = messages.get(id);
    if (!m || li.querySelector(".msg-editor")) return;
    const body = li.querySelector(":scope > .msg-body");
    const form = el("form", "msg-editor");
    const area = el("textarea", "msg-editor-body");
    area.value = m.body;
    area.rows = Math.min(10, Math.max(2, m.body.split("\n").length));
    area.setAttribute("aria-label", "Edit message " + id);
    const err = el("p", "composer-error");
    err.setAttribute("role", "alert");
    err.hidden = true;
    const save = el("button", "", "Save"); save.type = "submit";
    const cancel = button("Cancel", () => { form.remove(); body.hidden = false; edits.delete(id); });
    const bar = el("div", "msg-editor-actions");
    bar.append(save, cancel, el("span", "help", "Enter saves, Esc cancels"));
    form.append(area, bar, err);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!area.value.trim()) { err.textContent = "A message needs some text; delete it instead."; err.hidden = false; return; }
      const cid = newId();
      edits.set(id, cid);
      // The editor stays open until the server's "edit" frame redraws the message, or its refusal comes back.
      if (!send({ type: "edit", id: id, body: area.value, client_id: cid })) {
        err.textContent = "Not connected; your edit is still here."; err.hidden = false;
      }
    });
    area.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
      if (e.key === "Escape") cancel.click();
    });
    body.hidden = true;
    body.after(form);
    area.focus();
  }

  function confirmDelete(id) {
    const li = messages.get(id);
    if (li.querySelector(".msg-confirm")) return;
    const box = el("div", "msg-confirm");
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-label", "Delete message " + id + "?");
    const yes = button("Delete", () => { send({ type: "delete", id: id }); box.remove(); }, "danger");
    const no = button("Keep it", () => box.remove());
    box.append(el("span", "", "Delete this message for everyone?"), yes, no);
    li.querySelector(":scope > .msg-head").after(box);
    no.focus();
  }

  // -- the list -------------------------------------------------------------------
  // Insert or update one message, keeping the list in id order.
  function upsert(m) {
    let li = messages.get(m.id);
    if (!li) {
      li = document.createElement("li");
      li.dataset.id = m.id;
      messages.set(m.id, li);
      insertOrdered(li, m.id);
    }
    fill(li, m);
    if (oldestId === null || m.id < oldestId) oldestId = m.id;
  }

  function insertOrdered(li, id) {
    let after = null;
    for (const e of list.children) { if (Number(e.dataset.id) > id) { after = e; break; } }
    list.insertBefore(li, after);
  }

  // "New messages" above the first message of someone else after the read mark of the last visit.
  function markUnread() {
    if (unreadAfter === null || list.querySelector(".unread-divider")) return;
    const first = [...data.values()].filter((m) => m.id > unreadAfter && m.author !== me && !m.deleted)
      .sort((a, b) => a.id - b.id)[0];
    if (!first) return;
    const li = el("li", "unread-divider", "New messages");
    li.setAttribute("role", "separator");
    li.dataset.id = String(first.id - 0.5);
    insertOrdered(li, first.id - 0.5);
    li.scrollIntoView({ block: "center" });
  }

  // This page shows the newest messages: move the read mark (all devices see the room as read).
  function markRead() {
    if (!me || document.visibilityState !== "visible" || lastId <= readSent) return;
    if (send({ type: "read", id: lastId })) readSent = lastId; // the answer ("read") refreshes the badge
  }
  document.addEventListener("visibilitychange", markRead);

  function nearBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }

  function onLive(m) {
    if (m.id > lastId + 1 && lastId > 0) { send({ type: "history", after: lastId }); return; } // a gap: fetch it
    const stick = nearBottom();
    upsert(m);
    if (m.id > lastId) lastId = m.id;
    if (m.author) typers.delete(m.author), showTyping();
    if (pending && m.client_id === pending.client_id && m.author === me) accepted();
    if (stick || m.author === me) list.scrollTop = list.scrollHeight;
    markRead();
  }

  function onChanged(f) {
    if (!messages.has(f.id)) return;
    edits.delete(f.id);
    fill(messages.get(f.id), f);
  }

  function onHistory(items) {
    const older = loadingOlder;
    loadingOlder = false;
    if (older && items.length === 0) noOlder = true;
    const before = list.scrollHeight;
    const stick = nearBottom();
    for (const m of items) {
      upsert(m);
      if (m.id > lastId) lastId = m.id;
      if (pending && m.client_id === pending.client_id && m.author === me) accepted(); // accepted while we were away
    }
    if (older) list.scrollTop += list.scrollHeight - before; // keep the reader's place
    else if (stick) list.scrollTop = list.scrollHeight;
    if (!older) markUnread();
    if (older && jumpTarget !== null) jumpTo(jumpTarget); // on to the search hit, a page at a time
    markRead();
  }

  // -- the composer ------------------------------------------------------------------
  function accepted() {
    // Cleared only now, and only if the box still holds what was sent.
    if (bodyEl.value === pending.body) bodyEl.value = "";
    pending = null;
    replyTo = null; replyThread = null; replyingEl.hidden = true;
    bodyEl.readOnly = false;
    showError("");
    showWrite();
  }

  function onError(f) {
    if (f.client_id && pending && f.client_id === pending.client_id) {
      pending = null;
      bodyEl.readOnly = false;
      showError(f.message); // the text stays in the box
      bodyEl.focus();
      return;
    }
    for (const [id, cid] of edits) {
      if (f.client_id && f.client_id === cid) {
        edits.delete(id);
        const err = messages.get(id) && messages.get(id).querySelector(".msg-editor .composer-error");
        if (err) { err.textContent = f.message; err.hidden = false; return; }
      }
    }
    setStatus(f.message, true); // a refusal of a reaction, a delete or a history request: nothing typed is at stake
  }

  function showWrite() {
    if (!previewEl) return;
    previewEl.hidden = true; bodyEl.hidden = false;
    $("tab-write").setAttribute("aria-pressed", "true");
    $("tab-preview").setAttribute("aria-pressed", "false");
  }

  function showPreview() {
    const token = composer.querySelector("[name=csrfmiddlewaretoken]").value;
    $("tab-write").setAttribute("aria-pressed", "false");
    $("tab-preview").setAttribute("aria-pressed", "true");
    previewEl.hidden = false; bodyEl.hidden = true;
    previewEl.textContent = "Rendering…";
    fetch(root.dataset.api + "/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ body: bodyEl.value }),
    })
      .then((r) => r.json().then((d) => ({ ok: r.ok, d: d })))
      .then(({ ok, d }) => {
        if (ok) { previewEl.innerHTML = d.html; showError(""); } // sanitised on the server
        else { previewEl.textContent = ""; showError(d.error || "The preview failed."); }
      })
      .catch(() => { previewEl.textContent = "The preview failed; the server could not be reached."; });
  }

  // -- search -----------------------------------------------------------------------
  // Scroll the room to message ``id``, loading older history down to it first (pages stay contiguous).
  let jumpTarget = null;
  function jumpTo(id) {
    jumpTarget = id;
    if (messages.has(id)) {
      jumpTarget = null;
      const target = messages.get(id);
      target.scrollIntoView({ block: "center" });
      target.classList.add("msg-found");
      setTimeout(() => target.classList.remove("msg-found"), 2000);
      return;
    }
    if (noOlder || oldestId === null) { jumpTarget = null; return; }
    if (loadingOlder) return; // the load under way calls back here
    loadingOlder = send({ type: "history", before: oldestId, limit: Math.min(200, oldestId - id + 10) });
  }

  const searchForm = $("room-search");
  const results = $("search-results");
  const resultList = $("search-list");
  const summary = $("search-summary");
  searchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("room-search-q").value.trim();
    if (!q) return;
    results.hidden = false;
    summary.textContent = "Searching…";
    resultList.replaceChildren();
    fetch(root.dataset.api + "?limit=50&q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => r.json().then((d) => ({ ok: r.ok, d: d })))
      .then(({ ok, d }) => {
        if (!ok) { summary.textContent = d.error || "The search failed."; return; }
        const found = d.messages.slice().reverse(); // newest first
        summary.textContent = found.length ? found.length + (found.length === 50 ? "+" : "") + " messages match “" + q + "”" : "No message matches “" + q + "”.";
        for (const m of found) {
          const li = el("li", "msg search-hit");
          li.append(head(m, false), bodyOf(m));
          li.append(button("Show in the room", () => jumpTo(m.id)));
          resultList.append(li);
        }
      })
      .catch(() => { summary.textContent = "The search failed; the server could not be reached."; });
  });
  $("search-close").addEventListener("click", () => { results.hidden = true; resultList.replaceChildren(); });

  // -- presence, typing, hub events ---------------------------------------------------
  function showOnline(names) {
    onlineEl.replaceChildren(...names.map((n) => el("li", "", n)));
  }

  function showTyping() {
    const now = Date.now();
    for (const [name, until] of typers) if (until < now) typers.delete(name);
    const names = [...typers.keys()];
    typingEl.textContent = names.length ? names.join(", ") + (names.length > 1 ? " are" : " is") + " typing…" : "";
  }
  setInterval(showTyping, 1000);

  // Validation events. progress is {step, total, task, ...}, never a bare number (reading it as one gave
  // "NaN%"). The banner shows a run while it is queued or running and goes when it ends: the verdict
  // itself arrives as the hub's message in the room.
  function showEvent(ev) {
    if (!ev.event || !ev.event.startsWith("validation.")) return;
    const d = ev.data || {};
    const p = d.progress && typeof d.progress === "object" ? d.progress : {};
    const bits = [];
    if (ev.event === "validation.progress" && d.status === "queued") {
      bits.push("Validation queued" + (d.queue_position ? " · position " + d.queue_position + " in the queue" : ""));
    } else if (ev.event === "validation.progress" && d.status === "running") {
      bits.push("Validating" + (d.revision ? " " + String(d.revision).slice(0, 8) : ""));
      if (d.stage) bits.push(String(d.stage));
      if (p.task) bits.push("task " + p.task);
      const step = Number(p.step), total = Number(p.total);
      if (total > 0 && Number.isFinite(step)) bits.push(Math.min(100, Math.max(0, Math.round((100 * step) / total))) + "%");
    }
    eventsEl.textContent = bits.join(" · ");
    eventsEl.hidden = bits.length === 0; // finished, failed, cancelled: the run is over
  }

  // -- the socket --------------------------------------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    sock = new WebSocket(scheme + location.host + root.dataset.wsPath);
    setStatus("Connecting…");
    sock.onmessage = (e) => {
      const f = JSON.parse(e.data);
      switch (f.type) {
        case "hello":
          retry = 0;
          applyAccess(f);
          setStatus("Connected · " + f.room);
          showOnline(f.online);
          if (lastId === 0) {
            unreadAfter = f.last_read === undefined ? null : f.last_read;
            readSent = f.last_id; // opening the room marked it read up to here
            if (window.hubUnread) window.hubUnread.refresh();
            send({ type: "history", before: f.last_id + 1, limit: 50 });
          } else send({ type: "history", after: lastId, limit: 200 });
          break;
        case "message": onLive(f); break;
        case "edit": case "delete": onChanged(f); break;
        case "reaction": onReaction(f); break;
        case "read": if (window.hubUnread) window.hubUnread.refresh(); break;
        case "history": onHistory(f.messages); break;
        case "presence": showOnline(f.online); break;
        case "typing": if (f.user !== me) { typers.set(f.user, Date.now() + 4000); showTyping(); } break;
        case "event": showEvent(f); break;
        case "access": {
          const before = [canPost, moderator].join();
          applyAccess(f);
          // The actions a message offers depend on these; redraw only when they changed (an open editor survives).
          if ([canPost, moderator].join() !== before) for (const m of data.values()) fill(messages.get(m.id), m);
          break;
        }
        case "error": onError(f); break;
      }
    };
    sock.onclose = (e) => {
      if (pending) { pending = null; bodyEl.readOnly = false; }
      // 4403: this user may no longer see the room (made private, or access removed); do not knock again.
      if (e.code === 4403) { setStatus("You can no longer see this room.", true); return; }
      // Back off: 0.5 s doubling to 15 s, with jitter so a restarted server is not stampeded.
      const delay = Math.min(15000, 500 * 2 ** retry) * (0.5 + Math.random() / 2);
      retry += 1;
      setStatus("Disconnected; reconnecting in " + Math.round(delay / 1000) + " s…", true);
      setTimeout(connect, delay);
    };
  }

  list.addEventListener("scroll", () => {
    if (list.scrollTop < 40 && !loadingOlder && !noOlder && oldestId !== null && oldestId > 1) {
      loadingOlder = send({ type: "history", before: oldestId, limit: 50 });
    }
  });

  if (composer) {
    composer.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = bodyEl.value;
      if (!body.trim() || pending) return;
      const frame = { type: "message", body: body, client_id: newId() };
      if (replyTo) frame.reply_to = replyTo;
      if (replyTo && replyThread) frame.thread = replyThread;
      if (send(frame)) {
        // Not cleared here: only the server's echo of this client_id clears the box (accepted()).
        pending = { client_id: frame.client_id, body: body };
        bodyEl.readOnly = true; // until the server answers; a refusal keeps the reply target too
        showError("");
      } else showError("Not connected; your message is still in the box.");
    });
    bodyEl.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); composer.requestSubmit(); }
      if (e.key === "Escape") { replyTo = null; replyThread = null; replyingEl.hidden = true; }
    });
    bodyEl.addEventListener("input", () => {
      const now = Date.now();
      if (now - lastTyping > 2000) { lastTyping = now; send({ type: "typing" }); }
    });
    $("tab-write").addEventListener("click", () => { showWrite(); bodyEl.focus(); });
    $("tab-preview").addEventListener("click", showPreview);
  }

  connect();
})();
