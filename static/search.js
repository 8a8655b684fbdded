// The search page: reads ?q= (and kind, tag) from its address, asks Pagefind's index and lists the results,
// again as the reader types or changes a filter. Focus stays where the reader put it; the count is announced
// through the page's status line. Only this page loads a script.
const PAGE = 10; // results shown at once: each costs a request of about 2 KB
const DELAY_MS = 150; // typing pauses this long before a search starts

const root = document.getElementById("search");
const form = root.querySelector("form");
const field = form.elements.namedItem("q");
const filters = ["kind", "tag"].map((name) => form.elements.namedItem(name)).filter(Boolean);
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const more = document.getElementById("search-more");
let latest = 0;
let pending = []; // results found but not shown yet

const pagefind = await import(`${root.dataset.bundle}pagefind.js`);
await pagefind.options({ baseUrl: root.dataset.base, excerptLength: 24 });

const params = new URLSearchParams(window.location.search);
field.value = params.get("q") || "";
for (const select of filters) {
  const wanted = params.get(select.name) || "";
  if ([...select.options].some((option) => option.value === wanted)) select.value = wanted;
}

form.addEventListener("submit", (event) => {
  event.preventDefault(); // results are already on this page: Enter searches, it never leaves
  search(0);
});
field.addEventListener("input", () => search(DELAY_MS));
for (const select of filters) select.addEventListener("change", () => search(0));
more.addEventListener("click", showMore);
search(0);

async function search(delay) {
  const ticket = ++latest;
  list.setAttribute("aria-busy", "true"); // until these results are in
  const query = field.value.trim();
  const chosen = Object.fromEntries(filters.filter((select) => select.value).map((s) => [s.name, s.value]));
  remember(query, chosen);
  if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
  if (ticket !== latest) return;
  if (!query) {
    show([], []);
    list.removeAttribute("aria-busy");
    status.textContent = Object.keys(chosen).length ? "Type a word to search." : "";
    return;
  }
  const found = await pagefind.search(query, { filters: chosen });
  const shown = await Promise.all(found.results.slice(0, PAGE).map((result) => result.data()));
  if (ticket !== latest) return; // the reader typed on meanwhile
  show(shown.map(item), found.results.slice(PAGE));
  list.removeAttribute("aria-busy");
  status.textContent = summary(found.results.length, query);
}

// The next results, on the reader's request; focus goes to the first of them, so it is never lost.
async function showMore() {
  const ticket = latest;
  const next = await Promise.all(pending.slice(0, PAGE).map((result) => result.data()));
  if (ticket !== latest) return;
  const items = next.map(item);
  list.append(...items);
  show(null, pending.slice(PAGE));
  items[0]?.querySelector("a").focus();
}

function show(items, rest) {
  if (items) list.replaceChildren(...items);
  pending = rest;
  more.hidden = !rest.length;
}

function remember(query, chosen) {
  const next = new URLSearchParams(query ? { q: query, ...chosen } : chosen);
  const address = next.size ? `?${next}` : window.location.pathname;
  window.history.replaceState(null, "", address);
}

function summary(count, query) {
  if (!count) return `No results for “${query}”.`;
  return `${count === 1 ? "1 result" : `${count} results`} for “${query}”.`;
}

function item(data) {
  const entry = document.createElement("li");
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  heading.append(link);
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = [data.meta.kind, data.meta.date].filter(Boolean).join(" · ");
  const excerpt = document.createElement("p");
  excerpt.append(...marked(data.excerpt));
  entry.append(heading, meta, excerpt);
  return entry;
}

// Pagefind's excerpt is escaped text with <mark> around the words found: keep the text and the marks only.
function marked(excerpt) {
  const parsed = new DOMParser().parseFromString(excerpt, "text/html").body;
  return [...parsed.childNodes].map((node) => {
    if (node.nodeName !== "MARK") return document.createTextNode(node.textContent);
    const mark = document.createElement("mark");
    mark.textContent = node.textContent;
    return mark;
  });
}
