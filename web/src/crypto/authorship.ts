// Signed authorship (kabar.public.canonical, kabar.client.authorship): the exact bytes a
// publishing device signs for an article revision, and checking a served article against
// its signature. The payload is the canonical JSON of
//   {"kabar":"article-revision/1","account","device_id","handle","slug","title","markdown",
//    "revision","published_at":"YYYY-MM-DDTHH:MM:SSZ"}
// with the Markdown byte for byte as typed (no normalisation). tests/web/test_authorship.py
// checks this against vectors made by the Python function the server verifies with.
import { canonicalJson } from "./encoding";

export const REVISION_FORMAT = "article-revision/1";

export interface RevisionFields {
  handle: string;
  slug: string;
  title: string;
  markdown: string;
  revision: number;
  /** RFC 3339 UTC, whole seconds (use `rfc3339Utc`). */
  published_at: string;
  device_id: string;
  account: string;
}

/** `moment` as `2024-05-01T12:00:00Z`: UTC, fractions of a second dropped. */
export function rfc3339Utc(moment: Date | number): string {
  const ms = typeof moment === "number" ? moment : moment.getTime();
  if (!Number.isFinite(ms)) throw new Error("not a valid time");
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The bytes the publishing device signs for one revision. */
export function revisionPayload(fields: RevisionFields): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(fields.revision) || fields.revision < 1) throw new Error("revision numbers start at 1");
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(fields.published_at)) throw new Error("published_at must be RFC 3339 UTC, whole seconds");
  if (/[\ud800-\udfff]/u.test(fields.markdown + fields.title)) throw new Error("article text is not valid Unicode");
  return canonicalJson({
    kabar: REVISION_FORMAT,
    handle: fields.handle,
    slug: fields.slug,
    title: fields.title,
    markdown: fields.markdown,
    revision: fields.revision,
    published_at: fields.published_at,
    device_id: fields.device_id,
    account: fields.account,
  });
}

export interface ServedSignature {
  revision: number;
  published_at: string;
  account: string;
  device_id: string;
  ed25519: string;
  signature: string;
}

export interface Served {
  handle: string;
  slug: string;
  title: string;
  markdown?: string | null;
  revision: number;
  signature?: ServedSignature | null;
}

export interface SignatureCheck {
  valid: boolean;
  problems: string[];
}

/** Whether `served`'s signature covers what is shown, under the handle and slug asked for.
 * `verify(key, message, signature)` is the Ed25519 check (libolm's, in the app). */
export function checkSignature(
  served: Served,
  asked: { handle: string; slug: string },
  verify: (key: string, message: Uint8Array, signature: string) => boolean,
): SignatureCheck {
  const sig = served.signature;
  if (!sig) return { valid: false, problems: ["the article carries no signature"] };
  if (typeof served.markdown !== "string") return { valid: false, problems: ["the server did not send the article's text"] };
  const problems: string[] = [];
  if (served.handle !== asked.handle.replace(/^@/, "").toLowerCase()) problems.push(`signed for @${served.handle}, not @${asked.handle}`);
  if (served.slug !== asked.slug) problems.push(`signed as "${served.slug}", not "${asked.slug}"`);
  if (sig.revision !== served.revision) problems.push(`the signature is for revision ${sig.revision}, not ${served.revision}`);
  let valid = false;
  try {
    const payload = revisionPayload({ ...served, markdown: served.markdown, revision: sig.revision, published_at: sig.published_at, device_id: sig.device_id, account: sig.account });
    valid = verify(sig.ed25519, payload, sig.signature);
  } catch {
    valid = false;
  }
  if (!valid) problems.push("the signature does not match the text, title or author shown");
  return { valid: valid && problems.length === 0, problems };
}
