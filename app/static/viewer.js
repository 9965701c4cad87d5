// In-browser PDF viewer with comment pins (pdf.js, served from /static/vendor).
import * as pdfjsLib from "./vendor/pdfjs/pdf.min.mjs";

const viewer = document.getElementById("pdf-viewer");
const form = document.getElementById("pin-form");
const fieldPage = document.getElementById("pin-page");
const fieldX = document.getElementById("pin-x");
const fieldY = document.getElementById("pin-y");
const where = document.getElementById("pin-where");
const body = document.getElementById("pin-body");

function placePin(holder, x, y, label, id) {
  const pin = document.createElement(id ? "a" : "span");
  pin.className = id ? "pin" : "pin pin-new";
  pin.textContent = label;
  pin.style.left = `${(x * 100).toFixed(3)}%`;
  pin.style.top = `${(y * 100).toFixed(3)}%`;
  if (id) {
    pin.href = `#comment-${id}`;
    pin.setAttribute("aria-label", `${viewer.dataset.pinLabel || "Comentario"} ${label}`);
    pin.dataset.testid = "pin";
  }
  holder.appendChild(pin);
  return pin;
}

async function render() {
  pdfjsLib.GlobalWorkerOptions.workerSrc = viewer.dataset.worker;
  const pdf = await pdfjsLib.getDocument({ url: viewer.dataset.src, isEvalSupported: false }).promise;
  const comments = [...document.querySelectorAll(".pins-list li[data-page]")];
  const width = Math.min(viewer.clientWidth || 800, 900);
  for (let number = 1; number <= pdf.numPages; number += 1) {
    const page = await pdf.getPage(number);
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: width / base.width });
    const holder = document.createElement("div");
    holder.className = "pdf-page";
    holder.dataset.page = String(number);
    // The drawn page is the control (Enter pins a comment at its centre); the pins beside it
    // are links of their own, so they must not sit inside the control.
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "button");
    canvas.setAttribute("tabindex", "0");
    canvas.setAttribute("aria-label", `${viewer.dataset.pageLabel || "Página"} ${number}`);
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = `${Math.floor(viewport.width)}px`;
    canvas.style.height = `${Math.floor(viewport.height)}px`;
    holder.appendChild(canvas);
    viewer.appendChild(holder);
    await page.render({
      canvasContext: canvas.getContext("2d"),
      viewport,
      transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
    }).promise;
    comments.forEach((item, index) => {
      if (Number(item.dataset.page) === number && item.dataset.x !== "") {
        placePin(holder, Number(item.dataset.x), Number(item.dataset.y), String(index + 1), item.id.replace("comment-", ""));
      }
    });
    const choose = (x, y) => {
      document.querySelectorAll(".pin-new").forEach((p) => p.remove());
      placePin(holder, x, y, "+", null);
      fieldPage.value = String(number);
      fieldX.value = x.toFixed(4);
      fieldY.value = y.toFixed(4);
      where.textContent = `${viewer.dataset.pageLabel || "Página"} ${number}`;
      body.focus();
    };
    holder.addEventListener("click", (event) => {
      if (event.target.closest(".pin")) return; // following a pin to its comment
      const box = canvas.getBoundingClientRect();
      choose((event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height);
    });
    canvas.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose(0.5, 0.5);
      }
    });
  }
  viewer.dataset.ready = "true";
}

if (viewer && form) {
  render().catch((error) => {
    viewer.dataset.ready = "error";
    const message = document.createElement("p");
    message.className = "error";
    message.textContent = viewer.dataset.errorText || String(error);
    viewer.appendChild(message);
  });
}
