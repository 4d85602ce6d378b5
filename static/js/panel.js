// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function countLines(textarea) {
    var out = document.getElementById(textarea.getAttribute("data-count-lines"));
    if (!out) return;
    var n = textarea.value.split(/\r?\n/).filter(function (l) { return l.trim() !== ""; }).length;
    out.textContent = n;
    // The server rendered the word in each plural category of the page's language.
    var label = out.parentNode.querySelector("[data-plural-label]");
    if (label && window.Intl && Intl.PluralRules) {
      var category = new Intl.PluralRules(document.documentElement.lang || "en").select(n);
      var key = "plural" + category.charAt(0).toUpperCase() + category.slice(1);
      label.textContent = label.dataset[key] || label.dataset.pluralOther;
    }
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

  // htmx leaves the old content in place when a request fails (a 429, a 500, the network):
  // the live quote would keep saying "fill in the form" and the customer would never see a
  // price or a reason. Say what happened instead; the next change asks again.
  function quoteFailed(evt) {
    var quote = evt.detail && evt.detail.elt;
    if (!quote || quote.id !== "quote") return;
    var xhr = evt.detail.xhr;
    var text = quote.getAttribute("data-failed") || "";
    if (xhr && xhr.status === 429 && xhr.responseText) text = xhr.responseText;
    var box = document.createElement("div");
    box.className = "quote quote-error";
    box.setAttribute("role", "alert");
    box.setAttribute("data-testid", "quote-failed");
    box.textContent = text;
    quote.replaceChildren(box);
  }
  document.addEventListener("htmx:responseError", quoteFailed);
  document.addEventListener("htmx:sendError", quoteFailed);

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (evt) { init(evt.target); });
})();
