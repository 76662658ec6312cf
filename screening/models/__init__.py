"""SQLAlchemy models. Identifying columns carry ``info={"identifies_patient": True}`` and
every sealed column ``info={"sealed": True}``."""

from .access import AccessLogEntry, AccessLogHead, BreakGlass
from .assessments import Assessment, Draft, ReportFact
from .base import Base
from .conversations import Conversation, FollowUp
from .patients import Patient
from .referrals import Referral
from .report_counts import ReportMonthCount
from .staff import LoginAttempt, Membership, Staff, StaffSession, Unit

__all__ = [
    "AccessLogEntry", "AccessLogHead", "Assessment", "Base", "BreakGlass", "Conversation",
    "Draft", "FollowUp", "LoginAttempt", "Membership", "Patient", "Referral", "ReportFact",
    "ReportMonthCount", "Staff", "StaffSession", "Unit",
]
