// The roster import (/console/roster): the chosen CSV file goes from the browser straight to the public import
// route (the session cookie, X-CSRF-Token from <meta name="csrf-token">, a fresh Idempotency-Key, text/csv); while
// it runs, the server's progress (GET /registry/imports/{key}/progress, asked through /console/roster/progress/{key})
// drives the <progress> bar; at the end, the counts and the rejected lines by number, and a CSV of them (with each
// line as it was sent) built here as a blob.
(function () {
  "use strict";
  var POLL_MS = 500;
  var FINAL_TRIES = 6;

  function byId(id) { return document.getElementById(id); }

  function freshKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "roster-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function show(id, visible) { byId(id).hidden = !visible; }

  function setBar(percent) {
    var bar = byId("roster-bar");
    bar.value = percent;
    bar.textContent = percent + "%";
    bar.setAttribute("data-percent", String(percent));
  }

  function clearProblem(form) {
    show("roster-problem", false);
    var invalid = form.querySelectorAll("[aria-invalid]");
    for (var i = 0; i < invalid.length; i++) { invalid[i].removeAttribute("aria-invalid"); }
  }

  function showProblem(form, problem, words) {
    var box = byId("roster-problem");
    box.textContent = "";
    var lead = document.createElement("p");
    lead.textContent = words.failed;
    box.appendChild(lead);
    var what = document.createElement("p");
    if (problem.rule) {
      var rule = document.createElement("span");
      rule.className = "rule";
      rule.textContent = problem.rule;
      what.appendChild(rule);
      what.appendChild(document.createTextNode(" "));
    }
    var code = document.createElement("strong");
    code.textContent = problem.code || "";
    what.appendChild(code);
    what.appendChild(document.createTextNode(" " + (problem.detail || problem.title || "")));
    box.appendChild(what);
    var field = problem.field ? form.querySelector('[name="' + (problem.field === "body" ? "file" : problem.field) + '"]') : null;
    if (field) { field.setAttribute("aria-invalid", "true"); }
    show("roster-problem", true);
  }

  // S10, as services/kernel/spreadsheet.py: text a spreadsheet would run as a formula (= + - @, tab, CR first)
  // gets a leading apostrophe; a roster's lines come from village returns, so they are anybody's text.
  function csvField(value) {
    var text = String(value);
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) { text = "'" + text; }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // The rejected lines as CSV: number, code, reason and the line as it was sent (read again from the chosen file).
  function rejectedCsv(file, rejected, words) {
    return file.text().then(function (text) {
      var lines = text.split("\n");
      var rows = [[words.line, words.code, words.reason, words.original].map(csvField).join(",")];
      rejected.forEach(function (item) {
        var sent = (lines[item.line - 1] || "").replace(/\r$/, "");
        rows.push([item.line, item.code, item.detail, sent].map(csvField).join(","));
      });
      return new Blob(["\ufeff" + rows.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    });
  }

  function showResult(answer, file, words) {
    byId("roster-imported").textContent = answer.imported;
    byId("roster-updated").textContent = answer.updated;
    byId("roster-unchanged").textContent = answer.unchanged;
    byId("roster-rejected-count").textContent = answer.rejected_count;
    var body = byId("roster-rejected");
    body.textContent = "";
    answer.rejected.forEach(function (item) {
      var row = document.createElement("tr");
      [item.line, item.code, item.detail].forEach(function (value, i) {
        var cell = document.createElement("td");
        cell.textContent = value;
        if (i === 0) { cell.className = "num"; }
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
    var note = answer.rejected.length === 0 ? words.none
      : answer.rejected.length < answer.rejected_count
        ? words.capped.replace("{shown}", answer.rejected.length).replace("{count}", answer.rejected_count) : "";
    byId("roster-rejected-note").textContent = note;
    show("roster-rejected-table", answer.rejected.length > 0);
    var link = byId("roster-download");
    link.hidden = true;
    show("roster-result", true);
    if (answer.rejected.length > 0) {
      return rejectedCsv(file, answer.rejected, words).then(function (blob) {
        if (link.href.indexOf("blob:") === 0) { URL.revokeObjectURL(link.href); }
        link.href = URL.createObjectURL(blob);
        link.hidden = false;
      });
    }
    return Promise.resolve();
  }

  // One look at the server's progress (the API's, through the console: "not known yet" is no 404); resolves with
  // it, or null while the server has none yet.
  function poll(progressUrl) {
    return fetch(progressUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) { return progress && progress.known ? progress : null; })
      .catch(function () { return null; });
  }

  function showProgress(progress, words) {
    if (!progress) { return; }
    if (progress.percent !== null) { setBar(progress.percent); }
    var status = words.read_lines + ": " + progress.lines;
    byId("roster-status").textContent = progress.done ? words.finishing : status;
  }

  function start(form, words) {
    var file = form.elements.file.files[0];
    if (!file) { return; }
    var key = freshKey();
    var query = new URLSearchParams();
    var county = form.elements.county.value.trim();
    if (county) { query.set("county", county); }
    if (form.elements.effective_on.value) { query.set("effective_on", form.elements.effective_on.value); }
    var progressUrl = form.getAttribute("data-progress").replace("{key}", encodeURIComponent(key));
    var button = byId("roster-start");
    button.disabled = true;
    clearProblem(form);
    show("roster-result", false);
    show("roster-progress", true);
    setBar(0);
    byId("roster-status").textContent = words.uploading;
    form.setAttribute("data-key", key);

    var finished = false;
    var polls = 0;
    function tick() {
      if (finished) { return; }
      poll(progressUrl).then(function (progress) {
        polls += 1;
        form.setAttribute("data-polls", String(polls));
        if (!finished) { showProgress(progress, words); window.setTimeout(tick, POLL_MS); }
      });
    }
    window.setTimeout(tick, POLL_MS);

    // The end as the server saw it: its progress once it says the whole file was read (a few tries), then 100 %.
    function settle(tries) {
      return poll(progressUrl).then(function (progress) {
        polls += 1;
        form.setAttribute("data-polls", String(polls));
        if (progress && progress.done) { showProgress(progress, words); return progress; }
        if (tries <= 1) { return null; }
        return new Promise(function (resolve) { window.setTimeout(resolve, 200); }).then(function () {
          return settle(tries - 1);
        });
      });
    }

    fetch(form.getAttribute("data-import") + (query.toString() ? "?" + query.toString() : ""), {
      method: "POST",
      body: file,
      credentials: "same-origin",
      headers: {
        "Content-Type": "text/csv",
        "X-CSRF-Token": csrf(),
        "Idempotency-Key": key,
        "Accept": "application/json"
      }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (outcome) {
      finished = true;
      if (!outcome.ok) {
        show("roster-progress", false);
        showProblem(form, outcome.body, words);
        return null;
      }
      return settle(FINAL_TRIES).then(function () {
        setBar(100);
        byId("roster-status").textContent = words.done;
        form.setAttribute("data-state", "done");
        return showResult(outcome.body, file, words);
      });
    }).catch(function () {
      finished = true;
      show("roster-progress", false);
      showProblem(form, { code: "", detail: words.network }, words);
    }).then(function () {
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = byId("roster-form");
    if (!form) { return; }
    var words = JSON.parse(byId("roster-words").textContent);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      start(form, words);
    });
  });
})();
