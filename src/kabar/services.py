"""The services container: everything a request handler may call, built by ``kabar.app``."""

from __future__ import annotations

from dataclasses import dataclass

from kabar.accounts.auth import Authenticator
from kabar.accounts.ratelimit import RateLimiter
from kabar.accounts.service import AccountService
from kabar.broker import Broker
from kabar.config import Config
from kabar.conversations.reports import ReportService
from kabar.conversations.service import ConversationService
from kabar.delivery.control import ControlBus
from kabar.delivery.hub import Hub
from kabar.delivery.sync import SyncService
from kabar.delivery.to_device import ToDeviceJanitor, ToDeviceService
from kabar.delivery.writer import Writer
from kabar.keys.backup import BackupService
from kabar.keys.service import KeyService
from kabar.media.blobs import BlobService
from kabar.media.uploads import MediaService
from kabar.moderation.authority import AuthorityService
from kabar.moderation.hash_import import HashListService
from kabar.moderation.hash_matching import HashMatchService
from kabar.moderation.log_service import TransparencyService
from kabar.moderation.report import TransparencyReports
from kabar.moderation.service import ModerationService
from kabar.public.accounts import PublicAccountService
from kabar.public.articles import ArticleService
from kabar.public.comments import CommentService
from kabar.public.reactions import ReactionService
from kabar.public.reading import ArticleReader
from kabar.public.scheduler import Scheduler
from kabar.public.search import SearchService
from kabar.public.views import ViewCounter
from kabar.store.database import Database
from kabar.subscriptions.feed import FeedService
from kabar.subscriptions.service import SubscriptionService


@dataclass(slots=True)
class Services:
    config: Config
    database: Database
    limiter: RateLimiter
    broker: Broker
    writer: Writer
    hub: Hub
    bus: ControlBus
    auth: Authenticator
    accounts: AccountService
    keys: KeyService
    conversations: ConversationService
    to_device: ToDeviceService
    to_device_janitor: ToDeviceJanitor
    sync: SyncService
    blobs: BlobService
    backup: BackupService
    reports: ReportService
    moderation: ModerationService
    public_accounts: PublicAccountService
    articles: ArticleService
    reader: ArticleReader
    comments: CommentService
    reactions: ReactionService
    views: ViewCounter
    search: SearchService
    subscriptions: SubscriptionService
    feed: FeedService
    media: MediaService
    scheduler: Scheduler
    transparency: TransparencyService
    authority: AuthorityService
    transparency_report: TransparencyReports
    hash_lists: HashListService
    hash_matching: HashMatchService
