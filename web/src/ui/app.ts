// The signed-in app: conversation list, chat, conversation info, new chat, devices.
// Routes live in the URL hash (#/c/<id>, #/c/<id>/info, #/new, #/devices).
import type { Client, Conversation } from "../client";
import { renderChat } from "./chat";
import { errorText, h, replace } from "./dom";
import { renderDevices, renderInfo, renderNew } from "./panels";

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
    h("a", { href: "#/new", class: "button new" }, "New chat"),
    list,
  );
  const shell = h("div", { class: "shell" }, h("a", { href: "#main", class: "skip" }, "Skip to content"), nav, main);
  replace(root, shell);

  let view: { update: () => void; close?: () => void } | null = null;
  let route = "";

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
    const parts = route.split("/");
    shell.classList.toggle("in-chat", route !== "/");
    if (parts[1] === "c" && parts[2] && parts[3] === "info") view = renderInfo(main, client, parts[2]);
    else if (parts[1] === "c" && parts[2]) view = renderChat(main, client, parts[2]);
    else if (parts[1] === "new") view = renderNew(main, client);
    else if (parts[1] === "devices") view = renderDevices(main, client);
    else replace(main, h("div", { class: "placeholder" }, h("p", {}, "Choose a conversation, or start a new one.")));
    renderList();
  };

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    view?.close?.();
    window.removeEventListener("hashchange", navigate);
    onSignedOut();
  };
  const unsubscribe = client.subscribe(() => {
    if (client.signedOut) return close();
    renderList();
    view?.update();
  });
  window.addEventListener("hashchange", navigate);
  navigate();
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
