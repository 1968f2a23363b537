// kabar's browser app: boot, then the sign-in screen or the signed-in app.
import "./styles.css";
import type { Client } from "./client";
import { loadOlm } from "./crypto/olm";
import { renderApp } from "./ui/app";
import { renderAuth } from "./ui/auth";
import { errorText, h, replace } from "./ui/dom";

const root = document.getElementById("app")!;

function signedOut(client: Client): void {
  location.hash = "#/";
  const notice = client.signedOut ? "This device was signed out, and its keys and messages were deleted from this browser." : "";
  void showAuth(notice);
}

async function showAuth(notice = ""): Promise<void> {
  await renderAuth(
    root,
    (client: Client) => {
      renderApp(root, client, () => signedOut(client));
      client.start();
    },
    notice,
  );
}

async function boot(): Promise<void> {
  try {
    await loadOlm();
    await showAuth();
  } catch (err) {
    replace(root, h("main", { class: "auth" }, h("h1", {}, "kabar"), h("p", { class: "error", role: "alert" }, `The app could not start: ${errorText(err)}`)));
  }
}

void boot();
