/* The import wizard's enhancements; every page also works without them (forms post, pages
   reload). Live parts poll an HTML fragment, drag and drop fills the file input, the mapping
   screen gets searchable selects, inline duplicate checks and "new key" without a reload. */
(function () {
  "use strict";

  /* Text a manager reads comes from the JavaScript catalog (/jsi18n/, djangojs domain), loaded
     before this script; without it the English text shows. */
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (all, name) { return String(values[name]); });
  };
  function says(format, values) { return interpolate(format, values, true); }

  function formatSize(bytes) {
    if (bytes >= 1 << 20) return (bytes / (1 << 20)).toFixed(1) + " MB";
    if (bytes >= 1 << 10) return Math.round(bytes / (1 << 10)) + " KB";
    return says(ngettext("%(count)s byte", "%(count)s bytes", bytes), { count: bytes });
  }

  /* Live fragments: [data-poll-url] is fetched again until it says data-poll-done. */
  function poll(element) {
    var url = element.getAttribute("data-poll-url");
    var reload = element.hasAttribute("data-poll-reload");
    var failures = 0;
    function tick() {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          failures = 0;
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var fresh = holder.content.querySelector("[data-poll-url], [data-poll-done]");
          if (!fresh) throw new Error("unexpected answer");
          if (fresh.hasAttribute("data-poll-done") && reload) {
            window.location.reload();
            return;
          }
          element.replaceWith(fresh);
          element = fresh;
          if (!fresh.hasAttribute("data-poll-done")) window.setTimeout(tick, 1000);
        })
        .catch(function () {
          failures += 1;
          window.setTimeout(tick, Math.min(15000, 1000 * (1 + failures)));
        });
    }
    window.setTimeout(tick, 1000);
  }

  /* Upload: drop a file on the zone; its name and size show; too big is said at once. */
  function dropzone(zone) {
    var input = zone.querySelector("input[type=file]");
    var shown = zone.querySelector("[data-dropzone-file]");
    var error = document.querySelector("[data-dropzone-error]");
    var max = Number(zone.getAttribute("data-max-bytes")) || 0;
    function show() {
      var file = input.files && input.files[0];
      shown.textContent = file ? file.name + " · " + formatSize(file.size) : "";
      if (error) {
        var tooBig = file && max && file.size > max;
        error.hidden = !tooBig;
        error.textContent = tooBig
          ? says(gettext("The file is %(size)s; the largest file that can be imported is %(max)s. Split it into smaller files."),
                 { size: formatSize(file.size), max: formatSize(max) })
          : "";
      }
    }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
    show();
  }

  /* A submit button that says what is happening while a long request runs. */
  function busy(form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !button.hasAttribute("data-busy-label")) return;
      button.value = button.getAttribute("data-busy-label");
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  }

  /* Start: the identity choice only matters for leads. */
  function startForm(form) {
    var identity = document.getElementById("identity-choice");
    if (!identity) return;
    function sync() {
      var kind = form.querySelector("input[name=kind]:checked");
      identity.hidden = !kind || kind.value !== "lead";
    }
    form.querySelectorAll("input[name=kind]").forEach(function (radio) { radio.addEventListener("change", sync); });
    sync();
  }

  /* Mapping (R2.8). */
  function mapping(form) {
    var $ = window.django && window.django.jQuery;
    var identityKey = form.getAttribute("data-identity");
    var identitySelect = form.querySelector("[data-identity-select]");
    var rows = Array.prototype.slice.call(form.querySelectorAll("tr[data-column]"));
    var selects = rows.map(function (row) { return row.querySelector("[data-key-select]"); });
    var allSelects = [identitySelect].concat(selects);

    function onChange(select, handler) {
      if ($) $(select).on("change", handler);
      else select.addEventListener("change", handler);
    }

    function refresh() {
      var identityColumn = identitySelect.value;
      var used = {};
      // "!unsubscribeEmail": the key filled inverted from a consent column (R2.8a).
      function keyOf(value) { return value.charAt(0) === "!" ? value.slice(1) : value; }
      rows.forEach(function (row, i) {
        var value = keyOf(selects[i].value);
        if (row.getAttribute("data-column") !== identityColumn && value) {
          (used[value] = used[value] || []).push(i);
        }
      });
      rows.forEach(function (row, i) {
        var isIdentity = row.getAttribute("data-column") === identityColumn;
        var inverted = selects[i].value.charAt(0) === "!";
        var value = keyOf(selects[i].value);
        var clash = !isIdentity && value && used[value].length > 1;
        row.classList.toggle("is-identity", isIdentity);
        row.querySelector(".mapping-identity-tag").hidden = !isIdentity;
        var newKey = row.querySelector("[data-new-key]");
        if (newKey) newKey.hidden = isIdentity;
        var errors = row.querySelector("[data-errors]");
        if (clash) {
          var others = used[value].filter(function (j) { return j !== i; })
            .map(function (j) { return "“" + rows[j].getAttribute("data-header") + "”"; }).join(", ");
          errors.textContent = says(gettext("%(key)s is also used by %(columns)s: a profile key may be used by one column only."),
                                    { key: value, columns: others });
        } else {
          errors.textContent = "";
        }
        row.classList.toggle("has-error", Boolean(clash));
        selects[i].setAttribute("aria-invalid", clash ? "true" : "false");
        var head = document.querySelector('[data-preview-column="' + row.getAttribute("data-column") + '"] [data-preview-key]');
        if (head) {
          head.textContent = isIdentity ? says(gettext("→ %(key)s (identity)"), { key: identityKey })
            : !value ? gettext("not imported")
            : inverted ? says(gettext("→ %(key)s (inverted)"), { key: value })
            : "→ " + value;
        }
      });
    }

    if ($ && $.fn.select2) {
      allSelects.forEach(function (select) {
        $(select).select2({ theme: "admin-autocomplete", width: "20rem" });
      });
    }
    allSelects.forEach(function (select) { onChange(select, refresh); });
    refresh();

    var panel = document.getElementById("new-key");
    if (!panel) return;
    var fields = panel.querySelector("[data-new-key-form]");
    var columnSelect = panel.querySelector("#new-key-column");
    var keyInput = panel.querySelector("[name='new-key']");
    var createButton = panel.querySelector("[data-create-key]");
    var status = document.createElement("p");
    status.className = "help";
    status.setAttribute("aria-live", "polite");
    fields.appendChild(status);

    rows.forEach(function (row) {
      var button = row.querySelector("[data-new-key]");
      if (!button) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        panel.open = true;
        columnSelect.value = row.getAttribute("data-column");
        var header = row.getAttribute("data-header");
        if (!keyInput.value && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(header)) keyInput.value = header;
        keyInput.focus();
        panel.scrollIntoView({ block: "nearest" });
      });
    });
    refresh();

    function showErrors(errors) {
      panel.querySelectorAll("[data-error-for]").forEach(function (slot) {
        var list = errors[slot.getAttribute("data-error-for")] || [];
        slot.textContent = list.map(function (e) { return e.message; }).join(" ");
      });
    }

    function createKey() {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      ["new-key", "new-type", "new-label", "new-column"].forEach(function (name) {
        var field = panel.querySelector("[name='" + name + "']");
        if (field) data.append(name, field.value);
      });
      createButton.disabled = true;
      status.textContent = gettext("Creating…");
      fetch(form.getAttribute("data-key-create-url"), { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
        .then(function (answer) {
          if (!answer.ok) {
            showErrors(answer.body.errors || {});
            status.textContent = "";
            return;
          }
          showErrors({});
          var key = answer.body;
          selects.forEach(function (select) { select.appendChild(new Option(key.label, key.key)); });
          var column = columnSelect.value;
          var target = rows.filter(function (row) { return row.getAttribute("data-column") === column; })[0];
          if (target) {
            var select = target.querySelector("[data-key-select]");
            select.value = key.key;
            if ($) $(select).trigger("change"); else select.dispatchEvent(new Event("change"));
          }
          status.textContent = target
            ? says(gettext("Created the profile key %(key)s and chose it for “%(column)s”."),
                   { key: key.key, column: target.getAttribute("data-header") })
            : says(gettext("Created the profile key %(key)s."), { key: key.key });
          keyInput.value = "";
          panel.querySelector("[name='new-label']").value = "";
        })
        .catch(function () { status.textContent = gettext("The key could not be created; try again."); })
        .then(function () { createButton.disabled = false; });
    }

    createButton.addEventListener("click", function (event) { event.preventDefault(); createKey(); });
    fields.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT") { event.preventDefault(); createKey(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll-url]").forEach(poll);
    document.querySelectorAll("[data-dropzone]").forEach(dropzone);
    document.querySelectorAll("form").forEach(busy);
    var start = document.querySelector("form[action$='/upload/']");
    if (start) startForm(start);
    var map = document.getElementById("mapping-form");
    if (map) mapping(map);
  });
})();
