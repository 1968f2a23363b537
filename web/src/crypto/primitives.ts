// WebCrypto building blocks: HMAC-SHA256 (franking), SHA-512 (safety numbers),
// AES-256-GCM (attachments, the local store), PBKDF2 (passphrase → key).
import { b64decode, b64encode, equalBytes, hex, randomBytes } from "./encoding";

const subtle = crypto.subtle;

export async function hmacSha256(key: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", k, data));
}

export async function sha256Hex(data: Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(new Uint8Array(await subtle.digest("SHA-256", data)));
}

export async function sha512(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle.digest("SHA-512", data));
}

export async function aesKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function aesGcmEncrypt(
  key: CryptoKey,
  nonce: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
  aad?: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const params: AesGcmParams = { name: "AES-GCM", iv: nonce, ...(aad ? { additionalData: aad } : {}) };
  return new Uint8Array(await subtle.encrypt(params, key, data));
}

/** Decrypt; throws on a wrong key, nonce, associated data or a tampered ciphertext. */
export async function aesGcmDecrypt(
  key: CryptoKey,
  nonce: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
  aad?: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const params: AesGcmParams = { name: "AES-GCM", iv: nonce, ...(aad ? { additionalData: aad } : {}) };
  return new Uint8Array(await subtle.decrypt(params, key, data));
}

export async function pbkdf2(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const base = await subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, 256);
  return new Uint8Array(bits);
}

// -- franking (kabar.protocol.franking) --------------------------------------------------

export const FRANKING_KEY_BYTES = 32;

export const frankingCommit = (fk: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>) => hmacSha256(fk, message);

export async function frankingOpens(
  fk: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
  commitment: Uint8Array,
): Promise<boolean> {
  if (fk.length !== FRANKING_KEY_BYTES || commitment.length !== 32) return false;
  return equalBytes(await frankingCommit(fk, message), commitment);
}

// -- attachments (kabar.client.crypto.attachments) ---------------------------------------

export interface AttachmentDescriptor {
  key: string;
  nonce: string;
  sha256: string;
  size: number;
  name: string;
  mime: string;
  blob_id?: string;
}

export async function encryptAttachment(
  data: Uint8Array<ArrayBuffer>,
  name: string,
  mime: string,
): Promise<{ ciphertext: Uint8Array<ArrayBuffer>; descriptor: AttachmentDescriptor }> {
  const raw = randomBytes(32);
  const nonce = randomBytes(12);
  const ciphertext = await aesGcmEncrypt(await aesKey(raw), nonce, data);
  const descriptor = {
    key: b64encode(raw),
    nonce: b64encode(nonce),
    sha256: await sha256Hex(data),
    size: data.length,
    name,
    mime: mime || "application/octet-stream",
  };
  return { ciphertext, descriptor };
}

export async function decryptAttachment(
  ciphertext: Uint8Array<ArrayBuffer>,
  d: AttachmentDescriptor,
): Promise<Uint8Array<ArrayBuffer>> {
  let data: Uint8Array<ArrayBuffer>;
  try {
    data = await aesGcmDecrypt(await aesKey(b64decode(d.key, 32)), b64decode(d.nonce, 12), ciphertext);
  } catch {
    throw new Error("attachment ciphertext fails authentication");
  }
  if (data.length !== d.size || (await sha256Hex(data)) !== String(d.sha256).toLowerCase()) {
    throw new Error("attachment does not match its descriptor");
  }
  return data;
}
