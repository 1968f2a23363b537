// Reporting public content to the moderators (issue 5): a collapsed form under an article or
// a public account — the rule it breaks (from GET /v1/moderation/policy) and an optional
// note — sent as POST /v1/moderation/reports. The reported party never learns who reported.
import type { Client } from "../client";
import { errorText, h, replace } from "./dom";

export function reportControl(client: Client, target: { type: "article" | "public_account"; id: string }, what: string): HTMLElement {
  const rule = h("select", { name: "policy_item", required: true });
  const note = h("input", { name: "note", maxlength: 1000 });
  const send = h("button", { type: "submit" }, "Send report");
  const status = h("p", { class: "hint", role: "status" });
  const form = h("form", {}, h("label", { class: "field" }, "Rule it breaks", rule), h("label", { class: "field" }, "Note for the moderators (optional)", note), send, status);
  const box = h("details", { class: "report report-content" }, h("summary", {}, `Report this ${what}`), form);
  let loaded = false;
  box.addEventListener("toggle", async () => {
    if (!box.open || loaded) return;
    try {
      const { items } = await client.public.policy();
      replace(rule, items.map((item) => h("option", { value: item.id, title: item.description }, item.title)));
      loaded = true;
    } catch (err) {
      status.textContent = `Reporting is not available: ${errorText(err)}`;
      send.disabled = true;
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    send.disabled = true;
    try {
      await client.public.report(target, rule.value, note.value.trim());
      replace(form, h("p", { role: "status" }, "Thank you: the moderators will look at it."));
    } catch (err) {
      status.textContent = errorText(err);
      send.disabled = false;
    }
  });
  return box;
}
