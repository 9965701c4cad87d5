// The compare page: boxes and pins placed on the pages, overlay or side by side, zoom and
// pan kept in step between the two sides (mouse, wheel, keyboard buttons, touch and pinch),
// a changed area's button zooms to it; while the compare is prepared, ask until it is done.

const status = document.getElementById("compare-status");
if (status && status.dataset.poll) {
  let attempt = 0;
  const ask = async () => {
    attempt += 1;
    try {
      const answer = await fetch(status.dataset.poll, { credentials: "same-origin" });
      const body = await answer.json();
      if (body.status === "done" || body.status === "failed") {
        window.location.reload();
        return;
      }
    } catch (error) {
      // offline for a moment: ask again later
    }
    if (attempt < 120) setTimeout(ask, Math.min(1500 + attempt * 250, 5000));
  };
  setTimeout(ask, 1000);
}

// boxes and pins are fractions of the page: placed once, they follow the zoom with the page
// (a little larger than the change, so that the frame does not hide the strokes it boxes)
const MARGIN = 0.006;
for (const mark of document.querySelectorAll("[data-box]:not(button)")) {
  const [x0, y0, x1, y1] = mark.dataset.box.split(",").map(Number);
  Object.assign(mark.style, {
    left: `${(x0 - MARGIN) * 100}%`,
    top: `${(y0 - MARGIN) * 100}%`,
    width: `${(x1 - x0 + 2 * MARGIN) * 100}%`,
    height: `${(y1 - y0 + 2 * MARGIN) * 100}%`,
  });
}
for (const pin of document.querySelectorAll(".pin[data-x]")) {
  pin.style.left = `${Number(pin.dataset.x) * 100}%`;
  pin.style.top = `${Number(pin.dataset.y) * 100}%`;
}

