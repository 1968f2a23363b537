// The device's local state in IndexedDB, encrypted at rest (DESIGN §4).
//
// password --PBKDF2-SHA256(600k, random salt)--> key-encryption key --AES-GCM--> a random
// 256-bit master key; every record is AES-256-GCM under it, with the account and record name
// as associated data (a record moved under another name does not open). Writes are staged and
// committed together in one IndexedDB transaction, so a batch of ratchet steps, decrypted
// messages and the new sync token land together or not at all.
import { b64decode, b64encode, fromUtf8, randomBytes, utf8 } from "./crypto/encoding";
import { aesGcmDecrypt, aesGcmEncrypt, aesKey, pbkdf2 } from "./crypto/primitives";

const DB_NAME = "kabar";
const VAULTS = "vaults";
const RECORDS = "records";
export const PBKDF2_ITERATIONS = 600_000;

export class WrongPassword extends Error {
  constructor() {
    super("wrong password for this device's local store");
  }
}

interface VaultHeader {
  username: string;
  salt: string;
  iterations: number;
  nonce: string;
  wrapped: string;
  created_at: number;
}

interface Sealed {
  nonce: Uint8Array<ArrayBuffer>;
  data: Uint8Array<ArrayBuffer>;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });
}

let dbPromise: Promise<IDBDatabase> | null = null;

function database(): Promise<IDBDatabase> {
  if (!dbPromise) {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(VAULTS, { keyPath: "username" });
      open.result.createObjectStore(RECORDS);
    };
    dbPromise = request(open);
  }
  return dbPromise;
}

/** Usernames with a device stored in this browser. */
export async function storedAccounts(): Promise<string[]> {
  const db = await database();
  const headers = (await request(db.transaction(VAULTS).objectStore(VAULTS).getAll())) as VaultHeader[];
  return headers.map((h) => h.username).sort();
}

export class Vault {
  private staged = new Map<string, unknown>();
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly username: string,
    private key: CryptoKey,
  ) {}

  static async create(username: string, password: string): Promise<Vault> {
    const salt = randomBytes(16);
    const kek = await aesKey(await pbkdf2(password, salt, PBKDF2_ITERATIONS));
    const master = randomBytes(32);
    const nonce = randomBytes(12);
    const wrapped = await aesGcmEncrypt(kek, nonce, master, utf8(`kabar.vault.v1\u0000${username}`));
    const header: VaultHeader = {
      username,
      salt: b64encode(salt),
      iterations: PBKDF2_ITERATIONS,
      nonce: b64encode(nonce),
      wrapped: b64encode(wrapped),
      created_at: Date.now(),
    };
    await Vault.erase(username);
    const db = await database();
    const tx = db.transaction(VAULTS, "readwrite");
    tx.objectStore(VAULTS).put(header);
    await done(tx);
    return new Vault(username, await aesKey(master));
  }

  static async open(username: string, password: string): Promise<Vault> {
    const db = await database();
    const header = (await request(db.transaction(VAULTS).objectStore(VAULTS).get(username))) as VaultHeader | undefined;
    if (!header) throw new Error(`no device of ${username} is stored in this browser`);
    const kek = await aesKey(await pbkdf2(password, b64decode(header.salt), header.iterations));
    let master: Uint8Array<ArrayBuffer>;
    try {
      master = await aesGcmDecrypt(kek, b64decode(header.nonce), b64decode(header.wrapped), utf8(`kabar.vault.v1\u0000${username}`));
    } catch {
      throw new WrongPassword();
    }
    return new Vault(username, await aesKey(master));
  }

  /** Forget this account's device in this browser: header and every record. */
  static async erase(username: string): Promise<void> {
    const db = await database();
    const tx = db.transaction([VAULTS, RECORDS], "readwrite");
    tx.objectStore(VAULTS).delete(username);
    tx.objectStore(RECORDS).delete(IDBKeyRange.bound([username, ""], [username, "\uffff"]));
    await done(tx);
  }

  /** Every record, decrypted. */
  async load(): Promise<Map<string, unknown>> {
    const db = await database();
    const range = IDBKeyRange.bound([this.username, ""], [this.username, "\uffff"]);
    const store = db.transaction(RECORDS).objectStore(RECORDS);
    const [keys, values] = await Promise.all([request(store.getAllKeys(range)), request(store.getAll(range))]);
    const out = new Map<string, unknown>();
    for (let i = 0; i < keys.length; i++) {
      const name = (keys[i] as [string, string])[1];
      const sealed = values[i] as Sealed;
      const plain = await aesGcmDecrypt(this.key, sealed.nonce, sealed.data, this.aad(name));
      out.set(name, JSON.parse(fromUtf8(plain)));
    }
    return out;
  }

  /** Stage a write (or a delete, with `undefined`) for the next commit. */
  stage(name: string, value: unknown): void {
    this.staged.set(name, value);
  }

  /** Write everything staged in one transaction; commits run one after another. */
  commit(): Promise<void> {
    const batch = this.staged;
    this.staged = new Map();
    const run = async () => {
      if (batch.size === 0) return;
      const sealed: Array<[string, Sealed | undefined]> = [];
      for (const [name, value] of batch) {
        if (value === undefined) {
          sealed.push([name, undefined]);
          continue;
        }
        const nonce = randomBytes(12);
        const data = await aesGcmEncrypt(this.key, nonce, utf8(JSON.stringify(value)), this.aad(name));
        sealed.push([name, { nonce, data }]);
      }
      const db = await database();
      const tx = db.transaction(RECORDS, "readwrite");
      const store = tx.objectStore(RECORDS);
      for (const [name, value] of sealed) {
        if (value === undefined) store.delete([this.username, name]);
        else store.put(value, [this.username, name]);
      }
      await done(tx);
    };
    const next = this.chain.then(run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private aad(name: string): Uint8Array<ArrayBuffer> {
    return utf8(`${this.username}\u0000${name}`);
  }
}
