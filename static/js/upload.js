// Upload page: pick files or a folder (or drop them), then send them in one
// multipart request to the streamed upload API, showing per-file and overall
// progress. One request is one revision. No inline script (the CSP forbids it).
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const list = document.querySelector("#file-list tbody");
  const table = document.getElementById("file-list");
  const errorBox = document.getElementById("upload-error");
  const overall = document.getElementById("overall");
  const overallBar = document.getElementById("overall-progress");
  const overallLabel = document.getElementById("overall-label");
  const submit = document.getElementById("upload-submit");
  const maxFiles = parseInt(form.dataset.maxFiles || "1000", 10);
  const maxFileSize = Number(form.dataset.maxFileSize || Infinity);
  const remaining = Number(form.dataset.remaining || Infinity);
  let entries = []; // {path, file, bar}

  function human(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  function showError(message, details) {
    errorBox.textContent = message;
    // The server often repeats its one reason in the details list (a card's YAML error); say it once.
    details = (details || []).filter(function (d) { return message.indexOf(d) === -1; });
    if (details.length) {
      const ul = document.createElement("ul");
      details.forEach(function (d) { const li = document.createElement("li"); li.textContent = d; ul.appendChild(li); });
      errorBox.appendChild(ul);
    }
    errorBox.hidden = false;
  }

  function clearError() { errorBox.hidden = true; errorBox.textContent = ""; }

  // A chosen or dropped folder arrives as "folder/…": the folder is the repo root.
  function stripCommonFolder(items) {
    if (!items.length || !items.every(function (it) { return it.path.indexOf("/") > 0; })) return items;
    const top = items[0].path.split("/")[0];
    if (!items.every(function (it) { return it.path.split("/")[0] === top; })) return items;
    return items.map(function (it) { return { path: it.path.slice(top.length + 1), file: it.file }; });
  }

  function add(items) {
    clearError();
    stripCommonFolder(items).forEach(function (it) {
      entries = entries.filter(function (e) { return e.path !== it.path; });
      entries.push({ path: it.path, file: it.file });
    });
    render();
  }

  function render() {
    list.textContent = "";
    entries.forEach(function (entry, index) {
      const row = document.createElement("tr");
      const path = document.createElement("td"); path.className = "mono"; path.textContent = entry.path;
      const size = document.createElement("td"); size.className = "num"; size.textContent = human(entry.file.size);
      const cell = document.createElement("td");
      const bar = document.createElement("progress"); bar.max = 100; bar.value = 0; bar.className = "file-progress";
      bar.setAttribute("aria-label", "Progress of " + entry.path);
      cell.appendChild(bar); entry.bar = bar;
      const remove = document.createElement("td");
      const button = document.createElement("button"); button.type = "button"; button.className = "linklike";
      button.textContent = "remove";
      button.addEventListener("click", function () { entries.splice(index, 1); render(); });
      remove.appendChild(button);
      row.append(path, size, cell, remove);
      list.appendChild(row);
    });
    table.hidden = entries.length === 0;
  }

  document.getElementById("file-input").addEventListener("change", function (ev) {
    add(Array.from(ev.target.files).map(function (f) { return { path: f.name, file: f }; }));
    ev.target.value = "";
  });
  document.getElementById("folder-input").addEventListener("change", function (ev) {
    add(Array.from(ev.target.files).map(function (f) { return { path: f.webkitRelativePath || f.name, file: f }; }));
    ev.target.value = "";
  });

  // Drag and drop, folders included (walked with the entries API).
  function walk(entry, prefix, out) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (f) { out.push({ path: prefix + f.name, file: f }); resolve(); }, resolve);
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        const all = [];
        (function readBatch() {
          reader.readEntries(function (batch) {
            if (!batch.length) {
              Promise.all(all.map(function (e) { return walk(e, prefix + entry.name + "/", out); })).then(resolve);
            } else { all.push.apply(all, batch); readBatch(); }
          }, resolve);
        })();
      } else { resolve(); }
    });
  }
  const zone = document.getElementById("dropzone");
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (ev) { ev.preventDefault(); zone.classList.add("dragging"); });
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
  zone.addEventListener("drop", function (ev) {
    ev.preventDefault();
    zone.classList.remove("dragging");
    const out = [];
    const items = Array.from(ev.dataTransfer.items || []);
    const roots = items.map(function (i) { return i.webkitGetAsEntry && i.webkitGetAsEntry(); }).filter(Boolean);
    if (!roots.length) {
      add(Array.from(ev.dataTransfer.files).map(function (f) { return { path: f.name, file: f }; }));
      return;
    }
    Promise.all(roots.map(function (r) { return walk(r, "", out); })).then(function () { add(out); });
  });

  function setProgress(loaded, total) {
    // One request carries the files in order: map the bytes sent onto each file.
    let offset = 0;
    entries.forEach(function (e) {
      const size = e.file.size || 1;
      e.bar.value = Math.max(0, Math.min(100, ((loaded - offset) / size) * 100));
      offset += e.file.size;
    });
    overallBar.value = total ? (loaded / total) * 100 : 100;
    overallLabel.textContent = human(loaded) + " of " + human(total);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearError();
    if (!entries.length) { showError("Choose at least one file."); return; }
    if (entries.length > maxFiles) { showError("An upload may hold at most " + maxFiles + " files."); return; }
    // The server checks the same limits while the bytes arrive; checking here first spares
    // sending a large body only to have the connection cut at the limit.
    const tooBig = entries.filter(function (e) { return e.file.size > maxFileSize; });
    if (tooBig.length) {
      showError(tooBig[0].path + ": file is larger than the " + human(maxFileSize) + " limit per file."); return;
    }
    const total = entries.reduce(function (sum, e) { return sum + e.file.size; }, 0);
    if (total > remaining) {
      showError("This upload (" + human(total) + ") would exceed your storage quota (" + human(remaining) + " left)."); return;
    }
    const data = new FormData();
    data.append("message", document.getElementById("message").value);
    data.append("description", document.getElementById("description").value);
    entries.forEach(function (e) { data.append("file", e.file, e.path); });
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api);
    xhr.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (p) { setProgress(p.loaded, p.lengthComputable ? p.total : 0); });
    xhr.addEventListener("load", function () {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = { error: "The server answered " + xhr.status + "." }; }
      if (xhr.status === 200 && body.created === false) {
        // Every file was identical to the current revision: no commit was made. Say so here
        // instead of moving on to the old revision as if something had been published.
        entries.forEach(function (e) { e.bar.value = 100; });
        overallBar.value = 100;
        overall.dataset.state = "unchanged";
        overallLabel.textContent = body.message || "Nothing changed: every file is identical to the current revision.";
        submit.disabled = false;
      } else if (xhr.status === 200 || xhr.status === 201) {
        entries.forEach(function (e) { e.bar.value = 100; });
        overallBar.value = 100;
        overall.dataset.state = "done";
        overallLabel.textContent = body.message || "Done.";
        window.location.assign(body.commit_url);
      } else {
        overall.dataset.state = "failed";
        submit.disabled = false;
        const details = body.detail && Array.isArray(body.detail.errors) ? body.detail.errors : [];
        showError(body.error || "The upload failed (" + xhr.status + ").", details);
      }
    });
    xhr.addEventListener("error", function () {
      overall.dataset.state = "failed";
      submit.disabled = false;
      showError("The connection was lost during the upload; nothing was saved. Try again.");
    });
    overall.hidden = false;
    overall.dataset.state = "uploading";
    submit.disabled = true;
    xhr.send(data);
  });
})();
