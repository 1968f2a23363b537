// The public side: the feed (live on `article.published`), explore and search, a public
// account's page (subscribe, notifications, subscriber count, its articles) and reading an
// article (sanitised HTML, byline, edited mark, signature status). Routes: #/p (feed),
// #/p/explore?q=…, #/p/@handle, #/p/@handle/<slug>.
import type { Client } from "../client";
import { checkSignature } from "../crypto/authorship";
import { verifyEd25519 } from "../crypto/olm";
import type { Article, ArticlePage, ArticlePublished, PublicAccount } from "../publicApi";
import { errorText, h, replace, time } from "./dom";
import { articleFragment, safeHref } from "./html";
import { engagement } from "./engagement";
import { reportControl } from "./report";

export interface View {
  update: () => void;
  close?: () => void;
}

/** The Feed · Explore · Write row at the top of every public view. */
export function publicTabs(current: "feed" | "explore" | "write" | ""): HTMLElement {
  const tab = (id: string, href: string, label: string) =>
    h("a", { href, class: current === id ? "current" : "", "aria-current": current === id ? "page" : null }, label);
  return h("nav", { class: "subnav", "aria-label": "Public" }, tab("feed", "#/p", "Feed"), tab("explore", "#/p/explore", "Explore"), tab("write", "#/p/write", "Write"));
}

export function heading(title: string, back?: string): HTMLElement {
  return h(
    "header",
    { class: "chat-header" },
    back ? h("a", { href: back, class: "back always", "aria-label": "Back" }, "‹") : null,
    h("h2", {}, title),
  );
}

/** Articles per page of the feed and of an account's list ("Load more" fetches the next). */
const PAGE = 10;

const articleHref = (handle: string, slug: string) => `#/p/@${handle}/${encodeURIComponent(slug)}`;

/** One article in a list: title link, account, byline, time, reading time, edited mark. */
export function articleCard(a: Pick<Article, "id" | "handle" | "account_name" | "slug" | "title" | "summary" | "reading_minutes" | "published_at"> & { author?: string; edited?: boolean }, fresh = false): HTMLElement {
  return h(
    "li",
    { class: fresh ? "article-card fresh" : "article-card", "data-article": a.id },
    h("h3", {}, h("a", { href: articleHref(a.handle, a.slug) }, a.title)),
    h(
      "p",
      { class: "meta" },
      h("a", { href: `#/p/@${a.handle}` }, `${a.account_name} @${a.handle}`),
      a.author ? ` · by @${a.author}` : "",
      a.published_at ? ` · ${time(a.published_at)}` : "",
      ` · ${a.reading_minutes} min read`,
      a.edited ? h("span", { class: "edited" }, " · edited") : null,
    ),
    a.summary ? h("p", { class: "summary" }, a.summary) : null,
  );
}

const card = (a: Article) => articleCard({ ...a, author: a.byline?.username });

