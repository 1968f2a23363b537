// kabar's HTTP API (/v1, docs/api.md): one function per call the app makes.
// Errors are RFC 9457 problem documents; `ApiError.code` is the stable code, and
// `ApiError.problem` the whole document (with `field` or `errors` when input was refused).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly problem: Record<string, unknown> = {},
  ) {
    super(detail || code || `HTTP ${status}`);
  }
}

type Body = Record<string, unknown>;

export class Api {
  token: string | null = null;
  onSignedOut: () => void = () => undefined;

  constructor(readonly base: string = "") {}

  async call<T = Body>(method: string, path: string, body?: unknown, options: { retry?: boolean; raw?: BodyInit } = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined = options.raw;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(this.base + path, { method, headers, body: payload });
      } catch (err) {
        if (options.retry && attempt < 4) {
          await sleep(300 * 2 ** attempt);
          continue;
        }
        throw new ApiError(0, "network", `cannot reach the server (${String(err)})`);
      }
      if ((response.status === 503 || response.status === 429) && options.retry && attempt < 4) {
        const after = Number(response.headers.get("Retry-After") ?? "1");
        await sleep(Math.min(5, Math.max(0.2, after)) * 1000);
        continue;
      }
      const text = await response.text();
      let data: Record<string, unknown> = {};
      try {
        data = text ? JSON.parse(text) : {};
      } catch {
        if (response.ok) throw new ApiError(response.status, "bad_response", "the server answered something that is not JSON");
      }
      if (!response.ok) {
        if (response.status === 401 && this.token) this.onSignedOut();
        const str = (key: string) => (typeof data[key] === "string" ? (data[key] as string) : "");
        throw new ApiError(response.status, str("code"), str("detail") || str("title"), data);
      }
      return data as T;
    }
  }

  register(username: string, password: string, deviceName: string) {
    return this.call<Session>("POST", "/v1/accounts", { username, password, device_name: deviceName });
  }

  login(username: string, password: string, deviceName: string) {
    return this.call<Session>("POST", "/v1/sessions", { username, password, device_name: deviceName });
  }

  logout() {
    return this.call("DELETE", "/v1/sessions/current");
  }

  devices() {
    return this.call<{ devices: DeviceInfo[] }>("GET", "/v1/devices", undefined, { retry: true });
  }

  revokeDevice(deviceId: string) {
    return this.call("DELETE", `/v1/devices/${encodeURIComponent(deviceId)}`);
  }

  uploadIdentity(keys: Body) {
    return this.call("PUT", "/v1/keys/identity", keys, { retry: true });
  }

  uploadKeys(oneTimeKeys: unknown[], fallbackKey: unknown | null) {
    const body: Body = { one_time_keys: oneTimeKeys };
    if (fallbackKey) body.fallback_key = fallbackKey;
    return this.call<KeyCounts>("POST", "/v1/keys/one-time", body, { retry: true });
  }

  queryKeys(usernames: string[]) {
    return this.call<{ accounts: Record<string, Body[]> }>("POST", "/v1/keys/query", { usernames }, { retry: true });
  }

  claimKeys(deviceIds: string[]) {
    return this.call<{ keys: Record<string, Body> }>("POST", "/v1/keys/claim", { devices: deviceIds });
  }

  sendToDevice(txnId: string, type: string, messages: Record<string, unknown>) {
    return this.call("POST", "/v1/to-device", { txn_id: txnId, type, messages }, { retry: true });
  }

  conversations() {
    return this.call<{ conversations: ConversationInfo[] }>("GET", "/v1/conversations", undefined, { retry: true });
  }

  conversation(id: string) {
    return this.call<ConversationInfo>("GET", `/v1/conversations/${encodeURIComponent(id)}`, undefined, { retry: true });
  }

  openDirect(username: string) {
    return this.call<ConversationInfo>("POST", "/v1/conversations/direct", { username });
  }

  createGroup(title: string, members: string[]) {
    return this.call<ConversationInfo>("POST", "/v1/conversations/groups", { title, members });
  }

  addMembers(id: string, usernames: string[]) {
    return this.call<{ added: string[] }>("POST", `/v1/conversations/${encodeURIComponent(id)}/members`, { usernames });
  }

  removeMember(id: string, username: string) {
    return this.call("DELETE", `/v1/conversations/${encodeURIComponent(id)}/members/${encodeURIComponent(username)}`);
  }

  sendMessage(id: string, txnId: string, envelope: Body) {
    return this.call<Ack>("PUT", `/v1/conversations/${encodeURIComponent(id)}/messages/${encodeURIComponent(txnId)}`, envelope, { retry: true });
  }

  uploadBlob(data: Uint8Array<ArrayBuffer>) {
    return this.call<{ blob_id: string; size: number }>("POST", "/v1/blobs", undefined, { raw: new Blob([data]) });
  }

  async downloadBlob(blobId: string): Promise<Uint8Array<ArrayBuffer>> {
    const response = await fetch(`${this.base}/v1/blobs/${encodeURIComponent(blobId)}`, {
      headers: { Authorization: `Bearer ${this.token}` },
    });
    if (!response.ok) throw new ApiError(response.status, "blob", "cannot download the attachment");
    return new Uint8Array(await response.arrayBuffer());
  }

  reportMessage(body: Body) {
    return this.call<Body>("POST", "/v1/reports/messages", body);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Session {
  account_id: string;
  username: string;
  device_id: string;
  access_token: string;
}

export interface DeviceInfo {
  device_id: string;
  display_name: string;
  created_at: number;
  last_seen_at: number;
  has_keys: boolean;
  ed25519: string | null;
  current: boolean;
}

export interface KeyCounts {
  one_time_key_count: number;
  fallback_key_unused: boolean;
}

export interface Member {
  account_id: string;
  username: string;
  display_name?: string;
  role: string;
}

export interface ConversationInfo {
  conversation_id: string;
  kind: string;
  title: string | null;
  created_at?: number;
  last_seq: number;
  member_count: number;
  my_role: string;
  members?: Member[] | null;
}

export interface Ack {
  event_id: string;
  seq: number;
  token: string;
  ts: number;
  duplicate: boolean;
}

export interface ServerEvent {
  event_id: string;
  type: string;
  conversation_id?: string;
  seq?: number;
  sender?: string;
  sender_id?: string;
  sender_device?: string;
  ts: number;
  content: Record<string, unknown>;
}

export interface ToDeviceEnvelope {
  type: string;
  sender?: string;
  sender_id: string;
  sender_device: string;
  ts: number;
  content: Record<string, unknown>;
}
