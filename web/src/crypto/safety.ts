// Safety numbers, exactly as kabar.client.crypto.safety computes them, so a browser and
// the Python SDK show the same 60 digits for the same pair of accounts.
import { canonicalJson, utf8 } from "./encoding";
import { sha512 } from "./primitives";

const VERSION = utf8("kabar.safety.v1\u0000");
const ITERATIONS = 5200;
const CHUNKS = 6;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The 30-digit half one account contributes (sorted, de-duplicated Ed25519 keys). */
export async function accountFingerprint(username: string, ed25519Keys: string[]): Promise<string> {
  const keys = Array.from(new Set(ed25519Keys)).sort();
  const data = concat(VERSION, canonicalJson({ account: username, ed25519: keys }));
  let digest: Uint8Array<ArrayBuffer> = data;
  for (let i = 0; i < ITERATIONS; i++) digest = await sha512(concat(digest, data));
  let digits = "";
  for (let c = 0; c < CHUNKS; c++) {
    let n = 0;
    for (let i = 0; i < 5; i++) n = n * 256 + digest[c * 5 + i]; // 40 bits: exact in a double
    digits += String(n % 100000).padStart(5, "0");
  }
  return digits;
}

/** 60 digits in 12 groups of 5; the same whichever side computes it. */
export async function safetyNumber(
  userA: string,
  keysA: string[],
  userB: string,
  keysB: string[],
): Promise<string> {
  const halves = [await accountFingerprint(userA, keysA), await accountFingerprint(userB, keysB)].sort();
  return halves.join("").match(/.{5}/g)!.join(" ");
}
