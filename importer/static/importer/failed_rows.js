/* The grid of failed rows (R2.16a): each cell is saved and checked by the server as soon as it
   changes, and its reason updates in place. Without this script the page's form does the same
   on "Save this page". */
(function () {
  "use strict";

  function showRow(tr, answer) {
    tr.querySelectorAll("td[data-column]").forEach(function (td) {
      var reason = answer.reasons[td.getAttribute("data-column")] || "";
      td.querySelector("[data-reason]").textContent = reason;
      td.classList.toggle("grid-bad", reason !== "");
    });
    var state = tr.querySelector("[data-state]");
    state.querySelectorAll("[data-ok], [data-todo]").forEach(function (el) { el.hidden = true; });
    state.querySelector("[data-ok-live]").hidden = !answer.ok;
    state.querySelector("[data-todo-live]").hidden = answer.ok;
    tr.classList.toggle("grid-fixed", answer.ok);
    tr.classList.toggle("grid-failing", !answer.ok);
  }

  function setup(form) {
    var url = form.getAttribute("data-cell-url");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var live = document.getElementById("grid-live-error");
    form.addEventListener("change", function (event) {
      var input = event.target;
      var td = input.closest("td[data-column]");
      if (!td) return;
      var tr = td.closest("tr[data-row]");
      var body = new URLSearchParams();
      body.set("row", tr.getAttribute("data-row"));
      body.set("column", td.getAttribute("data-column"));
      body.set("value", input.value);
      td.classList.add("grid-checking");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, "X-Requested-With": "fetch" },
        body: body
      })
        .then(function (response) {
          return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
        })
        .then(function (result) {
          td.classList.remove("grid-checking");
          if (!result.ok) {
            live.textContent = result.answer.error;
            live.hidden = false;
            return;
          }
          live.hidden = true;
          td.classList.add("grid-edited");
          showRow(tr, result.answer);
          document.getElementById("grid-pending").textContent = result.answer.pending;
        })
        .catch(function () {
          td.classList.remove("grid-checking");  /* the form's button still saves the page */
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("grid-form");
    if (form) setup(form);
  });
})();
