// The GOV.UK error summary pattern: after a refused comment, move focus to the
// list of problems at the top of the form, so that it is read out and in view.
// Without JavaScript the summary is still first in the form and the URL's
// #comment-form fragment scrolls there.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();
  // The browser's own scroll to the URL's #comment-form, at load, can take the
  // focus back to the page: focus again once everything has loaded.
  window.addEventListener("load", function () {
    if (document.activeElement === document.body) {
      summary.focus();
    }
  });
  summary.addEventListener("click", function (event) {
    // A link to a field focuses the field itself, not just the page position.
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
    }
  });
})();
