// runcard ui: enhancements only. Every page reads fully without this file; it fills the findings badges,
// keeps the status of running runs and a running run's series up to date, and enables Compare at two ticks.
// Values from the server go into the page with textContent only.
(function () {
  "use strict";
  var POLL_MS = 2000;

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
      return r.json();
    });
  }

  function setStatus(el, status) {
    el.textContent = status;
    el.className = "status " + status;
    if (status !== "running") { el.removeAttribute("data-live-run"); }
  }

  function badge(counts) {
    var span = document.createElement("span");
    span.className = "findings";
    [["error", "errors"], ["warning", "warnings"]].forEach(function (pair) {
      if (counts[pair[0]]) {
        var b = document.createElement("span");
        b.className = "badge " + pair[0];
        b.title = pair[1];
        b.textContent = String(counts[pair[0]]);
        span.appendChild(b);
      }
    });
    if (!span.childNodes.length) {
      var none = document.createElement("span");
      none.className = "muted";
      none.textContent = "none";
      span.appendChild(none);
    }
    return span;
  }

  // Findings badges the page could not count at once, ten runs a request.
  function fillFindings() {
    var pending = Array.prototype.slice.call(document.querySelectorAll("[data-findings-run]"));
    var ids = pending.map(function (el) { return el.getAttribute("data-findings-run"); });
    function next(start) {
      if (start >= ids.length) { return; }
      var chunk = ids.slice(start, start + 10);
      getJSON("/api/findings?runs=" + chunk.map(encodeURIComponent).join(",")).then(function (counts) {
        chunk.forEach(function (id) {
          var el = document.querySelector('[data-findings-run="' + CSS.escape(id) + '"]');
          if (el && counts[id]) { el.replaceWith(badge(counts[id])); }
        });
        next(start + 10);
      }).catch(function () { next(start + 10); });
    }
    next(0);
  }

  // The runs table: running runs' status badges.
  function pollStatuses() {
    var live = Array.prototype.slice.call(document.querySelectorAll("table.runs [data-live-run]"));
    if (!live.length) { return; }
    var ids = live.map(function (el) { return el.getAttribute("data-live-run"); });
    getJSON("/api/status?runs=" + ids.map(encodeURIComponent).join(",")).then(function (found) {
      live.forEach(function (el) {
        var status = found[el.getAttribute("data-live-run")];
        if (status) { setStatus(el, status); }
      });
    }).catch(function () {}).then(function () { window.setTimeout(pollStatuses, POLL_MS); });
  }

  // A run's page: status, duration and series while it runs, in place (no reload). When it ends, its series
  // are fetched once more and a link offers the card as it now stands (the card above is the one loaded).
  function pollRun(root) {
    var id = root.getAttribute("data-run");
    var points = null;
    function tick() {
      getJSON("/api/runs/" + encodeURIComponent(id) + "/live").then(function (live) {
        document.querySelectorAll(".run-head .status").forEach(function (el) { setStatus(el, live.status); });
        var took = document.getElementById("run-duration");
        if (took && live.status === "running") {
          took.textContent = (Date.now() / 1000 - live.created_at).toFixed(1) + "s";
        }
        var changed = points !== null && live.points !== points;
        points = live.points;
        var done = live.status !== "running";
        var refresh = changed || done ? fetch("/runs/" + encodeURIComponent(id) + "/series", {credentials: "same-origin"})
          .then(function (r) { return r.text(); }).then(function (html) {
            var body = document.getElementById("series-body");
            if (body) { body.innerHTML = html; }  // server-rendered, escaped SVG and tables: no script inside
          }) : Promise.resolve();
        return refresh.then(function () {
          root.setAttribute("data-status", live.status);
          if (!done) { window.setTimeout(tick, POLL_MS); return; }
          var head = root.querySelector(".run-head");
          if (head && !document.getElementById("run-ended")) {
            var link = document.createElement("a");
            link.id = "run-ended";
            link.href = window.location.pathname;
            link.textContent = "the run is " + live.status + ": reload for its final card";
            head.appendChild(link);
          }
        });
      }).catch(function () { window.setTimeout(tick, POLL_MS * 2); });
    }
    tick();
  }

  function compareForm() {
    var form = document.getElementById("compare-form");
    if (!form) { return; }
    var button = document.getElementById("compare-button");
    function update() {
      var n = form.querySelectorAll('input[name="runs"]:checked').length;
      button.disabled = n < 2;
      button.textContent = n < 2 ? "Compare ticked runs (tick two or more)" : "Compare " + n + " runs";
    }
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    fillFindings();
    compareForm();
    pollStatuses();
    var run = document.getElementById("run");
    if (run && run.getAttribute("data-status") === "running") { pollRun(run); }
  });
})();
