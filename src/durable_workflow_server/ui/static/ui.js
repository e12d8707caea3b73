// Small progressive enhancements; every page works without this script.
// An element with an id and data-refresh="N" is re-read from the server every N seconds while
// the tab is visible (the same URL, so the same filters), and replaced in place.
for (const first of document.querySelectorAll("[data-refresh][id]")) {
  const id = first.id;
  const seconds = Math.max(1, Number(first.dataset.refresh) || 5);
  setInterval(async () => {
    const current = document.getElementById(id);
    if (document.hidden || !current) return;
    const answer = await fetch(location.href, { credentials: "same-origin" });
    if (!answer.ok) return;
    const doc = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = doc.getElementById(id);
    if (fresh) current.replaceWith(fresh);
  }, seconds * 1000);
}

// "Resolve" of an external payload: fetch that one payload (the link's own page, which fetches it
// through the namespace's storage) and show it in place; without this script the link opens it.
document.addEventListener("click", async (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[data-resolve]") : null;
  if (!link) return;
  event.preventDefault();
  link.setAttribute("aria-busy", "true");
  const answer = await fetch(link.href, { credentials: "same-origin" });
  const doc = new DOMParser().parseFromString(await answer.text(), "text/html");
  const shown = doc.getElementById("resolved-payload") || doc.querySelector("[role=alert]");
  const block = document.createElement(answer.ok ? "pre" : "p");
  block.className = answer.ok ? "payload resolved" : "error";
  block.textContent = shown ? shown.textContent : `Could not resolve (${answer.status}).`;
  link.closest("p").after(block);
  link.removeAttribute("aria-busy");
  if (answer.ok) link.remove();
});
