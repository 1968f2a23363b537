// libolm (the @matrix-org/olm WebAssembly build), loaded by a classic <script> in index.html.
// Its Olm and Megolm speak the same protocol as vodozemac, which the Python SDK uses.
import type * as OlmNs from "@matrix-org/olm";

declare global {
  interface Window {
    Olm: typeof OlmNs;
  }
}

let ready: Promise<typeof OlmNs> | null = null;

export function loadOlm(): Promise<typeof OlmNs> {
  if (!ready) {
    const lib = window.Olm;
    if (!lib) return Promise.reject(new Error("the Olm library did not load"));
    ready = lib
      .init({ locateFile: () => `${import.meta.env.BASE_URL}vendor/olm.wasm` })
      .then(() => lib);
  }
  return ready;
}

export function olm(): typeof OlmNs {
  return window.Olm;
}

export type Account = OlmNs.Account;
export type Session = OlmNs.Session;
export type InboundGroupSession = OlmNs.InboundGroupSession;
export type OutboundGroupSession = OlmNs.OutboundGroupSession;

/** True only if `signature` is `publicKey`'s Ed25519 signature of `message`. */
export function verifyEd25519(publicKey: string, message: Uint8Array, signature: string): boolean {
  const utility = new (olm().Utility)();
  try {
    utility.ed25519_verify(publicKey, message, signature);
    return true;
  } catch {
    return false;
  } finally {
    utility.free();
  }
}

/** The message index of a Megolm message (version byte, then protobuf field 1 varint). */
export function megolmMessageIndex(ciphertextB64: string): number {
  const raw = atob(ciphertextB64.replace(/=+$/, "") + "=".repeat((4 - (ciphertextB64.replace(/=+$/, "").length % 4)) % 4));
  if (raw.length < 3 || raw.charCodeAt(0) !== 3 || raw.charCodeAt(1) !== 0x08) {
    throw new Error("not a Megolm message");
  }
  let value = 0;
  let shift = 0;
  for (let i = 2; i < raw.length && shift < 35; i++) {
    const byte = raw.charCodeAt(i);
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
    shift += 7;
  }
  throw new Error("malformed Megolm message index");
}
