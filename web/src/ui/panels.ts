// Side panels: conversation info (members, safety numbers), new chat/group, own devices.
import type { Client } from "../client";
import { errorText, h, replace, time } from "./dom";

const fingerprint = (key: string) => key.match(/.{1,4}/g)!.join(" ");

function backHeader(title: string, href: string): HTMLElement {
  return h("header", { class: "chat-header" }, h("a", { href, class: "back", "aria-label": "Back" }, "‹"), h("h2", {}, title));
}

function action(button: HTMLButtonElement, status: HTMLElement, run: () => Promise<unknown>): void {
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "";
    try {
      await run();
    } catch (err) {
      status.textContent = errorText(err);
    } finally {
      button.disabled = false;
    }
  });
}

export function renderInfo(main: HTMLElement, client: Client, conversationId: string) {
  const members = h("ul", { class: "members" });
  const status = h("p", { class: "error", role: "alert" });
  const add = h("form", { class: "inline" }, h("label", { class: "field" }, "Add members (usernames, comma-separated)", h("input", { name: "usernames", autocapitalize: "none" })), h("button", { type: "submit" }, "Add"));
  add.addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = add.elements.namedItem("usernames") as HTMLInputElement;
    const names = input.value.split(/[\s,]+/).filter(Boolean);
    if (!names.length) return;
    try {
      await client.addMembers(conversationId, names);
      input.value = "";
    } catch (err) {
      status.textContent = errorText(err);
    }
  });
  const heading = h("h2", {});
  replace(main, h("header", { class: "chat-header" }, h("a", { href: `#/c/${conversationId}`, class: "back always", "aria-label": "Back to the chat" }, "‹"), heading), status, h("section", { class: "panel" }, h("h3", {}, "Members"), members, add));

  const safety = new Map<string, HTMLElement>();
  const update = () => {
    const c = client.conversations.get(conversationId);
    if (!c) return;
    heading.textContent = `${client.title(c)} — info`;
    const admin = c.kind === "group" && (c.my_role === "owner" || c.my_role === "admin") && !c.left;
    add.hidden = !admin;
    replace(
      members,
      Object.entries(c.members)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([username, role]) => {
          const remove = admin && username !== client.username ? h("button", { type: "button", class: "link danger" }, `Remove @${username}`) : null;
          if (remove) action(remove, status, () => client.removeMember(conversationId, username));
          const box = safety.get(username) ?? h("div", { class: "safety" });
          safety.set(username, box);
          const show = username !== client.username ? h("button", { type: "button", class: "link" }, "Safety number") : null;
          if (show) action(show, status, () => showSafety(client, username, box));
          return h("li", { "data-member": username }, h("span", {}, `@${username}`), h("span", { class: "role" }, role), show, remove, box);
        }),
    );
  };
  update();
  void client.refreshConversation(conversationId).catch(() => undefined);
  return { update };
}

async function showSafety(client: Client, username: string, box: HTMLElement): Promise<void> {
  const found = await client.safetyNumber(username);
  const verify = h("button", { type: "button" }, "Mark as verified");
  const state = h("span", { role: "status" }, found.verified ? "Verified." : "Not verified yet.");
  verify.addEventListener("click", async () => {
    await client.markVerified(username);
    state.textContent = "Verified.";
  });
  replace(
    box,
    h("p", { class: "hint" }, `Compare this number with @${username} in person or over a channel you trust. It changes when either of you adds or removes a device.`),
    h("p", { class: "safety-number", "aria-label": `Safety number with ${username}` }, found.number),
    h("h4", {}, `@${username}'s devices`),
    h("ul", { class: "devices" }, found.devices.map((d) => h("li", {}, h("code", {}, d.device_id), " ", h("code", { class: "key" }, fingerprint(d.ed25519))))),
    verify,
    " ",
    state,
  );
}

export function renderNew(main: HTMLElement, client: Client) {
  const status = h("p", { class: "error", role: "alert" });
  const direct = h(
    "form",
    { class: "card", "aria-labelledby": "new-direct" },
    h("h3", { id: "new-direct" }, "Chat with someone"),
    h("label", { class: "field" }, "Username", h("input", { name: "username", required: true, autocapitalize: "none" })),
    h("button", { type: "submit" }, "Open chat"),
  );
  direct.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const id = await client.openDirect((direct.elements.namedItem("username") as HTMLInputElement).value.trim());
      location.hash = `#/c/${id}`;
    } catch (err) {
      status.textContent = errorText(err);
    }
  });
  const group = h(
    "form",
    { class: "card", "aria-labelledby": "new-group" },
    h("h3", { id: "new-group" }, "New group"),
    h("label", { class: "field" }, "Title", h("input", { name: "title", required: true })),
    h("label", { class: "field" }, "Members (usernames, comma-separated)", h("input", { name: "members", autocapitalize: "none" })),
    h("button", { type: "submit" }, "Create group"),
  );
  group.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = (name: string) => (group.elements.namedItem(name) as HTMLInputElement).value;
    try {
      const id = await client.createGroup(value("title").trim(), value("members").split(/[\s,]+/).filter(Boolean));
      location.hash = `#/c/${id}`;
    } catch (err) {
      status.textContent = errorText(err);
    }
  });
  replace(main, backHeader("New conversation", "#/"), status, direct, group);
  return { update: () => undefined };
}

export function renderDevices(main: HTMLElement, client: Client) {
  const list = h("ul", { class: "devices" });
  const status = h("p", { class: "error", role: "alert" });
  replace(
    main,
    backHeader("Your devices", "#/"),
    status,
    h(
      "section",
      { class: "panel" },
      h("p", { class: "hint" }, "Each sign-in is a device with its own keys. Revoke any you do not recognise."),
      h("p", {}, "This device's key: ", h("code", { class: "key" }, fingerprint(client.identity.ed25519))),
      list,
    ),
  );
  const load = async () => {
    try {
      const devices = await client.ownDevices();
      replace(
        list,
        devices.map((d) => {
          const revoke = d.current ? null : h("button", { type: "button", class: "link danger" }, "Revoke");
          if (revoke) action(revoke, status, async () => {
            await client.revokeDevice(d.device_id);
            await load();
          });
          return h(
            "li",
            { "data-device": d.device_id },
            h("strong", {}, d.display_name || d.device_id),
            d.current ? " (this device)" : "",
            h("br", {}),
            h("code", {}, d.device_id),
            " · added ",
            time(d.created_at),
            d.ed25519 ? h("div", {}, h("code", { class: "key" }, fingerprint(d.ed25519))) : null,
            revoke,
          );
        }),
      );
    } catch (err) {
      status.textContent = errorText(err);
    }
  };
  void load();
  return { update: () => undefined };
}
