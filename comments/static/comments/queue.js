// The moderation queue, one click a row, in place. Without this file every
// button still works: it posts the row-action form and the page comes back.
// With it, the same requests go through fetch() (the server answers JSON to
// "Accept: application/json"), the row is updated where it is, and the
// result is read out through the page's aria-live region.
(function () {
  "use strict";

  function ready(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback);
    } else {
      callback();
    }
  }

  ready(function () {
    var actionForm = document.getElementById("queue-row-action");
    var announcer = document.getElementById("queue-announcer");
    if (!actionForm || !announcer) {
      return;
    }
    var token = actionForm.querySelector("[name=csrfmiddlewaretoken]").value;

    function announce(text) {
      announcer.textContent = "";
      window.setTimeout(function () { announcer.textContent = text; }, 50);
    }

    function post(url, fields) {
      var data = new FormData();
      Object.keys(fields).forEach(function (name) { data.append(name, fields[name]); });
      data.append("csrfmiddlewaretoken", token);
      return fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": token }
      }).then(function (response) {
        return response.json().catch(function () {
          return { ok: false, message: "The server did not answer (" + response.status + ")." };
        });
      }, function () {
        return { ok: false, message: "The server could not be reached. Nothing was changed." };
      });
    }

    function itemOf(element) {
      return element.closest(".queue-item");
    }

    function showStatus(item, result) {
      if (!result.status) {
        return;
      }
      item.dataset.status = result.status;
      var label = item.querySelector("[data-status-label]");
      label.textContent = result.status_label;
      label.className = "queue-status queue-status-" + result.status;
      item.querySelectorAll("button.queue-action").forEach(function (button) {
        var current = button.formAction.indexOf("/" + actionFor(result.status) + "/") !== -1;
        button.disabled = current;
        button.setAttribute("aria-disabled", current ? "true" : "false");
      });
      var row = item.closest("tr");
      if (row) {
        row.classList.add("queue-row-done");
      }
    }

    function actionFor(status) {
      return { approved: "approve", spam: "spam", rejected: "reject" }[status] || "";
    }

    function note(item, text) {
      var existing = item.querySelector(".queue-done-note");
      if (!existing) {
        existing = document.createElement("p");
        existing.className = "queue-done-note";
        item.appendChild(existing);
      }
      existing.textContent = text;
    }

    function act(button) {
      var item = itemOf(button);
      button.disabled = true;
      post(button.formAction, {}).then(function (result) {
        if (result.ok) {
          showStatus(item, result);
        } else {
          button.disabled = false;
        }
        note(item, result.message);
        announce(result.message);
      });
    }

    function closePanels(item) {
      item.querySelectorAll(".queue-panel").forEach(function (panel) { panel.remove(); });
    }

    function panel(item, labelText) {
      closePanels(item);
      var box = document.createElement("div");
      box.className = "queue-panel";
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", labelText);
      item.querySelector(".queue-actions").after(box);
      return box;
    }

    function buttons(box, primaryText, onPrimary) {
      var row = document.createElement("div");
      row.className = "queue-panel-buttons";
      var primary = document.createElement("button");
      primary.type = "button";
      primary.className = "button default";
      primary.textContent = primaryText;
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "button";
      cancel.textContent = "Cancel";
      row.append(primary, cancel);
      box.appendChild(row);
      primary.addEventListener("click", function () { onPrimary(primary); });
      cancel.addEventListener("click", function () {
        var item = itemOf(box);
        box.remove();
        item.querySelector("[data-action=reply], button.queue-action").focus();
      });
    }

    function openReply(link) {
      var item = itemOf(link);
      var box = panel(item, "Reply");
      var id = "queue-reply-" + item.dataset.comment;
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = "Your reply (published at once, with the Editorial team badge)";
      var text = document.createElement("textarea");
      text.id = id;
      text.rows = 5;
      box.append(label, text);
      buttons(box, "Publish reply", function (send) {
        if (!text.value.trim()) {
          announce("Please write your reply.");
          text.focus();
          return;
        }
        send.disabled = true;
        post(link.href, { body: text.value }).then(function (result) {
          send.disabled = false;
          announce(result.message);
          if (!result.ok) {
            note(item, result.message);
            return;
          }
          box.remove();
          showStatus(item, result);
          note(item, result.message);
        });
      });
      text.focus();
    }

    function openBlock(link) {
      var item = itemOf(link);
      var choices = JSON.parse(link.dataset.blocks || "[]");
      var box = panel(item, "Block sender");
      var legend = document.createElement("p");
      legend.textContent = "Later comments from this sender go straight to spam. Block:";
      box.appendChild(legend);
      choices.forEach(function (choice, index) {
        var label = document.createElement("label");
        label.className = "queue-choice";
        var radio = document.createElement("input");
        radio.type = "radio";
        radio.name = "block-" + item.dataset.comment;
        radio.value = choice[0];
        radio.checked = index === 0;
        label.append(radio, " " + choice[2] + ": " + choice[1]);
        box.appendChild(label);
      });
      buttons(box, "Block and mark as spam", function (send) {
        var chosen = box.querySelector("input:checked");
        send.disabled = true;
        post(link.href, { kind: chosen ? chosen.value : "", mark_spam: "1" }).then(function (result) {
          send.disabled = false;
          announce(result.message);
          note(item, result.message);
          if (result.ok) {
            box.remove();
            showStatus(item, result);
          }
        });
      });
      box.querySelector("input").focus();
    }

    document.addEventListener("click", function (event) {
      var button = event.target.closest("button.queue-action");
      if (button) {
        event.preventDefault();
        act(button);
        return;
      }
      var link = event.target.closest("a.queue-link[data-action]");
      if (link && link.dataset.action === "reply") {
        event.preventDefault();
        openReply(link);
      } else if (link && link.dataset.action === "block") {
        event.preventDefault();
        openBlock(link);
      }
    });

    // Keyboard shortcuts, as WordPress's comment screen has them.
    var items = Array.prototype.slice.call(document.querySelectorAll(".queue-item"));
    var current = -1;

    function select(index) {
      if (!items.length) {
        return;
      }
      current = Math.max(0, Math.min(items.length - 1, index));
      items.forEach(function (item, i) { item.classList.toggle("queue-current", i === current); });
      var item = items[current];
      item.scrollIntoView({ block: "nearest" });
      var first = item.querySelector("button.queue-action:not([disabled]), a.queue-link");
      if (first) {
        first.focus({ preventScroll: true });
      }
    }

    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey ||
          target.closest("input, textarea, select, [contenteditable]")) {
        return;
      }
      var key = event.key.toLowerCase();
      if (key === "j" || key === "k") {
        select(current + (key === "j" ? 1 : -1));
        event.preventDefault();
        return;
      }
      var item = current >= 0 ? items[current] : itemOf(target);
      if (!item) {
        return;
      }
      var action = { a: "approve", s: "spam", d: "reject" }[key];
      if (action) {
        var button = item.querySelector("button.queue-action[data-action=" + action + "]");
        if (button && !button.disabled) {
          act(button);
        }
        event.preventDefault();
      } else if (key === "r") {
        var reply = item.querySelector("a.queue-link[data-action=reply]");
        if (reply) {
          openReply(reply);
          event.preventDefault();
        }
      }
    });
  });
})();
