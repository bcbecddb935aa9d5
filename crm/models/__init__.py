"""The crm models, one module per domain, re-exported here."""

from crm.models.activity import ActivityLog
from crm.models.blocking import BlockedCustomer, BlockFollow
from crm.models.channels import (
    CHANNEL_PERMISSIONS,
    ROLE_PERMISSIONS,
    Channel,
    ChannelGroupObjectPermission,
    ChannelUserObjectPermission,
    Membership,
    Role,
)
from crm.models.collection import ChatForm, ChatFormField, InfoRequest
from crm.models.consent import ConsentChange
from crm.models.conversations import Call, Campaign, CampaignTarget, Chat, Message
from crm.models.customers import (
    Customer,
    CustomerImportTag,
    CustomerTag,
    CustomerType,
    ImportTag,
    Tag,
)
from crm.models.deletion import DeletionJob
from crm.models.inbox import InboxMessage
from crm.models.jobs import JobStatus, LeasedJob
from crm.models.managers import ManagerSettings
from crm.models.mu import MuDelta
from crm.models.profile_keys import BUILTIN_KEYS, ProfileKey, ProfileKeyType
from crm.models.unification import PendingUnification

__all__ = [
    "BUILTIN_KEYS",
    "CHANNEL_PERMISSIONS",
    "ROLE_PERMISSIONS",
    "ActivityLog",
    "BlockFollow",
    "BlockedCustomer",
    "Call",
    "Campaign",
    "CampaignTarget",
    "Channel",
    "ChannelGroupObjectPermission",
    "ChannelUserObjectPermission",
    "Chat",
    "ChatForm",
    "ChatFormField",
    "ConsentChange",
    "Customer",
    "CustomerImportTag",
    "CustomerTag",
    "CustomerType",
    "DeletionJob",
    "ImportTag",
    "InboxMessage",
    "InfoRequest",
    "JobStatus",
    "LeasedJob",
    "ManagerSettings",
    "Membership",
    "Message",
    "MuDelta",
    "PendingUnification",
    "ProfileKey",
    "ProfileKeyType",
    "Role",
    "Tag",
]
