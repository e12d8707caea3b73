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
