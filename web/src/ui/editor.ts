// The editor, for owners and editors of public accounts (GET /v1/public/memberships):
// accounts you write for, their drafts, scheduled, unpublished and published articles, and
// a Markdown editor with a live preview rendered by the server's own renderer
// (POST /v1/public/preview), save draft, schedule, publish and unpublish. Publishing signs
// the revision here with this device's Ed25519 key (crypto/authorship.ts), exactly as the
// Python SDK does; the server refuses anything the signature does not cover.
// Routes: #/p/write, #/p/write/@handle, #/p/write/@handle/<article id | new>. Creating and
// managing a public account is ui/manage.ts.
import type { Client } from "../client";
import { revisionPayload, rfc3339Utc } from "../crypto/authorship";
import type { Article, PublicAccount } from "../publicApi";
import { errorText, h, replace, time } from "./dom";
import { articleFragment } from "./html";
import { heading, publicTabs, type View } from "./public";

const PREVIEW_DELAY_MS = 350;

export function renderWriteHome(main: HTMLElement, client: Client): View {
  const status = h("p", { class: "error", role: "alert" });
  const list = h("ul", { class: "accounts" });
  const create = h("a", { href: "#/p/write/new", class: "button" }, "New public account");
  replace(main, heading("Write"), publicTabs("write"), status, h("section", { class: "panel" }, h("p", { class: "hint" }, "Public accounts you own or edit."), list, h("p", {}, create)));
  const item = (a: PublicAccount) =>
    h(
      "li",
      { "data-handle": a.handle },
      h("a", { href: `#/p/write/@${a.handle}` }, h("strong", {}, a.name), ` @${a.handle}`),
      h("span", { class: "hint" }, ` · ${a.my_role ?? ""} · `),
      h("a", { href: `#/p/manage/@${a.handle}`, class: "hint" }, a.my_role === "owner" ? "Manage" : "Members"),
    );
  client.public
    .memberships()
    .then(({ accounts }) =>
      replace(list, accounts.length ? accounts.map(item) : h("li", { class: "empty" }, "You do not write for any public account yet. Create one, or ask an owner to add you as an editor.")),
    )
    .catch((err) => (status.textContent = errorText(err)));
  return { update: () => undefined };
}

const describe = (a: Article) =>
  a.status === "scheduled" && a.scheduled_at ? `scheduled for ${time(a.scheduled_at)}` : a.status === "published" && a.published_at ? `published ${time(a.published_at)}` : a.status;

export function renderDrafts(main: HTMLElement, client: Client, handle: string): View {
  const status = h("p", { class: "error", role: "alert" });
  const drafts = h("ul", { class: "drafts" });
  const published = h("ul", { class: "drafts" });
  replace(
    main,
    heading(`Write for @${handle}`, "#/p/write"),
    publicTabs("write"),
    status,
    h(
      "section",
      { class: "panel" },
      h("p", { class: "actions" }, h("a", { href: `#/p/write/@${handle}/new`, class: "button" }, "New article"), h("a", { href: `#/p/manage/@${handle}` }, "Account and members")),
      h("h3", {}, "Drafts, scheduled and unpublished"),
      drafts,
      h("h3", {}, "Published"),
      published,
    ),
  );
  const item = (a: Article) => h("li", { "data-article": a.id }, h("a", { href: `#/p/write/@${handle}/${a.id}` }, a.title), h("span", { class: "hint" }, ` · ${describe(a)}`));
  void (async () => {
    try {
      const [unpublished, live] = await Promise.all([client.public.drafts(handle), client.public.articles(handle, null, 50)]);
      replace(drafts, unpublished.articles.length ? unpublished.articles.map(item) : h("li", { class: "empty" }, "No drafts."));
      replace(published, live.articles.length ? live.articles.map(item) : h("li", { class: "empty" }, "Nothing published yet."));
    } catch (err) {
      status.textContent = errorText(err);
    }
  })();
  return { update: () => undefined };
}

