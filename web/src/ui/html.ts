// Article HTML into the page. The server already sanitised it with nh3 (kabar.public.sanitise)
// and the app's CSP forbids inline script; this is a second, independent line: the HTML is
// parsed inertly (DOMParser runs no script and loads nothing), then rebuilt keeping only the
// server's own allow-list of tags and attributes and safe URLs. It is never assigned to
// innerHTML of a live element.

const HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"];
const TAGS = new Set(["a", "blockquote", "br", "code", "del", "em", "hr", "img", "input", "li", "ol", "p", "pre", "s", "section", "strong", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul", ...HEADINGS]);
// Dropped with everything inside (as the server does).
const DROP = new Set(["script", "style", "iframe", "object", "embed", "applet", "svg", "math", "template", "noscript", "frame", "frameset", "link", "meta", "base", "form", "textarea", "select", "button"]);
const ATTRIBUTES: Record<string, string[]> = {
  a: ["href", "title", "id", "class", "rel"],
  img: ["src", "alt", "title", "loading", "referrerpolicy"],
  li: ["id", "class"],
  ol: ["start", "class"],
  ul: ["class"],
  code: ["class"],
  th: ["class"],
  td: ["class"],
  sup: ["class"],
  hr: ["class"],
  section: ["class"],
  input: ["type", "disabled", "checked"],
  ...Object.fromEntries(HEADINGS.map((h) => [h, ["id"]])),
};

/** `url` if it is safe to link to from the app (http(s), or a path on this site), else "#". */
export function safeHref(url: string | null | undefined): string {
  const value = (url ?? "").trim();
  return /^https?:\/\//i.test(value) || /^\/(?!\/)/.test(value) ? value : "#";
}

function safeUrl(value: string, image: boolean): boolean {
  const url = value.trim();
  if (image) return /^https?:\/\/[^/]/i.test(url) || url.startsWith("/media/");
  if (/^(https?:|mailto:)/i.test(url)) return true;
  // relative (path, fragment or query): no scheme before the first / ? #
  return !/^[^/?#]*:/.test(url);
}

function clean(source: Node, into: Node, doc: Document): void {
  for (const child of Array.from(source.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE) {
      into.appendChild(doc.createTextNode(child.textContent ?? ""));
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue; // comments, processing instructions
    const el = child as Element;
    const tag = el.localName;
    if (DROP.has(tag)) continue;
    if (!TAGS.has(tag)) {
      clean(el, into, doc); // unknown element: keep its text
      continue;
    }
    const copy = doc.createElement(tag);
    for (const name of ATTRIBUTES[tag] ?? []) {
      const value = el.getAttribute(name);
      if (value === null) continue;
      if ((name === "href" || name === "src") && !safeUrl(value, name === "src")) continue;
      copy.setAttribute(name, value);
    }
    if (tag === "input") {
      if (copy.getAttribute("type") !== "checkbox") continue;
      copy.setAttribute("disabled", "");
    }
    if (tag === "a" && /^https?:/i.test(copy.getAttribute("href") ?? "")) {
      copy.setAttribute("rel", "nofollow noopener ugc");
      copy.setAttribute("target", "_blank");
    }
    clean(el, copy, doc);
    into.appendChild(copy);
  }
}

/** A fragment of `html` with only allow-listed markup, ready to append. */
export function articleFragment(html: string): DocumentFragment {
  const parsed = new DOMParser().parseFromString(`<!doctype html><body>${html}`, "text/html");
  const fragment = document.createDocumentFragment();
  clean(parsed.body, fragment, document);
  return fragment;
}
