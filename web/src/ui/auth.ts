// Sign up, sign in (a new device), or unlock the device already stored in this browser.
import { Client } from "../client";
import { storedAccounts, WrongPassword } from "../store";
import { errorText, h, replace } from "./dom";

export async function renderAuth(root: HTMLElement, onReady: (client: Client) => void, notice = ""): Promise<void> {
  const stored = await storedAccounts();
  const status = h("p", { class: "error", role: "alert" }, notice);
  const busy = (form: HTMLFormElement, on: boolean) => {
    for (const el of Array.from(form.elements)) (el as HTMLButtonElement).disabled = on;
  };
  const submit = (form: HTMLFormElement, action: () => Promise<Client>) => async (event: Event) => {
    event.preventDefault();
    status.textContent = "";
    busy(form, true);
    form.setAttribute("aria-busy", "true");
    try {
      onReady(await action());
    } catch (err) {
      status.textContent = err instanceof WrongPassword ? "Wrong password." : errorText(err);
      busy(form, false);
      form.removeAttribute("aria-busy");
    }
  };
  const field = (label: string, name: string, type = "text", extra: Record<string, string | boolean> = {}) =>
    h("label", { class: "field" }, label, h("input", { name, type, required: true, ...extra }));
  const value = (form: HTMLFormElement, name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;

  const unlock = stored.length
    ? (() => {
        const form = h(
          "form",
          { class: "card", "aria-labelledby": "unlock-title" },
          h("h2", { id: "unlock-title" }, "Unlock this device"),
          h("p", { class: "hint" }, "Your keys and messages are stored here, encrypted under your password."),
          h("label", { class: "field" }, "Account", h("select", { name: "username" }, stored.map((u) => h("option", { value: u }, `@${u}`)))),
          field("Password", "password", "password", { autocomplete: "current-password" }),
          h("button", { type: "submit" }, "Unlock"),
        );
        form.addEventListener("submit", submit(form, () => Client.unlock(value(form, "username"), value(form, "password"))));
        return form;
      })()
    : null;

  const signUp = h(
    "form",
    { class: "card", "aria-labelledby": "signup-title" },
    h("h2", { id: "signup-title" }, "Create an account"),
    field("Username", "username", "text", { autocomplete: "username", pattern: "[A-Za-z0-9_.]{3,32}", autocapitalize: "none" }),
    field("Password", "password", "password", { autocomplete: "new-password", minlength: "8" }),
    h("button", { type: "submit" }, "Create account"),
  );
  signUp.addEventListener("submit", submit(signUp, () => Client.signUp(value(signUp, "username"), value(signUp, "password"))));

  const signIn = h(
    "form",
    { class: "card", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "Sign in on this browser"),
    h("p", { class: "hint" }, "Signing in adds a new device with its own keys: it reads messages sent from now on."),
    field("Username", "username", "text", { autocomplete: "username", autocapitalize: "none" }),
    field("Password", "password", "password", { autocomplete: "current-password" }),
    h("button", { type: "submit" }, "Sign in"),
  );
  signIn.addEventListener("submit", submit(signIn, () => Client.signIn(value(signIn, "username"), value(signIn, "password"))));

  replace(
    root,
    h(
      "main",
      { class: "auth" },
      h("h1", {}, "kabar"),
      h("p", { class: "tagline" }, "Private chats only their participants can read."),
      status,
      unlock,
      signUp,
      signIn,
    ),
  );
}
