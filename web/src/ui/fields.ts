// Forms whose input the server checks. A refusal (an RFC 9457 problem, `ApiError.problem`) is
// shown next to the field it concerns: from `errors[].location` (request validation, e.g.
// "body.handle"), from `field` (a service's own check), or from codes that are about one
// field (`handle_unavailable` → handle); anything else goes to the form's alert. The field
// is marked `aria-invalid`, its message is in its `aria-describedby`, and it gets the focus.
import { ApiError } from "../api";
import { errorText, h, replace } from "./dom";

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export interface CheckedForm {
  /** The alert for errors that are about no one field. */
  readonly alert: HTMLElement;
  /** A labelled control (its `name` is the API's field name) with its hint and error. */
  field(label: string, control: Control, hint?: string): HTMLElement;
  /** Forget every error shown (before sending again). */
  clear(): void;
  /** Show `message` under the field `name`, and focus it. */
  mark(name: string, message: string): void;
  /** Show a refusal where it belongs. */
  show(err: unknown): void;
}

/** `prefix` keeps the ids unique on the page; `codeFields` names the field of field-less codes. */
export function checkedForm(prefix: string, codeFields: Record<string, string> = {}): CheckedForm {
  const alert = h("p", { class: "error", role: "alert" });
  const controls = new Map<string, { control: Control; error: HTMLElement }>();

  const clear = () => {
    alert.textContent = "";
    for (const { control, error } of controls.values()) {
      replace(error);
      control.removeAttribute("aria-invalid");
    }
  };

  const mark = (name: string, message: string) => {
    const found = controls.get(name);
    if (!found) {
      alert.textContent = message;
      return;
    }
    found.error.textContent = message;
    found.control.setAttribute("aria-invalid", "true");
    if (!document.activeElement || !document.activeElement.matches("[aria-invalid=true]")) found.control.focus();
  };

  const show = (err: unknown) => {
    if (!(err instanceof ApiError)) return mark("", errorText(err));
    const listed = Array.isArray(err.problem.errors) ? (err.problem.errors as { location?: unknown; message?: unknown }[]) : [];
    let shown = false;
    for (const item of listed) {
      const name = String(item.location ?? "").split(".").pop() ?? "";
      if (controls.has(name)) {
        mark(name, String(item.message ?? err.message));
        shown = true;
      }
    }
    if (shown) return;
    const field = typeof err.problem.field === "string" ? err.problem.field : codeFields[err.code];
    mark(field ?? "", err.message);
  };

  const field = (label: string, control: Control, hint?: string) => {
    const id = `${prefix}-${control.name}`;
    const error = h("span", { class: "field-error", id: `${id}-error` });
    const help = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
    control.id = id;
    control.setAttribute("aria-describedby", [help?.id, error.id].filter(Boolean).join(" "));
    controls.set(control.name, { control, error });
    return h("div", { class: "field" }, h("label", { for: id }, label), control, help, error);
  };

  return { alert, field, clear, mark, show };
}
