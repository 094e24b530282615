/*
 * The article editor: django-markdownx's widget, extended (articles/widgets.py).
 *
 * markdownx posts the text to the site's renderer and puts the HTML in its
 * (hidden) .markdownx-preview; this script shows that HTML in an iframe that
 * loads the public stylesheet, so the preview looks as the article will.
 * It adds the toolbar, Insert image (file picker, drop and paste all ask for
 * the image's description), the word count and reading time, a textarea as
 * tall as its text, and a warning before leaving with unsaved changes.
 *
 * Served as a static file: the admin's Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";

  var WORD = /[\p{L}\p{N}_]+/gu; // Python's \w+, as articles/markdown.py counts words

  function countWords(text) {
    var matches = text.match(WORD);
    return matches ? matches.length : 0;
  }

  function csrfToken(form) {
    var field = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- editing the text -------------------------------------------------------

  function replaceSelection(textarea, text, selectFrom, selectTo) {
    textarea.focus();
    var start = textarea.selectionStart;
    // insertText keeps the browser's undo history; setRangeText is the fallback.
    var inserted = document.execCommand && document.execCommand("insertText", false, text);
    if (!inserted) {
      textarea.setRangeText(text, start, textarea.selectionEnd, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    if (selectFrom !== undefined) {
      textarea.setSelectionRange(start + selectFrom, start + (selectTo === undefined ? selectFrom : selectTo));
    }
  }

  function wrap(textarea, before, after, placeholder) {
    var selected = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd) || placeholder;
    replaceSelection(textarea, before + selected + after, before.length, before.length + selected.length);
  }

  // The whole lines the selection touches, so that a prefix applies to each.
  function selectLines(textarea) {
    var value = textarea.value;
    var start = value.lastIndexOf("\n", textarea.selectionStart - 1) + 1;
    var end = value.indexOf("\n", textarea.selectionEnd);
    if (end === -1 || (textarea.selectionEnd > textarea.selectionStart && value[textarea.selectionEnd - 1] === "\n")) {
      end = end === -1 ? value.length : textarea.selectionEnd - 1;
    }
    textarea.setSelectionRange(start, end);
    return value.slice(start, end).split("\n");
  }

  function prefixLines(textarea, prefixFor, pattern) {
    var lines = selectLines(textarea);
    var allPrefixed = lines.every(function (line) { return pattern.test(line) || line.trim() === ""; });
    var counter = 0;
    var result = lines.map(function (line) {
      if (line.trim() === "") return line;
      if (allPrefixed) return line.replace(pattern, ""); // the button again removes it
      counter += 1;
      return prefixFor(counter) + line.replace(pattern, "");
    });
    var text = result.join("\n");
    replaceSelection(textarea, text, text.length);
  }

  var FORMATS = {
    heading: function (t) { prefixLines(t, function () { return "## "; }, /^#{1,6}\s+/); },
    bold: function (t) { wrap(t, "**", "**", "bold text"); },
    italic: function (t) { wrap(t, "_", "_", "italic text"); },
    link: function (t) {
      var text = t.value.slice(t.selectionStart, t.selectionEnd) || "link text";
      var url = "https://";
      replaceSelection(t, "[" + text + "](" + url + ")", text.length + 3, text.length + 3 + url.length);
    },
    bulleted: function (t) { prefixLines(t, function () { return "- "; }, /^(?:[-*+]|\d+\.)\s+/); },
    numbered: function (t) { prefixLines(t, function (n) { return n + ". "; }, /^(?:\d+\.|[-*+])\s+/); },
    quote: function (t) { prefixLines(t, function () { return "> "; }, /^>\s?/); },
  };
  var SHORTCUTS = { b: "bold", i: "italic", k: "link" };

  // --- the preview ------------------------------------------------------------

  // The frame's document comes from its srcdoc (articles/widgets.py): a standards-mode
  // page that loads the public stylesheet and has the article page's structure.
  function Preview(frame) {
    this.frame = frame;
    this.html = "";
    this.heading = "";
    this.ready = false;
    var self = this;
    frame.addEventListener("load", function () { self.attach(); });
    this.attach();
  }

  Preview.prototype.attach = function () {
    var doc = this.frame.contentDocument;
    if (!doc || !doc.querySelector("main.article-preview") || doc === this.attached) return;
    this.attached = doc;
    this.ready = true;
    doc.addEventListener("click", this.follow.bind(this));
    doc.addEventListener("load", this.fit.bind(this), true); // the stylesheet and images
    if (window.ResizeObserver) new ResizeObserver(this.fit.bind(this)).observe(doc.body);
    this.render();
  };

  Preview.prototype.render = function () {
    if (!this.ready) return;
    var doc = this.frame.contentDocument;
    doc.querySelector(".article-body").innerHTML = this.html;
    doc.querySelector("h1").textContent = this.heading;
    this.fit();
  };

  Preview.prototype.show = function (html) {
    this.html = html;
    this.render();
  };

  Preview.prototype.title = function (text) {
    this.heading = text;
    this.render();
  };

  // Links inside the preview stay put, but for footnotes and the like within it.
  Preview.prototype.follow = function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link) return;
    event.preventDefault();
    var href = link.getAttribute("href");
    if (href.charAt(0) === "#") {
      var target = this.frame.contentDocument.getElementById(decodeURIComponent(href.slice(1)));
      if (target) target.scrollIntoView({ block: "start" });
    }
  };

  // Stacked (narrow screens) the frame is as tall as the article; side by side it
  // has the window's height and scrolls with the text (see editor.css).
  Preview.prototype.fit = function () {
    var doc = this.frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    this.frame.style.setProperty("--preview-content-height", doc.documentElement.scrollHeight + "px");
  };

  Preview.prototype.follows = function (textarea) {
    var win = this.frame.contentWindow;
    var doc = this.frame.contentDocument;
    if (!win || !doc || getComputedStyle(this.frame.parentElement).position !== "sticky") return;
    var box = textarea.getBoundingClientRect();
    var travel = box.height - window.innerHeight;
    var ratio = travel > 0 ? Math.min(1, Math.max(0, -box.top / travel)) : 0;
    win.scrollTo(0, ratio * (doc.documentElement.scrollHeight - win.innerHeight));
  };

  // --- images -----------------------------------------------------------------

  function ImageDialog(root) {
    this.dialog = root.querySelector(".article-editor-dialog");
    this.thumbnail = this.dialog.querySelector(".article-editor-thumbnail");
    this.alt = this.dialog.querySelector(".article-editor-alt");
    this.decorative = this.dialog.querySelector(".article-editor-decorative");
    this.error = this.dialog.querySelector(".article-editor-dialog-error");
    this.insert = this.dialog.querySelector(".article-editor-insert");
    this.cancel = this.dialog.querySelector(".article-editor-cancel");
    var self = this;
    this.decorative.addEventListener("change", function () {
      self.alt.disabled = self.decorative.checked;
      self.error.textContent = "";
    });
    this.alt.addEventListener("keydown", function (event) {
      // Enter here would send the whole article form.
      if (event.key === "Enter") {
        event.preventDefault();
        self.insert.click();
      }
    });
    this.cancel.addEventListener("click", function () { self.close(null); });
    this.dialog.addEventListener("cancel", function (event) {
      event.preventDefault();
      self.close(null);
    });
    this.insert.addEventListener("click", function () {
      if (self.decorative.checked) return self.close({ decorative: true, alt: "" });
      var alt = self.alt.value.trim();
      if (!alt) {
        self.error.textContent = "Describe the image, or tick “decoration only”.";
        self.alt.focus();
        return;
      }
      self.close({ decorative: false, alt: alt });
    });
  }

  // Ask for the description of `file`; resolves to {alt, decorative} or null if cancelled.
  ImageDialog.prototype.ask = function (file) {
    var self = this;
    this.alt.value = "";
    this.alt.disabled = false;
    this.decorative.checked = false;
    this.error.textContent = "";
    this.thumbnail.removeAttribute("src");
    this.dialog.querySelector(".article-editor-filename").textContent = file.name || "pasted image";
    var reader = new FileReader();
    reader.onload = function () { self.thumbnail.src = reader.result; }; // a data: URL, as the CSP allows
    reader.readAsDataURL(file);
    this.dialog.showModal();
    this.alt.focus();
    return new Promise(function (resolve) { self.resolve = resolve; });
  };

  ImageDialog.prototype.close = function (answer) {
    this.dialog.close();
    if (this.resolve) this.resolve(answer);
    this.resolve = null;
  };

  function markdownAlt(text) {
    return text.replace(/[\[\]\\]/g, "\\$&").replace(/\s+/g, " ");
  }

  // --- one editor ---------------------------------------------------------------

  function Editor(root) {
    this.root = root;
    this.textarea = root.querySelector("textarea.markdownx-editor");
    this.form = this.textarea.form;
    this.status = root.querySelector(".article-editor-status");
    this.stats = root.querySelector(".article-editor-stats");
    this.fileInput = root.querySelector(".article-editor-file");
    this.uploadUrl = this.textarea.getAttribute("data-markdownx-upload-urls-path");
    this.decorativeWord = root.getAttribute("data-decorative");
    this.wordsPerMinute = parseInt(root.getAttribute("data-words-per-minute"), 10) || 220;
    this.preview = new Preview(root.querySelector(".article-editor-frame"));
    this.dialog = new ImageDialog(root);
    this.bind();
    this.resize();
    this.count();
    var title = this.form && this.form.querySelector("#id_title");
    this.preview.title(title ? title.value : "");
  }

  Editor.prototype.bind = function () {
    var self = this;
    var panes = this.root.querySelector(".markdownx");
    // markdownx tells its element when the renderer answered.
    panes.addEventListener("markdownx.update", function (event) {
      self.preview.show(event.detail && event.detail[0] !== undefined ? event.detail[0] : "");
    });
    this.textarea.addEventListener("input", function () {
      self.resize();
      self.count();
    });
    this.textarea.addEventListener("keydown", function (event) {
      var name = (event.ctrlKey || event.metaKey) && !event.altKey && SHORTCUTS[event.key.toLowerCase()];
      if (name) {
        event.preventDefault();
        FORMATS[name](self.textarea);
      }
    });
    this.root.querySelectorAll("[data-format]").forEach(function (button) {
      button.addEventListener("click", function () {
        var name = button.getAttribute("data-format");
        if (name === "image") {
          self.fileInput.value = "";
          self.fileInput.click();
        } else {
          FORMATS[name](self.textarea);
        }
      });
    });
    this.fileInput.addEventListener("change", function () {
      if (self.fileInput.files.length) self.addImages(Array.prototype.slice.call(self.fileInput.files));
    });
    // Drop and paste: taken here, before markdownx's own handlers (which would insert
    // the image without a description), in the capturing phase on its element.
    panes.addEventListener("drop", function (event) {
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      event.preventDefault();
      event.stopPropagation();
      self.addImages(Array.prototype.slice.call(files));
    }, true);
    panes.addEventListener("paste", function (event) {
      var files = event.clipboardData && event.clipboardData.files;
      if (!files || !files.length) return;
      event.preventDefault();
      event.stopPropagation();
      self.addImages(Array.prototype.slice.call(files));
    }, true);
    var title = this.form && this.form.querySelector("#id_title");
    if (title) title.addEventListener("input", function () { self.preview.title(title.value); });
    window.addEventListener("scroll", function () { self.preview.follows(self.textarea); }, { passive: true });
    window.addEventListener("resize", function () {
      self.resize();
      self.preview.fit();
    });
  };

  // As tall as its text, so that the page scrolls and not a small box inside it.
  Editor.prototype.resize = function () {
    var scroll = window.scrollY;
    this.textarea.style.height = "auto";
    this.textarea.style.height = this.textarea.scrollHeight + 2 + "px";
    window.scrollTo(window.scrollX, scroll);
  };

  Editor.prototype.count = function () {
    var words = countWords(this.textarea.value);
    var minutes = Math.max(1, Math.ceil(words / this.wordsPerMinute));
    this.stats.textContent =
      words.toLocaleString("en-GB") + (words === 1 ? " word" : " words") + " · " + minutes + " min read";
  };

  Editor.prototype.say = function (message, isError) {
    this.status.textContent = message;
    this.status.classList.toggle("is-error", Boolean(isError));
  };

  Editor.prototype.addImages = async function (files) {
    for (var i = 0; i < files.length; i += 1) {
      var answer = await this.dialog.ask(files[i]);
      if (!answer) {
        this.say("Image not inserted.");
        continue;
      }
      await this.upload(files[i], answer);
    }
    this.textarea.focus();
  };

  Editor.prototype.upload = async function (file, answer) {
    this.say("Uploading " + (file.name || "the image") + "…");
    var body = new FormData();
    body.append("image", file);
    var response;
    var data = {};
    try {
      response = await fetch(this.uploadUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(this.form), "X-Requested-With": "XMLHttpRequest" },
      });
      data = await response.json().catch(function () { return {}; });
    } catch (error) {
      this.say("The image could not be uploaded: the connection failed. Try again.", true);
      return;
    }
    if (!response.ok || !data.url) {
      var reason = (data.image && data.image[0]) || "the server refused it (" + response.status + ").";
      this.say("The image was not inserted: " + reason, true);
      return;
    }
    var alt = answer.decorative ? this.decorativeWord : markdownAlt(answer.alt);
    var before = this.textarea.value.slice(0, this.textarea.selectionStart);
    var gap = before === "" || /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
    replaceSelection(this.textarea, gap + "![" + alt + "](" + data.url + ")\n");
    this.say("Image inserted" + (answer.decorative ? " as decoration." : " with its description."));
  };

  // --- leaving with unsaved changes -------------------------------------------

  function formState(form) {
    var state = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") state.push(name + "=" + (typeof value === "string" ? value : value.name));
    });
    return state.join("&");
  }

  function guardUnsavedChanges(form) {
    var saved = formState(form);
    var submitting = false;
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (event) {
      if (submitting || formState(form) === saved) return;
      event.preventDefault();
      event.returnValue = ""; // the browser asks "Leave site? Changes you made may not be saved."
    });
  }

  function start() {
    var roots = document.querySelectorAll(".article-editor");
    roots.forEach(function (root) {
      if (!root.hasAttribute("data-ready")) {
        root.setAttribute("data-ready", "");
        new Editor(root);
      }
    });
    var form = roots.length && roots[0].querySelector("textarea").form;
    if (form && !form.hasAttribute("data-unsaved-guard")) {
      form.setAttribute("data-unsaved-guard", "");
      // After the admin's own scripts have filled in the form (prepopulated slug, inlines).
      if (document.readyState === "complete") guardUnsavedChanges(form);
      else window.addEventListener("load", function () { guardUnsavedChanges(form); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