export function renderEditor(main: HTMLElement, client: Client, handle: string, articleId: string | null): View {
  const status = h("p", { class: "error", role: "alert" });
  const done = h("p", { class: "hint", role: "status" });
  const state = h("span", { class: "article-state" });
  const title = h("input", { name: "title", placeholder: "defaults to the first “# heading”" });
  const markdown = h("textarea", { name: "markdown", rows: 16, spellcheck: "true" });
  const when = h("input", { name: "at", type: "datetime-local" });
  const preview = h("div", { class: "preview article-body", "aria-label": "Preview", role: "region" });
  const save = h("button", { type: "button" }, "Save draft");
  const publish = h("button", { type: "button" }, "Publish");
  const schedule = h("button", { type: "button" }, "Schedule");
  const unpublish = h("button", { type: "button", class: "link danger" }, "Unpublish");
  const remove = h("button", { type: "button", class: "link danger" }, "Delete draft");
  const view = h("a", { class: "view-link", hidden: true }, "View article");
  // Images are public media (POST /v1/media/images, cleaned by the server), linked in Markdown.
  const picker = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp,image/gif", class: "visually-hidden", id: "editor-image" });
  const insert = h("label", { for: "editor-image", class: "button attach" }, "Insert image");
  picker.addEventListener("change", async () => {
    const file = picker.files?.[0];
    picker.value = "";
    if (!file) return;
    status.textContent = "";
    done.textContent = `Uploading ${file.name}…`;
    try {
      const uploaded = await client.public.uploadImage(file);
      const alt = file.name.replace(/\.[^.]+$/, "").replace(/[[\]]/g, "");
      const at = markdown.selectionStart ?? markdown.value.length;
      const text = `![${alt}](${uploaded.image.path})`;
      markdown.setRangeText(text, at, markdown.selectionEnd ?? at, "end");
      done.textContent = "Image inserted.";
      refreshPreview();
    } catch (err) {
      done.textContent = "";
      status.textContent = errorText(err);
    }
  });

  let article: Article | null = null;
  const show = (a: Article | null) => {
    article = a;
    state.textContent = a ? `${describe(a)} · revision ${a.revision}` : "new article";
    const live = a?.status === "published" || a?.status === "scheduled";
    save.hidden = live;
    unpublish.hidden = !live;
    remove.hidden = !a || a.revision > 0 || live;
    schedule.hidden = !!a && a.revision > 0; // scheduling is for a first publication
    when.parentElement!.hidden = schedule.hidden;
    publish.textContent = a && a.revision > 0 ? "Publish edit" : "Publish";
    view.hidden = a?.status !== "published";
    if (a) view.setAttribute("href", `#/p/@${a.handle}/${encodeURIComponent(a.slug)}`);
  };

  const form = h(
    "form",
    { class: "editor" },
    h("label", { class: "field" }, "Title", title),
    h("label", { class: "field" }, "Markdown", markdown),
    h("p", { class: "editor-tools" }, picker, insert),
    h("div", { class: "editor-actions" }, save, publish, h("label", { class: "field when" }, "Publish at (your time)", when), schedule, unpublish, remove, view),
  );
  form.addEventListener("submit", (e) => e.preventDefault());
  replace(
    main,
    heading(articleId ? "Edit article" : "New article", `#/p/write/@${handle}`),
    publicTabs("write"),
    status,
    h("section", { class: "panel write" }, h("p", { class: "hint" }, `@${handle} · `, state), done, h("div", { class: "editor-grid" }, form, h("div", {}, h("h3", {}, "Preview"), preview))),
  );

  // Live preview: the server renders and sanitises, so it shows exactly what readers get.
  let timer: ReturnType<typeof setTimeout> | null = null;
  let asked = 0;
  const refreshPreview = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(async () => {
      const ticket = ++asked;
      const text = markdown.value;
      if (!text.trim()) return replace(preview, h("p", { class: "hint" }, "Nothing to preview yet."));
      try {
        const rendered = await client.public.preview(text);
        if (ticket === asked) replace(preview, articleFragment(rendered.html));
      } catch (err) {
        if (ticket === asked) replace(preview, h("p", { class: "error" }, `Preview unavailable: ${errorText(err)}`));
      }
    }, PREVIEW_DELAY_MS);
  };
  markdown.addEventListener("input", refreshPreview);

  /** Save the working copy (creating the draft the first time); returns the article. */
  const saveDraft = async (): Promise<Article> => {
    const given = title.value.trim() || undefined;
    if (!article) {
      const created = await client.public.createDraft(handle, markdown.value, given);
      history.replaceState(null, "", `#/p/write/@${handle}/${created.id}`);
      return created;
    }
    if (article.status === "draft" || article.status === "unpublished") return client.public.updateDraft(article.id, { markdown: markdown.value, ...(given ? { title: given } : {}) });
    return article;
  };

  /** Sign revision n+1 with this device's key and publish it (at `at`, or now). */
  const signAndPublish = async (at: Date | null): Promise<Article> => {
    const current = await saveDraft();
    show(current);
    let heading = title.value.trim();
    if (!heading && current.revision > 0) heading = (await client.public.preview(markdown.value)).title ?? current.title;
    const fields = {
      handle: current.handle,
      slug: current.slug,
      title: heading || current.title,
      markdown: markdown.value,
      revision: current.revision + 1,
      published_at: rfc3339Utc(at ?? Date.now()),
      device_id: client.deviceId,
      account: client.username,
    };
    const signature = client.sign(revisionPayload(fields));
    return client.public.publish(current.id, { title: fields.title, markdown: fields.markdown, revision: fields.revision, published_at: fields.published_at, signature });
  };

  const act = (button: HTMLButtonElement, run: () => Promise<string>) =>
    button.addEventListener("click", async () => {
      status.textContent = "";
      done.textContent = "";
      button.disabled = true;
      try {
        done.textContent = await run();
      } catch (err) {
        status.textContent = errorText(err);
      } finally {
        button.disabled = false;
      }
    });
  act(save, async () => {
    show(await saveDraft());
    return "Draft saved.";
  });
  act(publish, async () => {
    show(await signAndPublish(null));
    return "Published, signed by this device.";
  });
  act(schedule, async () => {
    if (!when.value) throw new Error("Choose a date and time to publish at.");
    const at = new Date(when.value);
    if (!(at.getTime() > Date.now())) throw new Error("Choose a time in the future.");
    show(await signAndPublish(at));
    return `Scheduled for ${time(at.getTime())}, signed by this device.`;
  });
  act(unpublish, async () => {
    if (!article) return "";
    show(await client.public.unpublish(article.id));
    return "Unpublished: it is no longer public; its signed revisions stay in its history.";
  });
  act(remove, async () => {
    if (!article || !confirm("Delete this draft?")) return "";
    await client.public.deleteDraft(article.id);
    location.hash = `#/p/write/@${handle}`;
    return "Draft deleted.";
  });

  show(null);
  if (articleId) {
    client.public
      .articleById(articleId)
      .then((a) => {
        title.value = a.title;
        markdown.value = a.markdown ?? "";
        show(a);
        refreshPreview();
      })
      .catch((err) => (status.textContent = errorText(err)));
  } else {
    refreshPreview();
    setTimeout(() => markdown.focus());
  }
  return { update: () => undefined, close: () => timer && clearTimeout(timer) };
}
