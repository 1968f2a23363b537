// Running a public account: creating one (POST /v1/public/accounts; you become its owner) and
// managing it — the profile (PATCH), the avatar (PUT/DELETE …/avatar, the body is the image),
// and the members (GET …/members; PUT/DELETE …/members/{username}). Owners get the controls;
// editors see the same page read only, and may leave. The server decides (kabar.public.
// permissions) and its refusals are shown where they belong (ui/fields.ts).
// Routes: #/p/write/new (create), #/p/manage/@handle.
import { ApiError } from "../api";
import type { Client } from "../client";
import { KINDS, type PublicAccount, type PublicMember } from "../publicApi";
import { errorText, h, replace, time } from "./dom";
import { checkedForm } from "./fields";
import { safeHref } from "./html";
import { heading, publicTabs, type View } from "./public";

const label = (kind: string) => kind.charAt(0).toUpperCase() + kind.slice(1);

function kindSelect(current: string): HTMLSelectElement {
  return h("select", { name: "kind" }, KINDS.map((k) => h("option", { value: k, selected: k === current }, label(k))));
}

export function renderCreateAccount(main: HTMLElement, client: Client): View {
  const form = checkedForm("new-account", { handle_unavailable: "handle" });
  const handle = h("input", { name: "handle", required: true, autocapitalize: "none", autocomplete: "off", spellcheck: "false", placeholder: "harbour_herald" });
  const name = h("input", { name: "name", required: true, maxlength: 100 });
  const bio = h("textarea", { name: "bio", rows: 4, maxlength: 1000 });
  const create = h("button", { type: "submit" }, "Create public account");
  const element = h(
    "form",
    { class: "card manage-form", novalidate: true, "aria-labelledby": "new-account-title" },
    h("h3", { id: "new-account-title" }, "A new public account"),
    h("p", { class: "hint" }, "Articles are published under a public account and signed by your device. You will be its owner: you can add editors and other owners."),
    form.field("Handle", handle, "3–30 characters: a–z, 0–9 and _. It never changes: every article is signed under it."),
    form.field("Display name", name),
    form.field("Kind", kindSelect("individual"), "Shown as a label next to the name."),
    form.field("Bio (optional)", bio),
    form.alert,
    create,
  );
  element.addEventListener("submit", async (e) => {
    e.preventDefault();
    form.clear();
    create.disabled = true;
    try {
      const fields = { handle: handle.value.trim(), name: name.value, kind: (element.elements.namedItem("kind") as HTMLSelectElement).value, bio: bio.value };
      const account = await client.public.createAccount(fields);
      location.hash = `#/p/manage/@${account.handle}?created`;
    } catch (err) {
      form.show(err);
    } finally {
      create.disabled = false;
    }
  });
  replace(main, heading("New public account", "#/p/write"), publicTabs("write"), h("section", { class: "panel" }, element));
  setTimeout(() => handle.focus());
  return { update: () => undefined };
}

