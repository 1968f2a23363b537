// Moderation notices for the signed-in account and appeals against them (docs/api.md,
// issue 5's contract): GET /v1/notices, POST /v1/notices/{id}/appeal, and the stream event
// `moderation.notice`, which refreshes the list live. A server without moderation (404)
// shows a plain "no notices" page instead of an error. Route: #/notices.
import { ApiError } from "../api";
import type { Client } from "../client";
import type { Notice } from "../publicApi";
import { errorText, h, replace, time } from "./dom";
import { safeHref } from "./html";
import { heading, type View } from "./public";

const ACTIONS: Record<string, string> = {
  dismiss: "No action",
  label: "Label added",
  remove: "Content removed",
  remove_content: "Content removed",
  restrict: "Publishing restricted",
  restrict_publishing: "Publishing restricted",
  suspend: "Account suspended",
};

/** The notices, or null when this server has no notices endpoint. */
export async function loadNotices(client: Client): Promise<Notice[] | null> {
  try {
    return (await client.public.notices()).notices;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** `changed` is told after an appeal (the badge of open notices goes down). */
export function renderNotices(main: HTMLElement, client: Client, changed: () => void = () => undefined): View {
  const status = h("p", { class: "error", role: "alert" });
  const live = h("p", { class: "hint", role: "status" });
  const list = h("ul", { class: "notices" });
  replace(main, heading("Notices", "#/"), status, h("section", { class: "panel" }, h("p", { class: "hint" }, "Decisions moderators took about your account or content, with the reasons. You can appeal each once, within its deadline; a different moderator decides."), live, list));

  const load = async () => {
    try {
      const notices = await loadNotices(client);
      if (notices === null) return replace(list, h("li", { class: "empty" }, "This server has no moderation notices."));
      replace(list, notices.length ? notices.sort((a, b) => b.created_at - a.created_at).map((n) =>
            noticeItem(client, n, async () => {
              await load();
              changed();
            }),
          ) : h("li", { class: "empty" }, "No notices. Nothing has been decided about your account or content."));
    } catch (err) {
      status.textContent = errorText(err);
    }
  };
  void load();
  const stop = client.onPublicEvent((type) => {
    if (type !== "moderation.notice") return;
    live.textContent = "A new notice arrived.";
    void load();
  });
  return { update: () => undefined, close: stop };
}

function noticeItem(client: Client, n: Notice, reload: () => Promise<void>): HTMLElement {
  const appeal = n.appeal;
  const open = appeal.status === "none" && Date.now() < appeal.deadline;
  const error = h("p", { class: "error", role: "alert" });
  let form: HTMLElement | null = null;
  if (open) {
    const statement = h("textarea", { name: "statement", rows: 3, required: true, maxlength: 4000 });
    const send = h("button", { type: "submit" }, "Send appeal");
    const f = h("form", { class: "appeal" }, h("label", { class: "field" }, "Your appeal: why this decision is wrong", statement), send);
    f.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!statement.value.trim()) return;
      send.disabled = true;
      try {
        await client.public.appeal(n.id, statement.value.trim());
        await reload();
      } catch (err) {
        error.textContent = errorText(err);
        send.disabled = false;
      }
    });
    form = h("details", {}, h("summary", {}, `Appeal (until ${time(appeal.deadline)})`), f);
  }
  const outcome =
    appeal.status === "pending"
      ? "Appeal sent: waiting for a moderator's decision."
      : appeal.status === "granted"
        ? `Appeal granted${appeal.decided_at ? ` ${time(appeal.decided_at)}` : ""}: the decision was reversed.${appeal.rationale ? ` ${appeal.rationale}` : ""}`
        : appeal.status === "denied"
          ? `Appeal denied${appeal.decided_at ? ` ${time(appeal.decided_at)}` : ""}.${appeal.rationale ? ` ${appeal.rationale}` : ""}`
          : open
            ? ""
            : "The appeal period has ended.";
  const target = n.target.url ? h("a", { href: safeHref(n.target.url), target: "_blank", rel: "noopener" }, n.target.label) : n.target.label;
  return h(
    "li",
    { class: "card notice-item", "data-notice": n.id, "data-appeal": appeal.status },
    h("h3", {}, ACTIONS[n.action] ?? n.action, ": ", target),
    h("p", { class: "hint" }, `${time(n.created_at)} · ${n.target.type} · rule: ${n.policy_item.title}`, n.duration_days ? ` · for ${n.duration_days} days` : ""),
    h("p", {}, n.rationale),
    n.label ? h("p", {}, "Label shown to readers: ", h("em", {}, n.label)) : null,
    outcome ? h("p", { class: "outcome" }, outcome) : null,
    form,
    error,
  );
}
