"""The upload form: a track file, the day of a file without times, and (for admins) whose patrol it is."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FileField, SelectField
from wtforms.validators import Optional, ValidationError

from inspection import clock


def _not_future(_form, field) -> None:
    """Refuse a day after today (the town's)."""
    if field.data and field.data > clock.town_today():
        raise ValidationError(_l("This date lies in the future."))


class UploadForm(FlaskForm):
    """A track file from a GPS unit or an app; CSRF is checked globally by CSRFProtect."""

    class Meta:
        csrf = False

    track = FileField(_l("Track file (GPX, KML, KMZ or GeoJSON)"))
    day = DateField(
        _l("Day of the patrol (only for a file without times)"), [Optional(), _not_future]
    )
    user_id = SelectField(_l("Whose patrol"), coerce=int, validate_choice=False)
