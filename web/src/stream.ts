// The WebSocket /v1/stream (docs/api.md): authenticate with the last processed token,
// receive catch-up then live frames, send messages with acks; on any drop reconnect with
// backoff and resume from the last token that was *processed and saved*, so nothing is
// lost (and the client's dedupe by event id absorbs any repeat).

export interface StreamFrame {
  type: string;
  token?: string;
  [key: string]: unknown;
}

export interface StreamHandler {
  /** The token to resume from: the last frame processed and saved. */
  since(): string | null;
  /** Handle one event or to_device frame (in order; not yet saved). */
  process(frame: StreamFrame): Promise<void>;
  /** Save everything processed so far (the token included). */
  flush(): Promise<void>;
  ready(frame: StreamFrame): Promise<void>;
  state(state: "connecting" | "live" | "offline"): void;
  signedOut(): void;
}

export class StreamUnavailable extends Error {}

interface Pending {
  resolve: (frame: StreamFrame) => void;
  reject: (err: Error) => void;
}

const FLUSH_EVERY = 50;
const SILENCE_MS = 45_000; // the server pings every 15 s

export class EventStream {
  live = false;
  private ws: WebSocket | null = null;
  private queue: StreamFrame[] = [];
  private pumping: Promise<void> | null = null;
  private pending = new Map<string, Pending>();
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private silence: ReturnType<typeof setTimeout> | null = null;
  private toDeviceSinceCheckpoint = false;

  constructor(
    private token: string,
    private handler: StreamHandler,
    private url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/stream`,
  ) {
    window.addEventListener("online", this.onOnline);
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000, "bye");
  }

  /** Send over the socket; resolves with the ack, rejects StreamUnavailable if it drops. */
  send(conversationId: string, txnId: string, envelope: Record<string, unknown>): Promise<StreamFrame> {
    const ws = this.ws;
    if (!ws || !this.live || ws.readyState !== WebSocket.OPEN) return Promise.reject(new StreamUnavailable("offline"));
    return new Promise((resolve, reject) => {
      this.pending.set(txnId, { resolve, reject });
      ws.send(JSON.stringify({ type: "send", conversation_id: conversationId, txn_id: txnId, envelope }));
    });
  }

  private onOnline = () => {
    if (!this.live && !this.stopped) {
      if (this.timer) clearTimeout(this.timer);
      this.attempt = 0;
      void this.connect();
    }
  };

  private async connect(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    if (this.pumping) await this.pumping; // resume only after everything received is saved
    this.handler.state("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: this.token, since: this.handler.since() }));
    ws.onmessage = (message) => {
      if (ws !== this.ws) return;
      this.heard();
      let frame: StreamFrame;
      try {
        frame = JSON.parse(String(message.data));
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.live = false;
      if (this.silence) clearTimeout(this.silence);
      for (const [, p] of this.pending) p.reject(new StreamUnavailable("the stream closed"));
      this.pending.clear();
      if (event.code === 4001 || event.code === 4003) {
        this.stopped = true;
        this.handler.signedOut();
        return;
      }
      this.handler.state("offline");
      this.scheduleReconnect();
    };
  }

  private heard(): void {
    if (this.silence) clearTimeout(this.silence);
    this.silence = setTimeout(() => this.ws?.close(4000, "silent"), SILENCE_MS);
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    const delay = Math.min(10_000, 250 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt = Math.min(this.attempt + 1, 8);
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  private onFrame(frame: StreamFrame): void {
    switch (frame.type) {
      case "ack":
      case "error": {
        const txn = typeof frame.txn_id === "string" ? frame.txn_id : "";
        const waiter = this.pending.get(txn);
        if (waiter) {
          this.pending.delete(txn);
          if (frame.type === "ack") waiter.resolve(frame);
          else waiter.reject(Object.assign(new Error(String(frame.detail ?? frame.code)), { code: frame.code, status: frame.status }));
        }
        return;
      }
      case "ping":
        this.ws?.send(JSON.stringify({ type: "pong" }));
        return;
      case "pong":
        return;
      default:
        this.queue.push(frame);
        if (!this.pumping) this.pumping = this.pump().finally(() => (this.pumping = null));
    }
  }

  private async pump(): Promise<void> {
    let processed = 0;
    try {
      while (this.queue.length) {
        const frame = this.queue.shift()!;
        if (frame.type === "ready") {
          await this.handler.flush();
          await this.handler.ready(frame);
          this.live = true;
          this.attempt = 0;
          this.handler.state("live");
          continue;
        }
        if (frame.type !== "event" && frame.type !== "to_device") continue;
        await this.handler.process(frame);
        if (frame.type === "to_device") this.toDeviceSinceCheckpoint = true;
        if (++processed % FLUSH_EVERY === 0 || this.queue.length === 0) {
          await this.handler.flush();
          this.checkpoint();
        }
      }
    } catch (err) {
      // A frame failed: drop the connection and resume from the last saved token.
      console.error("stream processing failed", err);
      this.queue = [];
      this.ws?.close(4000, "client error");
    }
  }

  private checkpoint(): void {
    const since = this.handler.since();
    if (this.toDeviceSinceCheckpoint && since && this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "checkpoint", token: since }));
      this.toDeviceSinceCheckpoint = false;
    }
  }
}
