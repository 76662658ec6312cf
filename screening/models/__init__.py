"""SQLAlchemy models. Identifying columns carry ``info={"identifies_patient": True}`` and
every sealed column ``info={"sealed": True}``."""

from .access import AccessLogEntry, AccessLogHead, BreakGlass
from .assessments import Assessment, Draft, ReportFact
from .base import Base
from .conversations import Conversation, FollowUp
from .parked import ParkedForm
from .patients import Patient
from .provenance import InstrumentFingerprint
from .referrals import Referral
from .report_counts import ReportMonthCount
from .search import PatientSearchTerm, RecentPatient
from .staff import LoginAttempt, Membership, Staff, StaffSession, Unit

__all__ = [
    "AccessLogEntry", "AccessLogHead", "Assessment", "Base", "BreakGlass", "Conversation",
    "Draft", "FollowUp", "InstrumentFingerprint", "LoginAttempt", "Membership", "ParkedForm",
    "Patient", "PatientSearchTerm", "RecentPatient", "Referral", "ReportFact",
    "ReportMonthCount", "Staff", "StaffSession", "Unit",
]
