"""The crm models, one module per domain, re-exported here."""

from crm.models.activity import ActivityLog
from crm.models.channels import (
    CHANNEL_PERMISSIONS,
    ROLE_PERMISSIONS,
    Channel,
    ChannelGroupObjectPermission,
    ChannelUserObjectPermission,
    Membership,
    Role,
)
from crm.models.customers import (
    Customer,
    CustomerImportTag,
    CustomerTag,
    CustomerType,
    ImportTag,
    Tag,
)
from crm.models.inbox import InboxMessage
from crm.models.profile_keys import BUILTIN_KEYS, ProfileKey, ProfileKeyType
from crm.models.unification import PendingUnification

__all__ = [
    "BUILTIN_KEYS",
    "CHANNEL_PERMISSIONS",
    "ROLE_PERMISSIONS",
    "ActivityLog",
    "Channel",
    "ChannelGroupObjectPermission",
    "ChannelUserObjectPermission",
    "Customer",
    "CustomerImportTag",
    "CustomerTag",
    "CustomerType",
    "ImportTag",
    "InboxMessage",
    "Membership",
    "PendingUnification",
    "ProfileKey",
    "ProfileKeyType",
    "Role",
    "Tag",
]
