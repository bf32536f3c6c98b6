"""Forms of the user and grid pages and the password change; CSRFProtect checks every POST first."""

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from inspection import vocab
from inspection.accounts.models import User
from inspection.accounts.users import MAX_PASSWORD, MIN_PASSWORD, UserData
from inspection.grid.models import GridCell

_PASSWORD_LENGTH = Length(
    min=MIN_PASSWORD,
    max=MAX_PASSWORD,
    message=_l("A password has %(min)d to %(max)d characters.", min=MIN_PASSWORD, max=MAX_PASSWORD),
)


class PageForm(FlaskForm):
    """Base: no per-form CSRF field (the global check covers it); domain refusals land on fields."""

    class Meta:
        csrf = False

    def add_error(self, exc, lang: str = "zh") -> None:
        """Show a domain refusal under its field (or at the top when it names none)."""
        name = getattr(exc, "field", None)
        target = self._fields.get(name) if name else None
        if target is None:
            self.form_errors.append(exc.message(lang))
        else:
            target.errors = [*target.errors, exc.message(lang)]


def _lang() -> str:
    return getattr(g, "lang", "zh")


def cell_choices(cells: list[GridCell]) -> list[tuple[int, str]]:
    """Select options for cells, indented by level: "　平岗村 (PG01)"."""
    indent = {"town": "", "village": "\u3000", "group": "\u3000\u3000"}
    return [(c.id, f"{indent.get(c.level, '')}{c.name} ({c.code})") for c in cells]


def user_choices(users: list[User]) -> list[tuple[int, str]]:
    """Select options for users: name, login and role, disabled ones marked."""
    lang = _lang()
    off = f" — {_('disabled')}"
    return [
        (
            u.id,
            f"{u.display_name} ({u.username}, {vocab.label(vocab.ROLES, u.role, lang)})"
            + ("" if u.active else off),
        )
        for u in users
    ]


class UserForm(PageForm):
    """Edit a user: name, phone, role, cells, 执法证, active, and optionally a new password."""

    display_name = StringField(
        _l("Display name"), [InputRequired(_l("Enter a name.")), Length(max=64)]
    )
    phone = StringField(_l("Phone"), [Optional(), Length(max=32)])
    role = SelectField(_l("Role"), validate_choice=False)
    cell_ids = SelectMultipleField(_l("Grid cells"), coerce=int, validate_choice=False)
    cert_number = StringField(_l("Certificate no."), [Optional(), Length(max=64)])
    cert_expires_on = DateField(_l("Certificate valid until"), [Optional()])
    active = BooleanField(_l("Active (may log in)"), default=True)
    password = PasswordField(_l("New password"), [Optional(), _PASSWORD_LENGTH])

    def set_choices(self, cells: list[GridCell]) -> None:
        """Fill the role and cell options (in the UI language)."""
        lang = _lang()
        self.role.choices = [(key, vocab.label(vocab.ROLES, key, lang)) for key in vocab.ROLES]
        self.cell_ids.choices = cell_choices(cells)

    def user_data(self) -> UserData:
        """The entered values for users.create_user / users.update_user."""
        return UserData(
            display_name=self.display_name.data or "",
            role=self.role.data or "",
            phone=self.phone.data or None,
            cell_ids=list(self.cell_ids.data or []),
            cert_number=self.cert_number.data or None,
            cert_expires_on=self.cert_expires_on.data,
            active=bool(self.active.data),
            password=self.password.data or None,
        )

    @staticmethod
    def initial(user: User) -> dict:
        """The form's values for an existing user."""
        return {
            "display_name": user.display_name,
            "phone": user.phone,
            "role": user.role,
            "cell_ids": [c.id for c in user.cells],
            "cert_number": user.cert_number,
            "cert_expires_on": user.cert_expires_on,
            "active": bool(user.active),
        }


class NewUserForm(UserForm):
    """Create a user: also the login name, and a password is required."""

    username = StringField(_l("Login"), [InputRequired(_l("Enter a login.")), Length(max=64)])
    password = PasswordField(
        _l("Password"), [InputRequired(_l("Enter a password.")), _PASSWORD_LENGTH]
    )


class PasswordForm(PageForm):
    """Change one's own password: the current one, and the new one twice."""

    old_password = PasswordField(
        _l("Current password"), [InputRequired(_l("Enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"), [InputRequired(_l("Enter a new password.")), _PASSWORD_LENGTH]
    )
    new_password2 = PasswordField(
        _l("New password again"),
        [
            InputRequired(_l("Enter the new password again.")),
            EqualTo("new_password", _l("The two new passwords differ.")),
        ],
    )


class GridCellForm(PageForm):
    """Edit a cell: its name and the users responsible for it (boundaries come from import-grid)."""

    name = StringField(_l("Name"), [InputRequired(_l("Enter the cell's name.")), Length(max=100)])
    member_ids = SelectMultipleField(_l("Responsible users"), coerce=int, validate_choice=False)