export function renderManage(main: HTMLElement, client: Client, handle: string, created: boolean): View {
  const status = h("p", { class: "error", role: "alert" });
  const done = h("p", { class: "hint", role: "status" }, created ? `@${handle} is created, and you are its owner.` : "");
  const profile = h("div", { class: "manage-profile" });
  const avatar = h("div", { class: "manage-avatar" });
  const members = h("ul", { class: "members" });
  const adding = h("div", {});
  const note = h("div", {});
  replace(
    main,
    heading(`Manage @${handle}`, `#/p/write/@${handle}`),
    publicTabs("write"),
    status,
    h(
      "section",
      { class: "panel manage" },
      done,
      h("p", { class: "actions" }, h("a", { href: `#/p/write/@${handle}/new`, class: "button" }, "New article"), h("a", { href: `#/p/write/@${handle}` }, "Drafts and articles"), h("a", { href: `#/p/@${handle}` }, "Public page")),
      note,
      h("h3", {}, "Profile"),
      avatar,
      profile,
      h("h3", {}, "Members"),
      h("p", { class: "hint" }, "Owners manage the profile and the members; editors write, publish and hide comments. An account always keeps an owner."),
      members,
      adding,
    ),
  );

  const say = (message: string) => {
    status.textContent = "";
    done.textContent = message;
  };

  const load = async () => {
    const account = await client.public.account(handle);
    const owner = account.my_role === "owner";
    replace(note, account.my_role === "editor" ? h("p", { class: "hint" }, "You are an editor here: only owners can change the profile and the members.") : null);
    showAvatar(account, owner);
    showProfile(account, owner);
    if (!account.my_role) {
      replace(members, h("li", { class: "empty" }, "Only the account's owners and editors see its members."));
      replace(adding);
      return;
    }
    showMembers((await client.public.members(handle)).members, owner);
    replace(adding, owner ? addMemberForm() : null);
  };
  const reload = () => load().catch((err) => (status.textContent = errorText(err)));

  const showProfile = (account: PublicAccount, owner: boolean) => {
    if (!owner) {
      replace(
        profile,
        h("dl", { class: "facts" }, h("dt", {}, "Display name"), h("dd", {}, account.name), h("dt", {}, "Kind"), h("dd", {}, label(account.kind)), h("dt", {}, "Bio"), h("dd", {}, account.bio || "—")),
      );
      return;
    }
    const form = checkedForm("profile");
    const name = h("input", { name: "name", required: true, maxlength: 100, value: account.name });
    const kind = kindSelect(account.kind);
    const bio = h("textarea", { name: "bio", rows: 4, maxlength: 1000 });
    bio.value = account.bio;
    const save = h("button", { type: "submit" }, "Save profile");
    const element = h("form", { class: "manage-form", novalidate: true, "aria-label": "Profile" }, h("p", { class: "hint" }, `Handle: @${account.handle} (it never changes).`), form.field("Display name", name), form.field("Kind", kind), form.field("Bio", bio), form.alert, save);
    element.addEventListener("submit", async (e) => {
      e.preventDefault();
      form.clear();
      save.disabled = true;
      try {
        const saved = await client.public.updateAccount(handle, { name: name.value, kind: kind.value, bio: bio.value });
        showProfile(saved, true);
        say("Profile saved.");
      } catch (err) {
        form.show(err);
      } finally {
        save.disabled = false;
      }
    });
    replace(profile, element);
  };

  const showAvatar = (account: PublicAccount, owner: boolean) => {
    const src = safeHref(account.avatar_url);
    const image = account.avatar_url && src !== "#" ? h("img", { class: "avatar", src, alt: `Avatar of @${account.handle}`, width: 96, height: 96 }) : h("span", { class: "avatar avatar-initial", "aria-hidden": "true" }, account.name.slice(0, 1).toUpperCase());
    if (!owner) return replace(avatar, image);
    const error = h("p", { class: "error", role: "alert" });
    const picker = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp,image/gif", class: "visually-hidden", id: "avatar-file" });
    const upload = h("label", { for: "avatar-file", class: "button attach" }, account.avatar_url ? "Change avatar" : "Upload avatar");
    const remove = account.avatar_url ? h("button", { type: "button", class: "link danger" }, "Remove avatar") : null;
    picker.addEventListener("change", async () => {
      const file = picker.files?.[0];
      picker.value = "";
      if (!file) return;
      error.textContent = "";
      say(`Uploading ${file.name}…`);
      try {
        showAvatar(await client.public.uploadAvatar(handle, file), true);
        say("Avatar updated.");
      } catch (err) {
        say("");
        error.textContent = `The avatar was not changed: ${errorText(err)}`;
      }
    });
    remove?.addEventListener("click", async () => {
      remove.disabled = true;
      try {
        showAvatar(await client.public.removeAvatar(handle), true);
        say("Avatar removed.");
      } catch (err) {
        error.textContent = errorText(err);
        remove.disabled = false;
      }
    });
    replace(avatar, image, h("div", {}, picker, upload, remove, h("p", { class: "hint" }, "JPEG, PNG, WebP or GIF; the server re-encodes it and removes its metadata."), error));
  };

  const showMembers = (list: PublicMember[], owner: boolean) => {
    replace(
      members,
      list.map((m) => {
        const me = m.username === client.username;
        const error = h("p", { class: "error", role: "alert" });
        const act = async (button: HTMLElement & { disabled: boolean }, run: () => Promise<string>, undo?: () => void) => {
          button.disabled = true;
          error.textContent = "";
          try {
            say(await run());
            await reload();
          } catch (err) {
            undo?.();
            error.textContent = memberProblem(err, m.username);
          } finally {
            button.disabled = false;
          }
        };
        let role: HTMLElement = h("span", { class: "role" }, m.role);
        if (owner) {
          const select = h("select", { "aria-label": `Role of @${m.username}` }, ["owner", "editor"].map((r) => h("option", { value: r, selected: r === m.role }, r)));
          select.addEventListener("change", () =>
            act(
              select,
              async () => {
                await client.public.putMember(handle, m.username, select.value);
                return `@${m.username} is now ${select.value === "owner" ? "an owner" : "an editor"}.`;
              },
              () => (select.value = m.role),
            ),
          );
          role = select;
        }
        let remove: HTMLButtonElement | null = null;
        if (me) {
          remove = h("button", { type: "button", class: "link danger" }, "Leave");
          const leave = remove;
          leave.addEventListener("click", async () => {
            if (!confirm(`Leave @${handle}? You will no longer write for it.`)) return;
            leave.disabled = true;
            error.textContent = "";
            try {
              await client.public.removeMember(handle, m.username);
              location.hash = "#/p/write";
            } catch (err) {
              error.textContent = memberProblem(err, m.username);
              leave.disabled = false;
            }
          });
        } else if (owner) {
          remove = h("button", { type: "button", class: "link danger" }, `Remove @${m.username}`);
          const button = remove;
          button.addEventListener("click", () =>
            act(button, async () => {
              await client.public.removeMember(handle, m.username);
              return `@${m.username} is no longer a member.`;
            }),
          );
        }
        return h(
          "li",
          { "data-member": m.username },
          h("span", {}, h("strong", {}, m.display_name || m.username), ` @${m.username}`, me ? " (you)" : ""),
          role,
          h("span", { class: "hint" }, `since ${time(m.added_at)}`),
          remove,
          error,
        );
      }),
    );
  };

  const addMemberForm = () => {
    const form = checkedForm("add-member", { account_not_found: "username", invalid_role: "role", last_owner: "role" });
    const username = h("input", { name: "username", required: true, autocapitalize: "none", autocomplete: "off", spellcheck: "false" });
    const role = h("select", { name: "role" }, h("option", { value: "editor" }, "editor"), h("option", { value: "owner" }, "owner"));
    const add = h("button", { type: "submit" }, "Add member");
    const element = h(
      "form",
      { class: "card manage-form", novalidate: true, "aria-labelledby": "add-member-title" },
      h("h4", { id: "add-member-title" }, "Add a member"),
      form.field("Username", username, "Someone with an account on this server. Adding someone who is already a member changes their role."),
      form.field("Role", role),
      form.alert,
      add,
    );
    element.addEventListener("submit", async (e) => {
      e.preventDefault();
      form.clear();
      const who = username.value.trim().replace(/^@/, "");
      if (!who) return form.mark("username", "Enter a username.");
      add.disabled = true;
      try {
        await client.public.putMember(handle, who, role.value);
        say(`@${who} is ${role.value === "owner" ? "an owner" : "an editor"} of @${handle}.`);
        await reload();
      } catch (err) {
        if (err instanceof ApiError && err.code === "account_not_found") form.mark("username", `There is no account @${who} on this server.`);
        else form.show(err);
      } finally {
        add.disabled = false;
      }
    });
    return element;
  };

  void reload();
  return { update: () => undefined };
}

/** A refused change to one member, in words (the server's own for anything unexpected). */
function memberProblem(err: unknown, username: string): string {
  if (err instanceof ApiError && err.code === "last_owner") return `@${username} is the only owner, and a public account always keeps one: make someone else an owner first.`;
  return errorText(err);
}
