"""Every area's models in one import, for Alembic and the shell."""

from surveyapp.actions.models import ActionItem  # noqa: F401
from surveyapp.activity.models import ActivityRecord  # noqa: F401
from surveyapp.audits.models import (  # noqa: F401
    Answer,
    Assignment,
    AuditTemplate,
    Cycle,
    KeptInput,
    Response,
    SectionProgress,
    StatusEvent,
    TemplateDraft,
    TemplateQuestion,
    TemplateSection,
    TrustCoverage,
)
from surveyapp.auth.models import AccountToken, SiteSetting, User  # noqa: F401
from surveyapp.chasing.models import FiguresVersion, Reminder, ReminderSchedule  # noqa: F401
from surveyapp.establishments.models import Establishment, EstablishmentContact, KeptUpload, Trust, TrustContact  # noqa: F401
from surveyapp.jobs.models import Job  # noqa: F401
from surveyapp.la_actions.models import LaAction, LaActionUpdate  # noqa: F401
from surveyapp.stored_files import StoredFile, StoredFilePiece  # noqa: F401
