// GeneGate front-end behaviour. Loaded as a file: the CSP allows no inline script.
(function () {
  "use strict";

  // Idle sign-out warning. The server signs the session out after the idle timeout; this only
  // warns a little before, and "Stay signed in" sends a request that counts as activity.
  function setupIdleWarning() {
    var body = document.body;
    var timeout = parseInt(body.dataset.idleTimeout || "0", 10);
    var warning = parseInt(body.dataset.idleWarning || "0", 10);
    if (!timeout) return;
    var modalEl = document.getElementById("idle-warning");
    var countdownEl = modalEl && modalEl.querySelector("[data-idle-countdown]");
    var lastActivity = Date.now();
    var modal = null;

    function markActivity() { lastActivity = Date.now(); }
    document.addEventListener("htmx:beforeRequest", function (evt) {
      var headers = (evt.detail.requestConfig && evt.detail.requestConfig.headers) || {};
      if (headers["X-GeneGate-Background"] !== "1") markActivity();
    });
    window.addEventListener("pageshow", markActivity);

    function tick() {
      var idle = (Date.now() - lastActivity) / 1000;
      var left = Math.max(0, Math.round(timeout - idle));
      if (left <= 0) {
        window.location.href = body.dataset.loginUrl;
        return;
      }
      if (left <= warning) {
        if (!modal && window.bootstrap) modal = new window.bootstrap.Modal(modalEl);
        if (modal && !modalEl.classList.contains("show")) modal.show();
        var m = Math.floor(left / 60), s = left % 60;
        if (countdownEl) countdownEl.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      }
    }
    if (modalEl) {
      modalEl.querySelector("[data-idle-stay]").addEventListener("click", function () {
        var token = JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"];
        fetch(body.dataset.keepaliveUrl, {method: "POST", headers: {"X-CSRFToken": token}, credentials: "same-origin"})
          .then(function () { markActivity(); if (modal) modal.hide(); });
      });
    }
    setInterval(tick, 1000);
  }

  // Links and buttons that ask for confirmation: data-confirm="Are you sure?"
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) evt.preventDefault();
  });

  // Auto-submitting filter forms (GET): data-autosubmit on a form.
  document.addEventListener("change", function (evt) {
    var form = evt.target.closest("form[data-autosubmit]");
    if (form && !window.htmx) form.submit();
  });

  document.addEventListener("DOMContentLoaded", setupIdleWarning);
})();
