// On a phone the header's menu folds behind one button, so that the first screen shows the
// page itself (the agenda's most urgent item on the home page). Without this script the menu
// simply stays open. The CSS decides by the screen's width; this only adds the button's work.
(function () {
  "use strict";
  const header = document.querySelector("header.top");
  const toggle = header && header.querySelector(".menu-toggle");
  if (!toggle) {
    return;
  }
  function show(open) {
    header.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
  }
  header.classList.add("collapsible");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    show(!header.classList.contains("open"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("open")) {
      show(false);
      toggle.focus();
    }
  });
})();
