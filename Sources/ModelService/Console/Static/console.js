// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to the error summary so keyboard and screen-reader users hear what went wrong.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }
  // A token shown once is selected as soon as it gets focus, ready to copy.
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  // A chosen key file (Vertex AI's service account) is read into its text area, which is what the form posts.
  document.querySelectorAll("input[type=file][data-json-into]").forEach(function (input) {
    input.addEventListener("change", function () {
      var target = document.getElementById(input.getAttribute("data-json-into"));
      var file = input.files && input.files[0];
      if (!target || !file || file.size > 65536) { return; }
      file.text().then(function (text) { target.value = text; });
    });
  });
});
