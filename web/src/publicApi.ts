// The public side of kabar's HTTP API (docs/public-accounts.md, docs/api.md): public
// accounts, articles, subscriptions, the feed, search, the editor's preview, and the
// moderation notices and appeals of the signed-in account (the contract of issue 5).
import type { Api } from "./api";
import type { ServedSignature } from "./crypto/authorship";

const enc = encodeURIComponent;
const query = (params: Record<string, string | number | null | undefined>) => {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${enc(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
};

export interface PublicAccount {
  id: string;
  handle: string;
  name: string;
  bio: string;
  kind: string;
  avatar_url: string | null;
  url: string;
  created_at: number;
  subscriber_count: number;
  article_count: number;
  verification: { verified_at: number; verified_by: string; note: string } | null;
  my_role: string | null;
  /** A moderator's label, shown to readers (issue 5). */
  label?: string | null;
}

/** A public account's kinds, shown as a label next to its name (kabar.public.models.Kind). */
export const KINDS = ["individual", "organisation", "media", "government", "company"] as const;

/** An owner or editor of a public account (GET …/members). */
export interface PublicMember {
  username: string;
  display_name: string;
  role: "owner" | "editor";
  added_at: number;
}

export interface Article {
  id: string;
  handle: string;
  account_name: string;
  account_verified: boolean;
  slug: string;
  url: string;
  status: string;
  title: string;
  summary: string;
  word_count: number;
  reading_minutes: number;
  revision: number;
  created_at: number;
  updated_at: number;
  scheduled_at: number | null;
  published_at: number | null;
  edited_at: number | null;
  edited: boolean;
  byline: { username: string; display_name: string } | null;
  markdown?: string | null;
  html?: string | null;
  signature?: ServedSignature | null;
  /** A moderator's label, shown to readers (issue 5). */
  label?: string | null;
  reactions?: Record<string, number>;
  my_reactions?: string[];
}

export interface Comment {
  id: string;
  author: { username: string; display_name: string };
  body: string | null;
  created_at: number;
  hidden: boolean;
}

export interface ArticlePage {
  articles: Article[];
  next_cursor: string | null;
}

export interface Subscription {
  handle: string;
  name: string;
  subscribed: boolean;
  notifications: boolean;
  since: number | null;
}

export interface Preview {
  html: string;
  title: string | null;
  summary: string;
  word_count: number;
  reading_minutes: number;
}

/** The content of an `article.published` stream event. A removed article's event is stored as
 * `{ article_id, removed: true }` instead; `Client.onPublicEvent` never passes that form on. */
export interface ArticlePublished {
  article_id: string;
  handle: string;
  account_name: string;
  slug: string;
  url: string;
  title: string;
  summary: string;
  author: string;
  published_at: number;
  reading_minutes: number;
  revision: number;
}

/** A moderation notice (also the content of a `moderation.notice` stream event). */
export interface Notice {
  id: string;
  created_at: number;
  action: string;
  policy_item: { id: string; title: string };
  target: { type: string; id: string; label: string; url: string | null };
  rationale: string;
  label: string | null;
  duration_days: number | null;
  appeal: { deadline: number; status: "none" | "pending" | "granted" | "denied"; decided_at: number | null; rationale: string | null };
}

export interface Me {
  account_id: string;
  username: string;
  display_name: string;
  role: string;
  status: string;
}

export interface PublishBody {
  title: string;
  markdown: string;
  revision: number;
  published_at: string;
  signature: string;
}

export class PublicApi {
  constructor(private api: Api) {}

  me() {
    return this.api.call<Me>("GET", "/v1/account", undefined, { retry: true });
  }

  search(q: string, limit = 20) {
    return this.api.call<{ query: string; accounts: PublicAccount[]; articles: Article[] }>("GET", `/v1/public/search${query({ q, limit })}`);
  }

  account(handle: string) {
    return this.api.call<PublicAccount>("GET", `/v1/public/accounts/${enc(handle)}`);
  }

  articles(handle: string, cursor: string | null = null, limit = 20) {
    return this.api.call<ArticlePage>("GET", `/v1/public/accounts/${enc(handle)}/articles${query({ cursor, limit })}`);
  }

  article(handle: string, slug: string) {
    return this.api.call<Article>("GET", `/v1/public/accounts/${enc(handle)}/articles/${enc(slug)}`);
  }

  articleById(id: string) {
    return this.api.call<Article>("GET", `/v1/public/articles/${enc(id)}`);
  }

  subscription(handle: string) {
    return this.api.call<Subscription>("GET", `/v1/public/accounts/${enc(handle)}/subscription`);
  }

  subscribe(handle: string, notifications: boolean) {
    return this.api.call<Subscription>("PUT", `/v1/public/accounts/${enc(handle)}/subscription`, { notifications });
  }

  unsubscribe(handle: string) {
    return this.api.call("DELETE", `/v1/public/accounts/${enc(handle)}/subscription`);
  }

  subscriptions() {
    return this.api.call<{ subscriptions: Subscription[] }>("GET", "/v1/public/subscriptions");
  }

  feed(cursor: string | null = null, limit = 20) {
    return this.api.call<ArticlePage>("GET", `/v1/public/feed${query({ cursor, limit })}`);
  }

  memberships() {
    return this.api.call<{ accounts: PublicAccount[] }>("GET", "/v1/public/memberships");
  }

  createAccount(fields: { handle: string; name: string; kind: string; bio: string }) {
    return this.api.call<PublicAccount>("POST", "/v1/public/accounts", fields);
  }

  updateAccount(handle: string, changes: { name?: string; kind?: string; bio?: string }) {
    return this.api.call<PublicAccount>("PATCH", `/v1/public/accounts/${enc(handle)}`, changes);
  }

  /** The body is the image itself; the server re-encodes it and strips its metadata. */
  uploadAvatar(handle: string, file: Blob) {
    return this.api.call<PublicAccount>("PUT", `/v1/public/accounts/${enc(handle)}/avatar`, undefined, { raw: file });
  }

  removeAvatar(handle: string) {
    return this.api.call<PublicAccount>("DELETE", `/v1/public/accounts/${enc(handle)}/avatar`);
  }

  members(handle: string) {
    return this.api.call<{ members: PublicMember[] }>("GET", `/v1/public/accounts/${enc(handle)}/members`);
  }

  /** Add a member, or change the role of one already there. */
  putMember(handle: string, username: string, role: string) {
    return this.api.call<{ members: PublicMember[] }>("PUT", `/v1/public/accounts/${enc(handle)}/members/${enc(username)}`, { role });
  }

  /** Remove a member (owners), or leave (your own username). */
  removeMember(handle: string, username: string) {
    return this.api.call("DELETE", `/v1/public/accounts/${enc(handle)}/members/${enc(username)}`);
  }

  drafts(handle: string) {
    return this.api.call<{ articles: Article[] }>("GET", `/v1/public/accounts/${enc(handle)}/drafts`);
  }

  createDraft(handle: string, markdown: string, title?: string) {
    return this.api.call<Article>("POST", `/v1/public/accounts/${enc(handle)}/articles`, title ? { markdown, title } : { markdown });
  }

  updateDraft(id: string, changes: { markdown?: string; title?: string }) {
    return this.api.call<Article>("PATCH", `/v1/public/articles/${enc(id)}`, changes);
  }

  deleteDraft(id: string) {
    return this.api.call("DELETE", `/v1/public/articles/${enc(id)}`);
  }

  publish(id: string, body: PublishBody) {
    return this.api.call<Article>("POST", `/v1/public/articles/${enc(id)}/publish`, body);
  }

  unpublish(id: string) {
    return this.api.call<Article>("POST", `/v1/public/articles/${enc(id)}/unpublish`);
  }

  react(articleId: string, reaction: string, on: boolean) {
    return this.api.call<{ reactions: Record<string, number> }>(on ? "PUT" : "DELETE", `/v1/public/articles/${enc(articleId)}/reactions/${enc(reaction)}`);
  }

  comments(articleId: string, cursor: string | null = null) {
    return this.api.call<{ comments: Comment[]; next_cursor: string | null }>("GET", `/v1/public/articles/${enc(articleId)}/comments${query({ cursor, limit: 50 })}`);
  }

  comment(articleId: string, body: string) {
    return this.api.call<Comment>("POST", `/v1/public/articles/${enc(articleId)}/comments`, { body });
  }

  /** Upload an image for articles; `image.path` is what Markdown links to (`/media/…`). */
  uploadImage(file: Blob) {
    return this.api.call<{ media_id: string; image: { path: string; width: number; height: number } }>("POST", "/v1/media/images", undefined, { raw: file });
  }

  preview(markdown: string) {
    return this.api.call<Preview>("POST", "/v1/public/preview", { markdown });
  }

  deviceKeys(username: string) {
    return this.api.call<{ accounts: Record<string, Record<string, unknown>[]> }>("POST", "/v1/keys/query", { usernames: [username] });
  }

  policy() {
    return this.api.call<{ items: { id: string; title: string; description: string }[] }>("GET", "/v1/moderation/policy");
  }

  report(target: { type: string; id: string }, policyItem: string, note: string) {
    return this.api.call<{ report_id: string; status: string }>("POST", "/v1/moderation/reports", { target, policy_item: policyItem, ...(note ? { note } : {}) });
  }

  notices() {
    return this.api.call<{ notices: Notice[] }>("GET", "/v1/notices");
  }

  appeal(noticeId: string, statement: string) {
    return this.api.call<Record<string, unknown>>("POST", `/v1/notices/${enc(noticeId)}/appeal`, { statement });
  }
}
