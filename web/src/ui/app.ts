// The signed-in app: three sections — Chats (conversation list, chat, conversation info, new
// chat, devices), Public (feed, explore, accounts, articles, the editor) and Notices — and a
// link to the moderation console for moderators and admins. Routes live in the URL hash:
// #/c/<id>, #/c/<id>/info, #/new, #/devices; #/p… (ui/public.ts, ui/editor.ts, ui/manage.ts);
// #/notices.
import type { Client, Conversation } from "../client";
import type { Subscription } from "../publicApi";
import { renderChat } from "./chat";
import { errorText, h, replace } from "./dom";
import { renderDrafts, renderEditor, renderWriteHome } from "./editor";
import { renderCreateAccount, renderManage } from "./manage";
import { loadNotices, renderNotices } from "./notices";
import { renderDevices, renderInfo, renderNew } from "./panels";
import { renderAccount, renderArticle, renderExplore, renderFeed, type View } from "./public";

type Section = "chats" | "public" | "notices";

function sectionOf(route: string): Section {
  if (route.startsWith("/p")) return "public";
  if (route.startsWith("/notices")) return "notices";
  return "chats";
}

/** Render the app; returns the function that tears it down (after signing out). */
export function renderApp(root: HTMLElement, client: Client, onSignedOut: () => void): () => void {
  const status = h("span", { class: "connection", role: "status" });
  const list = h("ul", { class: "conversations" });
  const main = h("main", { class: "pane", id: "main", tabindex: "-1" });
  const signOut = h("button", { type: "button", class: "link" }, "Sign out");
  signOut.addEventListener("click", async () => {
    if (!confirm("Sign out and delete this device's keys and messages from this browser?")) return;
    try {
      await client.logout();
    } catch (err) {
      console.warn(errorText(err));
    }
    close();
  });
  const tab = (href: string, label: string, section: Section, badge?: HTMLElement) =>
    h("a", { href, "data-section": section }, label, badge ?? null);
  const noticeBadge = h("span", { class: "unread", hidden: true });
  const articleBadge = h("span", { class: "unread", hidden: true });
  let newArticles = 0;
  const consoleLink = h("a", { href: "/console", class: "console-link", hidden: true }, "Moderation console");
  const tabs = [tab("#/", "Chats", "chats"), tab("#/p", "Public", "public", articleBadge), tab("#/notices", "Notices", "notices", noticeBadge)];
  const sections = h("nav", { class: "sections", "aria-label": "Sections" }, tabs, consoleLink);
  const chats = h("div", { class: "section-chats" }, h("a", { href: "#/new", class: "button new" }, "New chat"), list);
  const subscriptions = h("ul", { class: "conversations subscriptions" });
  const publicSide = h(
    "div",
    { class: "section-public" },
    h("a", { href: "#/p/explore", class: "button new" }, "Explore"),
    h("h2", { class: "side-heading" }, "Subscriptions"),
    subscriptions,
  );
  const nav = h(
    "nav",
    { class: "sidebar", "aria-label": "Conversations" },
    h(
      "header",
      { class: "me" },
      h("strong", {}, `@${client.username}`),
      status,
      h("span", { class: "actions" }, h("a", { href: "#/devices" }, "Devices"), signOut),
    ),
    chats,
    publicSide,
  );
  const shell = h("div", { class: "shell" }, h("a", { href: "#main", class: "skip" }, "Skip to content"), sections, nav, main);
  replace(root, shell);

  let view: View | null = null;
  let route = "";

  const renderSubscriptions = (found: Subscription[]) =>
    replace(
      subscriptions,
      found.length === 0 ? h("li", { class: "empty" }, "No subscriptions yet.") : null,
      found.map((s) => h("li", {}, h("a", { href: `#/p/@${s.handle}`, "data-handle": s.handle }, h("span", { class: "title" }, s.name), h("span", { class: "kind" }, `@${s.handle}`)))),
    );
  const refreshSubscriptions = () =>
    client.public
      .subscriptions()
      .then(({ subscriptions: found }) => renderSubscriptions(found))
      .catch(() => undefined);
  const refreshNotices = () =>
    loadNotices(client)
      .then((notices) => {
        const open = (notices ?? []).filter((n) => n.appeal.status === "none" && n.appeal.deadline > Date.now()).length;
        noticeBadge.hidden = open === 0;
        noticeBadge.textContent = String(open);
        noticeBadge.setAttribute("aria-label", `${open} open`);
      })
      .catch(() => undefined);

  const renderList = () => {
    const current = route.split("/")[2];
    const conversations = [...client.conversations.values()].sort((a, b) => b.last_ts - a.last_ts);
    status.textContent = client.connection === "live" ? "online" : client.connection === "connecting" ? "connecting…" : "offline — reconnecting";
    status.className = `connection ${client.connection}`;
    replace(
      list,
      conversations.length === 0 ? h("li", { class: "empty" }, "No conversations yet.") : null,
      conversations.map((c) => conversationItem(client, c, c.conversation_id === current)),
    );
  };

  const navigate = () => {
    route = location.hash.replace(/^#/, "") || "/";
    view?.close?.();
    view = null;
    const [path, search = ""] = route.split("?");
    const parts = path.split("/").map((p) => decodeURIComponent(p));
    const section = sectionOf(path);
    shell.classList.toggle("in-chat", route !== "/");
    shell.dataset.section = section;
    for (const t of tabs) {
      const current = t.dataset.section === section;
      t.classList.toggle("current", current);
      if (current) t.setAttribute("aria-current", "page");
      else t.removeAttribute("aria-current");
    }
    nav.setAttribute("aria-label", section === "chats" ? "Conversations" : "Subscriptions");
    if (path === "/p") {
      newArticles = 0;
      articleBadge.hidden = true;
    }
    chats.hidden = section !== "chats";
    publicSide.hidden = section === "chats";
    if (section !== "chats") void refreshSubscriptions();
    const handle = (part: string | undefined) => (part?.startsWith("@") ? part.slice(1) : null);
    if (parts[1] === "c" && parts[2] && parts[3] === "info") view = renderInfo(main, client, parts[2]);
    else if (parts[1] === "c" && parts[2]) view = renderChat(main, client, parts[2]);
    else if (parts[1] === "new") view = renderNew(main, client);
    else if (parts[1] === "devices") view = renderDevices(main, client);
    else if (parts[1] === "notices") view = renderNotices(main, client, () => void refreshNotices());
    else if (parts[1] === "p" && parts[2] === "explore") view = renderExplore(main, client, new URLSearchParams(search).get("q") ?? "");
    else if (parts[1] === "p" && parts[2] === "write" && parts[3] === "new") view = renderCreateAccount(main, client);
    else if (parts[1] === "p" && parts[2] === "manage" && handle(parts[3])) view = renderManage(main, client, handle(parts[3])!, new URLSearchParams(search).has("created"));
    else if (parts[1] === "p" && parts[2] === "write" && handle(parts[3]) && parts[4]) view = renderEditor(main, client, handle(parts[3])!, parts[4] === "new" ? null : parts[4]);
    else if (parts[1] === "p" && parts[2] === "write" && handle(parts[3])) view = renderDrafts(main, client, handle(parts[3])!);
    else if (parts[1] === "p" && parts[2] === "write") view = renderWriteHome(main, client);
    else if (parts[1] === "p" && handle(parts[2]) && parts[3]) view = renderArticle(main, client, handle(parts[2])!, parts[3]);
    else if (parts[1] === "p" && handle(parts[2])) view = renderAccount(main, client, handle(parts[2])!);
    else if (parts[1] === "p") view = renderFeed(main, client);
    else replace(main, h("div", { class: "placeholder" }, h("p", {}, "Choose a conversation, or start a new one.")));
    renderList();
  };

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    stopPublic();
    view?.close?.();
    window.removeEventListener("hashchange", navigate);
    onSignedOut();
  };
  const unsubscribe = client.subscribe(() => {
    if (client.signedOut) return close();
    renderList();
    view?.update();
  });
  const stopPublic = client.onPublicEvent((type) => {
    if (type === "moderation.notice") void refreshNotices();
    if (type === "article.published" && route !== "/p") {
      // New articles while you are elsewhere: counted on the Public tab until you open the feed.
      newArticles += 1;
      articleBadge.hidden = false;
      articleBadge.textContent = String(newArticles);
      articleBadge.setAttribute("aria-label", `${newArticles} new articles`);
    }
  });
  window.addEventListener("hashchange", navigate);
  navigate();
  void refreshNotices();
  client.public
    .me()
    .then((me) => {
      consoleLink.hidden = me.role !== "moderator" && me.role !== "admin";
    })
    .catch(() => undefined);
  return close;
}

function conversationItem(client: Client, c: Conversation, current: boolean): HTMLElement {
  const unread = client.unread(c.conversation_id);
  const label = client.title(c);
  return h(
    "li",
    {},
    h(
      "a",
      {
        href: `#/c/${c.conversation_id}`,
        class: current ? "current" : "",
        "aria-current": current ? "page" : null,
        "data-conversation": c.conversation_id,
      },
      h("span", { class: "title" }, label),
      c.kind === "group" ? h("span", { class: "kind" }, "group") : null,
      unread ? h("span", { class: "unread", "aria-label": `${unread} unread` }, String(unread)) : null,
    ),
  );
}
