// One conversation: its timeline (live), history, attachments, reports, and the composer.
import type { Client, StoredMessage } from "../client";
import type { AttachmentDescriptor } from "../crypto/primitives";
import { errorText, h, replace, size, time } from "./dom";

const PAGE = 50;

const UTD_TEXT: Record<string, string> = {
  missing_session: "Waiting for this message's key…",
  unknown_index: "This device has the key only for later messages.",
  bad_ciphertext: "This message could not be decrypted.",
  franking_mismatch: "Dropped: the message does not match its commitment.",
  wrong_conversation: "Dropped: the message was encrypted for another conversation.",
  replayed_index: "Dropped: a replayed message.",
  sender_mismatch: "Dropped: sent by another device than the server claims.",
};

export function renderChat(main: HTMLElement, client: Client, conversationId: string) {
  let shown = PAGE;
  const rendered = new Map<string, { key: string; el: HTMLElement }>();
  const item = (m: StoredMessage): HTMLElement => {
    const key = m.utd ? `utd:${m.utd.reason}` : "ok";
    const cached = rendered.get(m.event_id);
    if (cached && cached.key === key) return cached.el;
    const el = messageItem(client, m);
    rendered.set(m.event_id, { key, el });
    return el;
  };
  const heading = h("h2", { id: "chat-title" });
  const timeline = h("ol", { class: "timeline", role: "log", "aria-labelledby": "chat-title", "aria-live": "polite" });
  const older = h("button", { type: "button", class: "link older" }, "Show older messages");
  older.addEventListener("click", () => {
    shown += PAGE;
    update(false);
  });
  const warnings = h("div", { class: "warnings", role: "status" });
  const text = h("textarea", { name: "text", rows: 1, placeholder: "Message", "aria-label": "Message", autocomplete: "off" });
  const file = h("input", { type: "file", name: "file", "aria-label": "Attach a file", class: "visually-hidden", id: "attach" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { class: "composer" },
    file,
    h("label", { for: "attach", class: "button attach", title: "Attach a file" }, "File"),
    text,
    h("button", { type: "submit" }, "Send"),
  );
  const submit = async () => {
    const body = text.value.trim();
    if (!body) return;
    text.value = "";
    error.textContent = "";
    try {
      await client.sendText(conversationId, body);
    } catch (err) {
      error.textContent = `Not sent: ${errorText(err)}`;
      text.value = body;
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void submit();
  });
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void submit();
    }
  });
  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    file.value = "";
    if (!chosen) return;
    error.textContent = "";
    try {
      await client.sendFile(conversationId, chosen, text.value.trim());
      text.value = "";
    } catch (err) {
      error.textContent = `Not sent: ${errorText(err)}`;
    }
  });

  replace(
    main,
    h(
      "header",
      { class: "chat-header" },
      h("a", { href: "#/", class: "back", "aria-label": "Back to conversations" }, "‹"),
      heading,
      h("a", { href: `#/c/${conversationId}/info`, class: "info" }, "Info"),
    ),
    warnings,
    h("div", { class: "scroller" }, older, timeline),
    error,
    form,
  );
  text.focus();

  function update(stick = true): void {
    const c = client.conversations.get(conversationId);
    heading.textContent = c ? client.title(c) : "Conversation";
    form.hidden = !!c?.left;
    const all = client.timeline(conversationId);
    older.hidden = all.length <= shown;
    const scroller = timeline.parentElement!;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    replace(
      timeline,
      all.slice(-shown).map(item),
      client.pending(conversationId).map((p) =>
        h("li", { class: "message own pending" }, h("p", { class: "body" }, String(p.content.body ?? "")), h("span", { class: "meta" }, "sending…")),
      ),
    );
    for (const w of client.takeWarnings()) {
      const parts = [w.added.length && `${w.added.length} added`, w.changed.length && `${w.changed.length} changed`, w.removed.length && `${w.removed.length} removed`].filter(Boolean);
      warnings.append(h("p", {}, `@${w.username}'s devices changed (${parts.join(", ")}). Compare safety numbers in Info.`));
    }
    if (stick && atBottom) scroller.scrollTop = scroller.scrollHeight;
    if (document.visibilityState === "visible") void client.markRead(conversationId);
  }

  const onVisible = () => update();
  document.addEventListener("visibilitychange", onVisible);
  update();
  const scroller = timeline.parentElement!;
  scroller.scrollTop = scroller.scrollHeight;
  return { update, close: () => document.removeEventListener("visibilitychange", onVisible) };
}

function messageItem(client: Client, m: StoredMessage): HTMLElement {
  if (m.notice) return h("li", { class: "notice", "data-event-id": m.event_id }, m.notice);
  const own = m.sender === client.username;
  const meta = h("span", { class: "meta" }, own ? "" : `@${m.sender} · `, h("time", { datetime: new Date(m.ts).toISOString() }, time(m.ts)));
  if (m.utd) {
    const text = m.utd.before_device ? "Sent before this device signed in: not readable here." : (UTD_TEXT[m.utd.reason] ?? "Unable to decrypt.");
    return h("li", { class: `message utd${own ? " own" : ""}`, "data-event-id": m.event_id }, h("p", { class: "body" }, text), meta);
  }
  const body = typeof m.content.body === "string" ? m.content.body : "";
  const attachments = Array.isArray(m.content.attachments) ? (m.content.attachments as AttachmentDescriptor[]) : [];
  const item = h(
    "li",
    { class: `message${own ? " own" : ""}`, "data-event-id": m.event_id },
    m.content.type === "m.file" && body === attachments[0]?.name ? null : h("p", { class: "body" }, body),
    attachments.map((a) => attachmentView(client, a)),
    meta,
  );
  if (!own) item.append(reportControl(client, m));
  return item;
}

function attachmentView(client: Client, a: AttachmentDescriptor): HTMLElement {
  const box = h("div", { class: "attachment" });
  const open = h("button", { type: "button", class: "link" }, `${a.mime.startsWith("image/") ? "Show" : "Download"} ${a.name} (${size(a.size)})`);
  open.addEventListener("click", async () => {
    open.disabled = true;
    try {
      const data = await client.download(a);
      const url = URL.createObjectURL(new Blob([data], { type: a.mime }));
      if (a.mime.startsWith("image/")) {
        box.replaceChildren(h("img", { src: url, alt: a.name }));
      } else {
        const link = h("a", { href: url, download: a.name }, `Save ${a.name}`);
        box.replaceChildren(link);
        link.click();
      }
    } catch (err) {
      open.disabled = false;
      box.append(h("span", { class: "error" }, errorText(err)));
    }
  });
  box.append(open);
  return box;
}

function reportControl(client: Client, m: StoredMessage): HTMLElement {
  const details = h("details", { class: "report" });
  const reason = h("input", { name: "reason", "aria-label": "Reason for the report", placeholder: "Reason (optional)" });
  const result = h("span", { role: "status" });
  const send = h("button", { type: "submit" }, "Send report");
  const form = h("form", {}, reason, send, result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    send.disabled = true;
    try {
      await client.report(m.event_id, reason.value.trim());
      result.textContent = "Reported. Only this message was revealed.";
    } catch (err) {
      send.disabled = false;
      result.textContent = errorText(err);
    }
  });
  details.append(h("summary", {}, "Report"), form);
  return details;
}
