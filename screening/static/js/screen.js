/* Questionnaire page: skip logic shown live, and drafts saved as the answers change.
   The same skip rules are enforced on the server; without this script the form still works. */
(function () {
  "use strict";
  var form = document.getElementById("screen-form");
  if (!form) { return; }
  var rules = [];
  try { rules = JSON.parse(form.getAttribute("data-skip-rules") || "[]"); } catch (e) { rules = []; }
  var status = document.getElementById("autosave-status");

  function fieldset(itemId) { return form.querySelector('fieldset[data-item="' + itemId + '"]'); }

  function selectedIndex(itemId) {
    var checked = form.querySelector('input[name="' + itemId + '"]:checked');
    return checked ? parseInt(checked.value, 10) : null;
  }

  /* Same fixed point as the server: an item counts as zero when answered with option 0
     or when it is itself skipped. */
  function skippedItems() {
    var skipped = {};
    var changed = true;
    while (changed) {
      changed = false;
      rules.forEach(function (rule) {
        var done = rule.skip.every(function (id) { return skipped[id]; });
        if (done) { return; }
        var allZero = rule.if_zero.every(function (id) {
          return skipped[id] || selectedIndex(id) === 0;
        });
        if (allZero) {
          rule.skip.forEach(function (id) { skipped[id] = true; });
          changed = true;
        }
      });
    }
    return skipped;
  }

  function applySkips() {
    var skipped = skippedItems();
    var cleared = false;
    form.querySelectorAll("fieldset[data-item]").forEach(function (set) {
      var id = set.getAttribute("data-item");
      if (id.indexOf("med_") === 0) { return; }
      var hide = !!skipped[id];
      set.hidden = hide;
      if (hide) {
        set.querySelectorAll("input:checked").forEach(function (input) {
          input.checked = false;
          cleared = true;
        });
      }
    });
    return cleared;
  }

  var timer = null;
  function saveDraft() {
    var url = form.getAttribute("data-draft-url");
    if (!url || !window.fetch) { return; }
    var body = new FormData(form);
    window.fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        redirect: "manual", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        var ok = response.status === 204;
        if (status) {
          status.textContent = form.getAttribute(ok ? "data-saved-text" : "data-failed-text");
          status.className = "autosave-status " + (ok ? "saved" : "failed");
        }
      })
      .catch(function () {
        if (status) {
          status.textContent = form.getAttribute("data-failed-text");
          status.className = "autosave-status failed";
        }
      });
  }

  form.addEventListener("change", function () {
    applySkips();
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(saveDraft, 300);
  });
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (form.getAttribute("data-sent") === "1" && submitter && submitter.value === "submit") {
      event.preventDefault();  /* one submission per click burst; the server dedupes too */
      return;
    }
    if (submitter && submitter.value === "submit") { form.setAttribute("data-sent", "1"); }
  });
  applySkips();
}());
