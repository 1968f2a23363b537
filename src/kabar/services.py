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
from kabar.store.database import Database


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