/** A list of articles with a "Load more" button following the cursor. */
function pagedList(load: (cursor: string | null) => Promise<ArticlePage>, status: HTMLElement, empty: string) {
  const list = h("ol", { class: "articles" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Load more");
  let cursor: string | null = null;
  const shown = new Set<string>();
  const page = async () => {
    more.disabled = true;
    try {
      const result = await load(cursor);
      for (const a of result.articles) {
        if (shown.has(a.id)) continue;
        shown.add(a.id);
        list.append(card(a));
      }
      cursor = result.next_cursor;
      more.hidden = !cursor;
      if (!shown.size) list.append(h("li", { class: "empty" }, empty));
    } catch (err) {
      status.textContent = errorText(err);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void page());
  return { list, more, page, shown };
}

export function renderFeed(main: HTMLElement, client: Client): View {
  const status = h("p", { class: "error", role: "alert" });
  const live = h("p", { class: "hint", role: "status" });
  const feed = pagedList((cursor) => client.public.feed(cursor, PAGE), status, "Nothing yet: subscribe to public accounts in Explore.");
  replace(main, heading("Your feed"), publicTabs("feed"), status, h("section", { class: "panel", "aria-label": "Feed" }, live, feed.list, feed.more));
  void feed.page();
  const stop = client.onPublicEvent((type, content) => {
    if (type !== "article.published") return;
    const a = content as unknown as ArticlePublished;
    if (feed.shown.has(a.article_id)) return;
    feed.shown.add(a.article_id);
    feed.list.querySelector(".empty")?.remove();
    feed.list.prepend(articleCard({ ...a, id: a.article_id, edited: a.revision > 1 }, true));
    live.textContent = `New: “${a.title}” from @${a.handle}`;
  });
  return { update: () => undefined, close: stop };
}

export function renderExplore(main: HTMLElement, client: Client, q: string): View {
  const status = h("p", { class: "error", role: "alert" });
  const input = h("input", { name: "q", type: "search", value: q, autocapitalize: "none" });
  const form = h("form", { class: "search", role: "search" }, h("label", { class: "field" }, "Search public accounts and articles", input), h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/p/explore?q=${encodeURIComponent(input.value.trim())}`;
  });
  const results = h("div", { class: "results" });
  replace(main, heading("Explore"), publicTabs("explore"), status, h("section", { class: "panel" }, form, results));
  if (q) {
    replace(results, h("p", { class: "hint" }, "Searching…"));
    client.public
      .search(q)
      .then((found) => {
        replace(
          results,
          h("h3", {}, "Accounts"),
          found.accounts.length ? h("ul", { class: "accounts" }, found.accounts.map(accountItem)) : h("p", { class: "hint" }, "No accounts match."),
          h("h3", {}, "Articles"),
          found.articles.length ? h("ol", { class: "articles" }, found.articles.map(card)) : h("p", { class: "hint" }, "No articles match."),
        );
      })
      .catch((err) => {
        replace(results);
        status.textContent = errorText(err);
      });
  } else {
    replace(results, h("p", { class: "hint" }, "Find people, newsrooms and organisations publishing here by name, handle or words in their articles."));
  }
  setTimeout(() => input.focus());
  return { update: () => undefined };
}

function accountItem(a: PublicAccount): HTMLElement {
  return h(
    "li",
    { "data-handle": a.handle },
    h("a", { href: `#/p/@${a.handle}` }, h("strong", {}, a.name), ` @${a.handle}`),
    a.verification ? h("span", { class: "badge", title: a.verification.note }, "verified") : null,
    h("span", { class: "hint" }, ` · ${subscribers(a.subscriber_count)}`),
    a.bio ? h("p", { class: "summary" }, a.bio) : null,
  );
}

const subscribers = (n: number) => `${n} subscriber${n === 1 ? "" : "s"}`;

export function renderAccount(main: HTMLElement, client: Client, handle: string): View {
  const status = h("p", { class: "error", role: "alert" });
  const profile = h("div", { class: "profile" });
  const articles = pagedList((cursor) => client.public.articles(handle, cursor, PAGE), status, "No articles yet.");
  replace(main, heading(`@${handle}`, "#/p/explore"), publicTabs(""), status, h("section", { class: "panel" }, profile, h("h3", {}, "Articles"), articles.list, articles.more));
  const count = h("span", { class: "subscribers" });
  const subscribe = h("button", { type: "button" }, "Subscribe");
  const notify = h("input", { type: "checkbox", name: "notifications" });
  const notifyLabel = h("label", { class: "toggle" }, notify, " Notify me of new articles");

  const show = (account: PublicAccount, subscribed: boolean, notifications: boolean) => {
    count.textContent = subscribers(account.subscriber_count);
    subscribe.textContent = subscribed ? "Unsubscribe" : "Subscribe";
    subscribe.setAttribute("aria-pressed", String(subscribed));
    notify.checked = notifications;
    notifyLabel.hidden = !subscribed;
  };
  let account: PublicAccount | null = null;
  let subscribed = false;
  const refresh = async () => {
    account = await client.public.account(handle);
    const sub = await client.public.subscription(handle);
    subscribed = sub.subscribed;
    show(account, sub.subscribed, sub.notifications);
  };
  subscribe.addEventListener("click", async () => {
    subscribe.disabled = true;
    status.textContent = "";
    try {
      if (subscribed) await client.public.unsubscribe(handle);
      else await client.public.subscribe(handle, true);
      await refresh();
    } catch (err) {
      status.textContent = errorText(err);
    } finally {
      subscribe.disabled = false;
    }
  });
  notify.addEventListener("change", async () => {
    try {
      await client.public.subscribe(handle, notify.checked);
      await refresh();
    } catch (err) {
      status.textContent = errorText(err);
    }
  });

  void (async () => {
    try {
      await refresh();
      const a = account!;
      replace(
        profile,
        a.avatar_url && safeHref(a.avatar_url) !== "#" ? h("img", { class: "avatar", src: safeHref(a.avatar_url), alt: "", width: 64, height: 64 }) : null,
        h("h3", { class: "name" }, a.name, a.verification ? h("span", { class: "badge", title: a.verification.note }, "verified") : null),
        h("p", { class: "hint" }, `@${a.handle} · ${a.kind} · `, count),
        moderationLabel(a.label),
        a.bio ? h("p", {}, a.bio) : null,
        h("p", { class: "actions" }, subscribe, notifyLabel),
        h("p", { class: "hint" }, h("a", { href: safeHref(a.url), target: "_blank", rel: "noopener" }, "Open on the web"), " · ", h("a", { href: safeHref(`${a.url}/feed.atom`) }, "Atom feed"), a.my_role ? [" · ", h("a", { href: `#/p/write/@${a.handle}` }, "Write for this account"), " · ", h("a", { href: `#/p/manage/@${a.handle}` }, a.my_role === "owner" ? "Manage" : "Members")] : null),
        a.my_role ? null : reportControl(client, { type: "public_account", id: a.handle }, "account"),
      );
      await articles.page();
    } catch (err) {
      status.textContent = errorText(err);
    }
  })();
  return { update: () => undefined };
}

export function renderArticle(main: HTMLElement, client: Client, handle: string, slug: string): View {
  const status = h("p", { class: "error", role: "alert" });
  const body = h("article", { class: "article-body" });
  replace(main, heading("Article", `#/p/@${handle}`), publicTabs(""), status, h("section", { class: "panel reader" }, body));
  void (async () => {
    try {
      const a = await client.public.article(handle, slug);
      const content = articleFragment(a.html ?? "");
      // The article's own first heading is its title: shown first, above the byline.
      const first = content.firstElementChild;
      const title = first?.localName === "h1" ? first : h("h1", {}, a.title);
      title.remove();
      replace(
        body,
        title,
        moderationLabel(a.label),
        h(
          "p",
          { class: "byline" },
          h("a", { href: `#/p/@${a.handle}` }, `${a.account_name} @${a.handle}`),
          a.byline ? ` · by ${a.byline.display_name || a.byline.username} (@${a.byline.username})` : "",
          a.published_at ? ` · ${time(a.published_at)}` : "",
          ` · ${a.reading_minutes} min read`,
          a.edited ? h("span", { class: "edited", title: a.edited_at ? `edited ${time(a.edited_at)}` : "" }, " · edited") : null,
        ),
        await signatureStatus(client, a, handle, slug),
        h("div", { class: "content" }, content),
        h("p", { class: "hint" }, h("a", { href: safeHref(a.url), target: "_blank", rel: "noopener" }, "Open on the web"), " · ", h("a", { href: safeHref(`${a.url}/history`), target: "_blank", rel: "noopener" }, "Revision history")),
        reportControl(client, { type: "article", id: a.id }, "article"),
        a.status === "published" ? engagement(client, a) : null,
      );
    } catch (err) {
      status.textContent = errorText(err);
    }
  })();
  return { update: () => undefined };
}

const moderationLabel = (label: string | null | undefined) => (label ? h("p", { class: "moderation-label", role: "note" }, `Moderator’s label: ${label}`) : null);

/** Check the signature here, then whether the key is the author's device in the directory. */
async function signatureStatus(client: Client, a: Article, handle: string, slug: string): Promise<HTMLElement> {
  const check = checkSignature(a, { handle, slug }, verifyEd25519);
  const sig = a.signature;
  if (!check.valid || !sig) {
    return h("p", { class: "signature invalid", "data-signature": "invalid", role: "status" }, "⚠ Signature does not verify: ", check.problems.join("; "));
  }
  let listed = false;
  try {
    const found = await client.public.deviceKeys(sig.account);
    listed = (found.accounts[sig.account] ?? []).some((d) => d.device_id === sig.device_id && d.ed25519 === sig.ed25519);
  } catch {
    listed = false;
  }
  const who = `@${sig.account}'s device ${sig.device_id}`;
  return listed
    ? h("p", { class: "signature valid", "data-signature": "valid", role: "status" }, `✔ Signed by ${who} (revision ${sig.revision}, ${sig.published_at}).`)
    : h("p", { class: "signature unlisted", "data-signature": "unlisted", role: "status" }, `✔ The signature is valid, but ${who} is no longer listed in the key directory (signed out?).`);
}
