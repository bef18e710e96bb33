// Severity / rule / table filters for the scan report: hide findings that do not match, and table groups
// left empty; the choice is kept in the URL fragment so a filtered view can be linked or bookmarked.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-key]"));
  var findings = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.group"));
  var shown = document.getElementById("shown-count");

  function apply() {
    var wanted = {};
    selects.forEach(function (s) { if (s.value) { wanted[s.dataset.key] = s.value; } });
    var visible = 0;
    findings.forEach(function (f) {
      var match = Object.keys(wanted).every(function (k) { return f.dataset[k] === wanted[k]; });
      f.hidden = !match;
      if (match) { visible += 1; }
    });
    groups.forEach(function (g) { g.hidden = !g.querySelector("article.finding:not([hidden])"); });
    shown.textContent = "showing " + visible + " of " + findings.length;
    var fragment = Object.keys(wanted).map(function (k) { return k + "=" + encodeURIComponent(wanted[k]); }).join("&");
    history.replaceState(null, "", fragment ? "#" + fragment : location.pathname + location.search);
  }

  function restore() {
    var pairs = location.hash.replace(/^#/, "").split("&");
    pairs.forEach(function (pair) {
      var parts = pair.split("=");
      selects.forEach(function (s) {
        if (s.dataset.key === parts[0]) { s.value = decodeURIComponent(parts[1] || ""); }
      });
    });
  }

  selects.forEach(function (s) { s.addEventListener("change", apply); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  restore();
  apply();
})();
