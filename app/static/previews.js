// Swap "preview being prepared" placeholders for the picture once the job has drawn it.
// The page never waits: it asks the preview URL (HEAD) every few seconds, for a while;
// that request also queues the job of a version uploaded before previews existed.
const pending = [...document.querySelectorAll("[data-preview-src]")];

function swap(holder, status) {
  if (status === "ready") {
    const image = document.createElement("img");
    image.src = holder.dataset.previewSrc;
    image.alt = holder.dataset.previewAlt || "";
    image.className = holder.dataset.previewClass || holder.className.replace("thumb-pending", "").trim();
    holder.replaceWith(image);
  } else {
    holder.textContent = holder.dataset.previewNone || "";
    holder.classList.remove("thumb-pending");
    holder.classList.add("thumb-none");
  }
  delete holder.dataset.previewSrc;
}

async function poll(holder, attempt) {
  try {
    const answer = await fetch(holder.dataset.previewSrc, { method: "HEAD", credentials: "same-origin" });
    const status = answer.headers.get("X-Preview-Status");
    if (status && status !== "pending") {
      swap(holder, status);
      return;
    }
  } catch (error) {
    // offline for a moment: try again later
  }
  if (attempt < 40) {
    setTimeout(() => poll(holder, attempt + 1), Math.min(2000 + attempt * 500, 10000));
  }
}

// Only placeholders on (or near) the screen ask: a long list does not queue every job at once.
if ("IntersectionObserver" in window) {
  const watcher = new IntersectionObserver((entries) => {
    entries.forEach((entry) => {
      if (entry.isIntersecting) {
        watcher.unobserve(entry.target);
        setTimeout(() => poll(entry.target, 0), 300);
      }
    });
  }, { rootMargin: "300px" });
  pending.forEach((holder) => watcher.observe(holder));
} else {
  pending.forEach((holder, index) => setTimeout(() => poll(holder, 0), 300 + index * 50));
}
