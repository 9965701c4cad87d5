// Drag-and-drop resumable uploads: Uppy (DragDrop + Tus) to /api/v1/uploads/, one progress bar
// per file with pause, resume and retry. The page's plain form stays as the fallback.
(function () {
  "use strict";

  var root = document.querySelector("[data-uploader]");
  if (!root || !window.Uppy || !window.Uppy.Uppy || !window.Uppy.Tus) {
    return; // no bundle: the plain form does the work
  }
  var text = function (name) { return root.getAttribute("data-t-" + name) || name; };
  var list = root.querySelector("[data-files]");
  var status = root.querySelector("[data-status]");
  var visibility = root.querySelector("[data-meta=visibility]");
  var camera = root.querySelector("[data-camera]");
  var documentUrl = root.getAttribute("data-document-url");
  var rows = {};
  var documents = {};

  var uppy = new window.Uppy.Uppy({
    autoProceed: true,
    restrictions: { maxFileSize: Number(root.getAttribute("data-max-size")) || null },
  });
  uppy.use(window.Uppy.DragDrop, {
    target: root.querySelector("[data-drop]"),
    locale: { strings: { dropHereOr: text("drop") + " %{browse}", browse: text("browse") } },
  });
  uppy.use(window.Uppy.Tus, {
    endpoint: root.getAttribute("data-endpoint"),
    headers: { "X-CSRFToken": root.getAttribute("data-csrf") },
    chunkSize: 16 * 1024 * 1024, // bounded PATCH bodies for reverse proxies; each is on disk before the next
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000],
    removeFingerprintOnSuccess: true,
    allowedMetaFields: ["filename", "filetype", "visibility", root.getAttribute("data-target-name")],
    onAfterResponse: function (request, response) {
      var documentId = response.getHeader("Portal-Document-Id");
      if (documentId) {
        documents[request.getURL()] = documentId;
      }
    },
  });

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content) { node.textContent = content; }
    return node;
  }

  function button(label, action) {
    var node = element("button", "link", label);
    node.type = "button";
    node.setAttribute("data-action", action);
    return node;
  }

  function sizeText(bytes) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit === 0 ? String(value) : value.toFixed(1)) + " " + units[unit];
  }

  function setState(file, state, message) {
    var row = rows[file.id];
    if (!row) { return; }
    row.item.setAttribute("data-state", state);
    row.state.textContent = message || text(state);
    row.pause.hidden = !(state === "uploading" || state === "paused");
    row.pause.textContent = state === "paused" ? text("resume") : text("pause");
    row.retry.hidden = state !== "failed";
    row.remove.hidden = state === "done";
  }

  function problemDetail(error) {
    var response = error && error.originalResponse;
    if (!response) { return navigator.onLine === false ? text("offline") : ""; }
    try {
      return JSON.parse(response.getBody()).detail || "";
    } catch (ignored) {
      return "";
    }
  }

  uppy.on("file-added", function (file) {
    var meta = { filename: file.name, filetype: file.type || "" };
    meta[root.getAttribute("data-target-name")] = root.getAttribute("data-target-id");
    if (visibility) { meta.visibility = visibility.value; }
    uppy.setFileMeta(file.id, meta);

    var item = element("li", "uploader-file");
    item.setAttribute("data-file", file.name);
    var name = element("span", "filename", file.name);
    var size = element("span", "muted", sizeText(file.size || 0));
    var bar = element("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var percent = element("span", "uploader-percent", "0 %");
    var state = element("span", "uploader-state");
    var pause = button(text("pause"), "pause");
    var retry = button(text("retry"), "retry");
    var remove = button(text("remove"), "remove");
    var actions = element("span", "uploader-actions");
    actions.append(pause, retry, remove);
    item.append(name, size, bar, percent, state, actions);
    list.append(item);
    rows[file.id] = { item: item, bar: bar, percent: percent, state: state, pause: pause, retry: retry, remove: remove };
    pause.addEventListener("click", function () {
      var paused = uppy.pauseResume(file.id);
      setState(file, paused ? "paused" : "uploading");
    });
    retry.addEventListener("click", function () {
      setState(file, "uploading");
      uppy.retryUpload(file.id);
    });
    remove.addEventListener("click", function () {
      uppy.removeFile(file.id);
      item.remove();
      delete rows[file.id];
    });
    setState(file, "waiting");
  });

  uppy.on("upload-progress", function (file, progress) {
    var row = rows[file.id];
    if (!row || !progress.bytesTotal) { return; }
    var value = Math.floor((progress.bytesUploaded / progress.bytesTotal) * 100);
    row.bar.value = value;
    row.percent.textContent = value + " %";
    if (row.item.getAttribute("data-state") !== "paused") { setState(file, "uploading"); }
  });

  uppy.on("upload-success", function (file, response) {
    var row = rows[file.id];
    if (!row) { return; }
    row.bar.value = 100;
    row.percent.textContent = "100 %";
    setState(file, "done");
    var documentId = documents[response.uploadURL];
    if (documentId) {
      var link = element("a", null, text("open"));
      link.href = documentUrl.replace("DOCUMENT_ID", encodeURIComponent(documentId));
      row.state.append(" · ", link);
      row.item.setAttribute("data-document", documentId);
    }
  });

  uppy.on("upload-error", function (file, error) {
    var detail = problemDetail(error);
    setState(file, "failed", text("failed") + (detail ? ": " + detail : "."));
  });

  uppy.on("restriction-failed", function (file, error) {
    status.textContent = error.message;
  });

  uppy.on("complete", function (result) {
    if (result.failed.length || !result.successful.length) { return; }
    status.textContent = "";
    var refresh = element("a", null, text("refresh"));
    refresh.href = window.location.pathname + window.location.search;
    status.append(refresh);
  });

  window.addEventListener("offline", function () { status.textContent = text("offline"); });
  window.addEventListener("online", function () { status.textContent = ""; });

  if (camera) {
    camera.addEventListener("change", function () {
      Array.prototype.forEach.call(camera.files, function (picked) {
        try {
          uppy.addFile({ name: picked.name, type: picked.type, data: picked, source: "camera" });
        } catch (refused) {
          status.textContent = refused.message;
        }
      });
      camera.value = "";
    });
  }
  if (visibility) {
    visibility.addEventListener("change", function () {
      uppy.getFiles().forEach(function (file) {
        if (!file.progress.uploadStarted) { uppy.setFileMeta(file.id, { visibility: visibility.value }); }
      });
    });
  }

  root.hidden = false;
  var fallback = document.querySelector("[data-upload-fallback]");
  if (fallback) { fallback.open = false; }
  window.portalUploader = uppy; // for the browser tests
})();
