// The return request's photo fields (templates/customer/_photo_field.html): each line's field
// opens as soon as the reason chosen for it needs a photo, and closes (a click away, for
// optional photos) when it doesn't, unless photos are kept or chosen already. Without
// JavaScript every field stays open. A file of its own: the CSP allows no inline script.
(function () {
  "use strict";

  function reasonNeedsPhoto(line) {
    var inputs = line.querySelectorAll("[name$='-reason']");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.tagName === "SELECT") {
        var option = input.options[input.selectedIndex];
        if (option && option.getAttribute("data-photo") === "1") return true;
      } else if (input.getAttribute("data-photo") === "1") {
        return true;
      }
    }
    var parent = line.querySelector("select[name$='-reason_parent']");
    if (parent && !line.querySelector("[name$='-reason']")) {
      var chosen = parent.options[parent.selectedIndex];
      return Boolean(chosen && chosen.getAttribute("data-photo") === "1");
    }
    return false;
  }

  function update(line) {
    var field = line.querySelector(".photo-field");
    if (!field) return;
    var needs = reasonNeedsPhoto(line);
    var file = field.querySelector("input[type=file]");
    var has = field.querySelector(".kept-photo") || (file && file.files && file.files.length);
    field.open = Boolean(needs || has);
    field.classList.toggle("needed", needs);
    var note = field.querySelector(".photo-need");
    if (note) note.textContent = needs ? "(at least one needed)" : "(optional)";
  }

  function updateAll() {
    var lines = document.querySelectorAll("fieldset.return-line");
    for (var i = 0; i < lines.length; i++) update(lines[i]);
  }

  document.addEventListener("change", function (event) {
    var line = event.target.closest && event.target.closest("fieldset.return-line");
    if (line) update(line);
  });
  document.addEventListener("htmx:afterSettle", updateAll);
  document.addEventListener("DOMContentLoaded", updateAll);
})();
