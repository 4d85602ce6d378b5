// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function countLines(textarea) {
    var out = document.getElementById(textarea.getAttribute("data-count-lines"));
    if (!out) return;
    var n = textarea.value.split(/\r?\n/).filter(function (l) { return l.trim() !== ""; }).length;
    out.textContent = n;
  }

  function init(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      if (el.dataset.bound) return;
      el.dataset.bound = "1";
      el.addEventListener("change", function () { el.form.submit(); });
    });
    root.querySelectorAll("textarea[data-count-lines]").forEach(function (el) {
      if (el.dataset.bound) return;
      el.dataset.bound = "1";
      el.addEventListener("input", function () { countLines(el); });
      countLines(el);
    });
    root.querySelectorAll("button[data-copy]").forEach(function (el) {
      if (el.dataset.bound) return;
      el.dataset.bound = "1";
      el.addEventListener("click", function () {
        var target = document.getElementById(el.getAttribute("data-copy"));
        if (target && navigator.clipboard) {
          navigator.clipboard.writeText(target.textContent.trim());
          el.textContent = el.getAttribute("data-copied") || "Copied";
        }
      });
    });
  }

  // Picking a search result loads the service into the form; close the result list.
  document.addEventListener("click", function (evt) {
    var pick = evt.target.closest && evt.target.closest("[data-search-pick]");
    if (!pick) return;
    setTimeout(function () {
      var list = document.getElementById("search-results");
      var box = document.getElementById("service-search");
      if (list) list.innerHTML = "";
      if (box) box.value = "";
    }, 0);
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (evt) { init(evt.target); });
})();