const layout = document.querySelector(".compare-layout");
for (const button of document.querySelectorAll("[data-mode]")) {
  if (button.tagName !== "BUTTON") continue;
  button.addEventListener("click", () => {
    layout.dataset.mode = button.dataset.mode;
    for (const other of document.querySelectorAll("button[data-mode]")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
  });
}

const MIN = 1;
const MAX = 16;
const views = new Map();

function view(figure) {
  if (!views.has(figure)) {
    views.set(figure, { scale: 1, x: 0, y: 0, figure });
  }
  return views.get(figure);
}

function visiblePane(figure) {
  return [...figure.querySelectorAll(".pane")].find((pane) => pane.offsetWidth > 0);
}

function apply(state) {
  const pane = visiblePane(state.figure);
  if (pane) {
    // keep some of the page in sight: no panning it out of its frame
    const width = pane.clientWidth;
    const height = pane.clientHeight;
    state.x = Math.min(0, Math.max(width - width * state.scale, state.x));
    state.y = Math.min(0, Math.max(height - height * state.scale, state.y));
  }
  for (const stage of state.figure.querySelectorAll(".stage")) {
    stage.style.transform = `translate(${state.x}px, ${state.y}px) scale(${state.scale})`;
  }
  state.figure.classList.toggle("zoomed", state.scale > 1);
}

function zoomAt(state, factor, px, py) {
  const scale = Math.min(MAX, Math.max(MIN, state.scale * factor));
  const ratio = scale / state.scale;
  state.x = px - (px - state.x) * ratio;
  state.y = py - (py - state.y) * ratio;
  state.scale = scale;
  apply(state);
}

function zoomToBox(figure, box) {
  const pane = visiblePane(figure);
  if (!pane) return;
  const [x0, y0, x1, y1] = box;
  const width = pane.clientWidth;
  const height = pane.clientHeight;
  const state = view(figure);
  state.scale = Math.min(
    MAX,
    Math.max(MIN, Math.min(width / ((x1 - x0) * width * 1.6), height / ((y1 - y0) * height * 1.6))),
  );
  state.x = width / 2 - ((x0 + x1) / 2) * width * state.scale;
  state.y = height / 2 - ((y0 + y1) / 2) * height * state.scale;
  apply(state);
  figure.scrollIntoView({ behavior: "smooth", block: "start" });
}

for (const figure of document.querySelectorAll(".compare-page, .compare-drawing")) {
  const state = view(figure);
  for (const button of figure.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => {
      const pane = visiblePane(figure);
      const cx = pane ? pane.clientWidth / 2 : 0;
      const cy = pane ? pane.clientHeight / 2 : 0;
      if (button.dataset.zoom === "reset") {
        Object.assign(state, { scale: 1, x: 0, y: 0 });
        apply(state);
      } else {
        zoomAt(state, button.dataset.zoom === "in" ? 1.5 : 1 / 1.5, cx, cy);
      }
    });
  }
  const panes = figure.classList.contains("compare-drawing") ? [figure] : figure.querySelectorAll(".pane");
  for (const pane of panes) {
    const pointers = new Map();
    let last = null;
    pane.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = pane.getBoundingClientRect();
      zoomAt(state, event.deltaY < 0 ? 1.2 : 1 / 1.2, event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    pane.addEventListener("dblclick", (event) => {
      const rect = pane.getBoundingClientRect();
      zoomAt(state, 2, event.clientX - rect.left, event.clientY - rect.top);
    });
    pane.addEventListener("pointerdown", (event) => {
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      pane.setPointerCapture(event.pointerId);
      last = null;
    });
    const release = (event) => {
      pointers.delete(event.pointerId);
      last = null;
    };
    pane.addEventListener("pointerup", release);
    pane.addEventListener("pointercancel", release);
    pane.addEventListener("pointermove", (event) => {
      if (!pointers.has(event.pointerId)) return;
      const before = [...pointers.values()];
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      const now = [...pointers.values()];
      const rect = pane.getBoundingClientRect();
      if (now.length === 1) {
        state.x += now[0].x - before[0].x;
        state.y += now[0].y - before[0].y;
        apply(state);
      } else if (now.length === 2) {
        // pinch: zoom about the middle of the two fingers, and follow it
        const distance = Math.hypot(now[0].x - now[1].x, now[0].y - now[1].y);
        const middle = { x: (now[0].x + now[1].x) / 2 - rect.left, y: (now[0].y + now[1].y) / 2 - rect.top };
        if (last) {
          state.x += middle.x - last.middle.x;
          state.y += middle.y - last.middle.y;
          zoomAt(state, distance / last.distance, middle.x, middle.y);
        }
        last = { distance, middle };
      }
    });
  }
}

for (const button of document.querySelectorAll("button[data-zoom-to]")) {
  button.addEventListener("click", () => {
    const figure = document.getElementById(`page-${button.dataset.zoomTo}`);
    const box = button.dataset.box.split(",").map(Number);
    for (const area of figure.querySelectorAll(".area")) {
      area.classList.toggle("focus", area.dataset.box === button.dataset.box);
    }
    zoomToBox(figure, box);
  });
}

// a new width (a phone turned, the window resized) keeps each page in its frame
window.addEventListener("resize", () => views.forEach((state) => apply(state)));

// a drawing's SVG preview still being drawn: ask until it is ready, then show it
for (const image of document.querySelectorAll(".compare-drawing img[data-pending]")) {
  let attempt = 0;
  const ask = async () => {
    attempt += 1;
    try {
      const answer = await fetch(image.src, { method: "HEAD", credentials: "same-origin" });
      const state = answer.headers.get("X-Preview-Status");
      if (state === "ready") {
        const url = new URL(image.src);
        url.searchParams.set("ready", String(attempt));
        image.src = url.toString();
        return;
      }
      if (state && state !== "pending") return;
    } catch (error) {
      // offline for a moment: ask again later
    }
    if (attempt < 40) setTimeout(ask, Math.min(1500 + attempt * 500, 8000));
  };
  ask();
}
