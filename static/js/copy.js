// Copy buttons: <button data-copy="ID"> copies the text of element ID and says so in [data-copy-status].
(function () {
  "use strict";
  function fallbackCopy(node) {
    // navigator.clipboard exists only on https or localhost; elsewhere select and copy the old way.
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = document.execCommand("copy");
    selection.removeAllRanges();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var node = document.getElementById(button.dataset.copy);
    if (!node) return;
    var text = node.textContent;
    var copy = navigator.clipboard ? navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(node); }) : fallbackCopy(node);
    var status = document.querySelector("[data-copy-status]");
    copy.then(function () {
      button.textContent = "Copied";
      if (status) status.textContent = "Copied to the clipboard.";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    }, function () {
      button.textContent = "Select and copy";
      if (status) status.textContent = "Copying was refused; select the text and copy it.";
    });
  });
})();
