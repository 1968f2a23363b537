// Under an article: reactions (one of each kind per account; PUT/DELETE …/reactions/{kind})
// and comments (plain text, oldest first, "Show more" following the cursor; hidden ones say
// so). Comment bodies are text, never HTML.
import type { Client } from "../client";
import type { Article, Comment } from "../publicApi";
import { errorText, h, replace, time } from "./dom";

const REACTIONS: [string, string, string][] = [
  ["like", "👍", "Like"],
  ["love", "❤️", "Love"],
  ["insightful", "💡", "Insightful"],
  ["celebrate", "🎉", "Celebrate"],
  ["sad", "😢", "Sad"],
];

export function engagement(client: Client, article: Article): HTMLElement {
  const status = h("p", { class: "error", role: "alert" });
  const counts = { ...(article.reactions ?? {}) };
  const mine = new Set(article.my_reactions ?? []);
  const bar = h("div", { class: "reactions", role: "group", "aria-label": "Reactions" });
  const drawReactions = () =>
    replace(
      bar,
      REACTIONS.map(([kind, emoji, label]) => {
        const on = mine.has(kind);
        const button = h("button", { type: "button", class: on ? "reaction on" : "reaction", "aria-pressed": String(on), "aria-label": `${label} (${counts[kind] ?? 0})`, "data-reaction": kind }, `${emoji} ${counts[kind] ?? 0}`);
        button.addEventListener("click", async () => {
          button.disabled = true;
          try {
            const result = await client.public.react(article.id, kind, !on);
            Object.assign(counts, result.reactions);
            for (const [k] of REACTIONS) if (!(k in result.reactions)) counts[k] = 0;
            if (on) mine.delete(kind);
            else mine.add(kind);
            drawReactions();
          } catch (err) {
            status.textContent = errorText(err);
            button.disabled = false;
          }
        });
        return button;
      }),
    );
  drawReactions();

  const list = h("ol", { class: "comments" });
  const more = h("button", { type: "button", class: "link", hidden: true }, "Show more comments");
  let cursor: string | null = null;
  const item = (c: Comment) =>
    h("li", { "data-comment": c.id }, h("p", { class: "meta" }, `@${c.author.username} · ${time(c.created_at)}`), c.hidden || c.body === null ? h("p", { class: "hint" }, "Hidden by the account's editors.") : h("p", { class: "comment-body" }, c.body));
  const page = async () => {
    try {
      const found = await client.public.comments(article.id, cursor);
      list.append(...found.comments.map(item));
      cursor = found.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      status.textContent = errorText(err);
    }
  };
  more.addEventListener("click", () => void page());
  const text = h("textarea", { name: "comment", rows: 3, required: true, maxlength: 4000 });
  const send = h("button", { type: "submit" }, "Post comment");
  const form = h("form", { class: "comment-form" }, h("label", { class: "field" }, "Your comment", text), send);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    send.disabled = true;
    try {
      list.append(item(await client.public.comment(article.id, text.value.trim())));
      text.value = "";
    } catch (err) {
      status.textContent = errorText(err);
    } finally {
      send.disabled = false;
    }
  });
  void page();
  return h("section", { class: "engagement", "aria-label": "Reactions and comments" }, bar, h("h3", {}, "Comments"), list, more, form, status);
}
